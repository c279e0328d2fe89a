import { describe, expect, it } from 'vitest';
import { changedSinceAnnotated } from './carried';
import { emptyDraft, type Annotation } from './types';

function carried(reanchor: Annotation['reanchor'], extra: Partial<Annotation> = {}): Annotation {
  return {
    ...emptyDraft(12, 'highlight', 2),
    user_id: 1,
    document_id: 7,
    version: 1,
    deleted: false,
    status: 'anchored',
    carried_from: 'old-id',
    cursor: 1,
    created_at: '',
    updated_at: '',
    reanchor,
    ...extra,
  };
}

describe('changed since you annotated', () => {
  it('flags a quote moved within its own page', () => {
    expect(changedSinceAnnotated(carried({ method: 'exact', score: 1, from_page: 2, moved: true }))).toBe(true);
  });

  it('flags a quote on another page, or found only approximately', () => {
    expect(changedSinceAnnotated(carried({ method: 'exact', score: 1, from_page: 1, moved: true }))).toBe(true);
    expect(changedSinceAnnotated(carried({ method: 'exact', score: 1, from_page: 1 }))).toBe(true);
    expect(changedSinceAnnotated(carried({ method: 'fuzzy', score: 0.8, from_page: 2, moved: false }))).toBe(true);
    expect(changedSinceAnnotated(carried({ method: 'normalized', score: 0.9, from_page: 2, moved: false }))).toBe(true);
  });

  it('does not flag a quote found exactly where it was, nor what was not carried', () => {
    expect(changedSinceAnnotated(carried({ method: 'exact', score: 1, from_page: 2, moved: false }))).toBe(false);
    expect(changedSinceAnnotated(carried(null))).toBe(false);
    expect(changedSinceAnnotated(carried({ method: 'exact', score: 1, from_page: 2, moved: true }, { carried_from: null }))).toBe(false);
    // unverified ones say "check" instead; orphans are listed apart
    expect(changedSinceAnnotated(carried({ method: 'exact', score: 1, from_page: 1, moved: true }, { status: 'unverified' }))).toBe(false);
  });
});
