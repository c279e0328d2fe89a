import { describe, expect, it } from 'vitest';
import type { Poll, SittingState, Speaker } from '$lib/realtime/types';
import { bars, clock, countdown, langParam, received, stage } from './logic';

const T0 = Date.parse('2026-12-06T09:00:00Z');
const speaker = (over: Partial<Speaker> = {}): Speaker => ({
  id: 1, item_id: 10, user_id: 5, name: 'Đại biểu A', status: 'speaking', position: 1,
  requested_at: null, started_at: '2026-12-06T09:00:00Z', stopped_at: null, time_limit_s: 35, ...over,
});
const poll = (over: Partial<Poll>): Poll => ({
  id: 1, meeting_id: 1, agenda_item_id: null, title: 'P', description: '', kind: 'motion', secret: false,
  spec: {}, show_running: false, duration_s: null, status: 'draft', opened_at: null, closes_at: null,
  closed_at: null, published_at: null, cancelled_at: null, cancel_reason: null, ...over,
});
const state = (over: Partial<SittingState>): SittingState => ({
  meeting: { id: 1, council_id: 1, title: 'M', session_name: 'S', location: '', starts_at: null, status: 'open',
    current_item_id: 10, seq: 1, quorum_rule: { num: 1, den: 2, strict: true }, opened_at: null, closed_at: null },
  quorum: { present: 4, total: 7, needed: 4, met: true }, agenda: [], speakers: {}, documents: [], polls: {},
  myBallots: {}, seq: 1, serverTime: '', ...over,
});

describe('countdown', () => {
  it('counts down, warns in the last 30 s, then counts over time', () => {
    expect(countdown(speaker(), T0 + 4_000)).toEqual({ phase: 'normal', seconds: 31, limit: 35 });
    expect(countdown(speaker(), T0 + 5_000)).toEqual({ phase: 'warning', seconds: 30, limit: 35 });
    expect(countdown(speaker(), T0 + 35_000)).toEqual({ phase: 'warning', seconds: 0, limit: 35 });
    expect(countdown(speaker(), T0 + 47_500)).toEqual({ phase: 'over', seconds: 12, limit: 35 });
    expect(countdown(speaker({ time_limit_s: null }), T0 + 83_000)).toEqual({ phase: 'unlimited', seconds: 83 });
  });
  it('formats minutes and seconds', () => {
    expect(clock(25)).toBe('0:25');
    expect(clock(125)).toBe('2:05');
    expect(clock(3725)).toBe('1:02:05');
  });
});

describe('stage', () => {
  it('puts an open poll first, then the speaker, then the last closed or published poll', () => {
    const sp = { 10: [speaker()] };
    const open = poll({ id: 2, status: 'open', opened_at: '2026-12-06T09:01:00Z' });
    expect(stage(state({ speakers: sp, polls: { 2: open } })).kind).toBe('poll_open');
    expect(stage(state({ speakers: sp })).kind).toBe('speaker');
    const closed = poll({ id: 3, status: 'closed', closed_at: '2026-12-06T09:05:00Z' });
    expect(stage(state({ polls: { 3: closed } })).kind).toBe('poll_closed');
    const result = { outcome: 'adopted', ballots: 3, abstentions: 0, counts: [], rule: {}, rule_text: '',
      base_size: 3, threshold: 2, present: 4, members: 7 };
    const done = poll({ id: 3, status: 'published', agenda_item_id: 10, closed_at: '2026-12-06T09:05:00Z',
      published_at: '2026-12-06T09:06:00Z', result });
    expect(stage(state({ polls: { 3: done } })).kind).toBe('result');
    // once the sitting moves to another item, that item's result leaves the screen
    const moved = state({ polls: { 3: done } });
    moved.meeting = { ...moved.meeting, current_item_id: 11 };
    expect(stage(moved).kind).toBe('idle');
  });
  it('counts ballots from the live update, else from the snapshot', () => {
    const p = poll({ status: 'open', voted: 2 });
    expect(received(p, undefined, 5)).toEqual({ voted: 2, present: 5 });
    expect(received(p, { voted: 3, present: 6, members: 7 }, 5)).toEqual({ voted: 3, present: 6 });
  });
});

describe('bars', () => {
  it('gives shares of the rule base and marks the winning option', () => {
    const rows = bars({ outcome: 'adopted', ballots: 4, abstentions: 1, rule: { base: 'votes_cast' }, rule_text: '',
      base_size: 4, threshold: 3, present: 5, members: 7,
      counts: [{ option: 'yes', value: 3 }, { option: 'no', value: 0 }, { option: 'abstain', value: 1 }] });
    expect(rows.map((r) => [r.option, r.share, r.winning])).toEqual([
      ['yes', 0.75, true], ['no', 0, false], ['abstain', 0.25, false],
    ]);
  });
});

describe('langParam', () => {
  it('accepts only known locales', () => {
    expect(langParam('?lang=en&kiosk=1', ['vi', 'en'])).toBe('en');
    expect(langParam('?lang=fr', ['vi', 'en'])).toBeNull();
    expect(langParam('', ['vi', 'en'])).toBeNull();
  });
});
