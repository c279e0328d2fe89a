import { describe, expect, it } from 'vitest';
import { inOrder } from './inOrder';

describe('inOrder', () => {
  it('drops an answer that comes after a later read was applied', () => {
    const reads = inOrder();
    const first = reads.begin();
    const second = reads.begin();
    expect(second()).toBe(true);
    expect(first()).toBe(false);
  });

  it('applies answers that come in the order their reads began', () => {
    const reads = inOrder();
    const first = reads.begin();
    const second = reads.begin();
    expect(first()).toBe(true);
    expect(second()).toBe(true);
    expect(reads.begin()()).toBe(true);
  });

  it('an earlier answer still applies when the later read failed and never answered', () => {
    const reads = inOrder();
    const first = reads.begin();
    reads.begin(); // its request failed: no answer
    expect(first()).toBe(true);
  });
});
