import { describe, expect, it } from 'vitest';
import type { Poll } from '$lib/realtime/types';
import {
  afterAck,
  castPayload,
  choiceOf,
  emptyDraft,
  phaseFromState,
  pollToShow,
  prepareSend,
  readKept,
  specOf,
  toggleCandidate,
  writeKept,
  type KeepStore,
} from './logic';

function poll(over: Partial<Poll> = {}, spec: Record<string, unknown> = {}): Poll {
  return {
    id: 7, meeting_id: 1, agenda_item_id: null, title: 'P', description: '', kind: 'motion',
    secret: false, show_running: false, duration_s: null, status: 'open', opened_at: '2026-01-01T00:00:00Z',
    closes_at: null, closed_at: null, published_at: null, cancelled_at: null, cancel_reason: null,
    spec: { kind: over.kind ?? 'motion', allow_abstain: true, allow_change: false, ...spec },
    ...over,
  };
}

class Memory implements KeepStore {
  data = new Map<string, string>();
  getItem(k: string) { return this.data.get(k) ?? null; }
  setItem(k: string, v: string) { this.data.set(k, v); }
  removeItem(k: string) { this.data.delete(k); }
}

describe('ballot logic', () => {
  it('a motion without abstain refuses abstain', () => {
    const spec = specOf(poll({}, { allow_abstain: false }));
    expect(choiceOf(spec, { ...emptyDraft(), motion: 'abstain' })).toBeNull();
    expect(choiceOf(spec, { ...emptyDraft(), motion: 'yes' })).toBe('yes');
  });

  it('an election never goes beyond max_choices and sends in ballot order', () => {
    const spec = specOf(poll({ kind: 'election' }, { candidates: ['A', 'B', 'C'], seats: 2, max_choices: 2 }));
    let d = emptyDraft();
    for (const c of ['C', 'A', 'B']) d = toggleCandidate(spec, d, c);
    expect(d.election).toEqual(['C', 'A']);
    expect(choiceOf(spec, d)).toEqual(['A', 'C']);
  });

  it('a confidence ballot needs a level for everyone', () => {
    const spec = specOf(poll({ kind: 'confidence' }, { officeholders: ['X', 'Y'] }));
    expect(choiceOf(spec, { ...emptyDraft(), confidence: { X: 'high' } })).toBeNull();
    expect(choiceOf(spec, { ...emptyDraft(), confidence: { X: 'high', Y: 'low' } })).toEqual({ X: 'high', Y: 'low' });
  });

  it('a secret ballot keeps key, seed and receipt, not its content after the ack', () => {
    const p = poll({ secret: true }, { allow_change: true });
    const store = new Memory();
    const sent = prepareSend(p, 'no', {});
    expect(sent.key && sent.seed).toBeTruthy();
    expect(castPayload(p, sent)).toMatchObject({ poll_id: 7, choice: 'no', receipt_seed: sent.seed });
    const acked = afterAck(p, sent, { ok: true, receipt: 'AAAA-BBBB' }, '2026-01-01T00:00:01Z');
    writeKept(3, 7, acked, store);
    const kept = readKept(3, 7, store);
    expect(kept).toMatchObject({ acked: true, receipt: 'AAAA-BBBB' });
    expect(kept.choice).toBeUndefined();
    // changing: the new ballot names the receipt it replaces
    expect(castPayload(p, prepareSend(p, 'yes', kept)).replaces).toBe('AAAA-BBBB');
  });

  it('a replayed ack without a receipt keeps the one the device has', () => {
    const p = poll({ secret: true });
    const kept = afterAck(p, { key: 'k', receipt: 'R' }, { ok: true, receipt: null }, 't');
    expect(kept.receipt).toBe('R');
  });

  it('never offers a second ballot for a poll the server says I voted in', () => {
    expect(phaseFromState(poll(), { voted: true }, {}).phase).toBe('received');
    expect(phaseFromState(poll(), undefined, {}).phase).toBe('choosing');
    // confirmed before a reload, no ack known: ask again (the same key is reused)
    const again = phaseFromState(poll(), undefined, { key: 'k', choice: 'yes' });
    expect(again.phase).toBe('confirming');
    expect(again.draft.motion).toBe('yes');
    expect(phaseFromState(poll({ status: 'published' }), { voted: true }, {}).phase).toBe('result');
    expect(phaseFromState(poll({ status: 'cancelled' }), undefined, {}).phase).toBe('cancelled');
  });

  it('puts the newest open poll without my ballot in front', () => {
    const a = poll({ id: 1, opened_at: '2026-01-01T00:00:00Z' });
    const b = poll({ id: 2, opened_at: '2026-01-01T00:01:00Z' });
    expect(pollToShow({ 1: a, 2: b }, {})?.id).toBe(2);
    expect(pollToShow({ 1: a, 2: b }, { 2: { voted: true } })?.id).toBe(1);
    expect(pollToShow({ 1: { ...a, status: 'closed' } }, {})).toBeNull();
  });
});
