import { describe, expect, it } from 'vitest';
import {
  agendaOrder,
  clock,
  draftProblems,
  emptyDraft,
  filterRoster,
  moveId,
  neighbours,
  notVoted,
  paginate,
  pollPayload,
  slotAt,
  speakingClock,
  waiting,
  type RosterRow,
} from './logic';

const row = (user_id: number, name: string, attendance = 'present', voting = true): RosterRow => ({
  user_id,
  name,
  username: `delegate${String(user_id).padStart(3, '0')}`,
  voting,
  attendance,
});

describe('roster', () => {
  const rows = [row(1, 'Nguyễn Văn An'), row(2, 'Đặng Thị Hà', 'absent'), row(3, 'Lê Minh Đức', 'unknown')];

  it('finds names without diacritics, every word', () => {
    expect(filterRoster(rows, 'nguyen an').map((r) => r.user_id)).toEqual([1]);
    expect(filterRoster(rows, 'dang ha').map((r) => r.user_id)).toEqual([2]);
    expect(filterRoster(rows, 'DUC').map((r) => r.user_id)).toEqual([3]);
    expect(filterRoster(rows, 'delegate002').map((r) => r.user_id)).toEqual([2]);
    expect(filterRoster(rows, 'an duc')).toEqual([]);
  });

  it('filters by attendance and by device', () => {
    expect(filterRoster(rows, '', 'absent').map((r) => r.user_id)).toEqual([2]);
    expect(filterRoster(rows, '', 'online', (id) => id === 3).map((r) => r.user_id)).toEqual([3]);
    expect(filterRoster(rows, '', 'offline', (id) => id === 3).map((r) => r.user_id)).toEqual([1, 2]);
  });

  it('pages a 2,000-member roster 25 at a time, clamped', () => {
    const big = Array.from({ length: 2000 }, (_, i) => i);
    const first = paginate(big, 0, 25);
    expect(first.items).toHaveLength(25);
    expect([first.from, first.to, first.pages]).toEqual([1, 25, 80]);
    const past = paginate(big, 99, 25);
    expect([past.page, past.from, past.to]).toEqual([79, 1976, 2000]);
    expect(paginate([], 3, 25)).toMatchObject({ page: 0, pages: 1, from: 0, to: 0, total: 0 });
  });
});

describe('who has not voted', () => {
  it('lists present voting members without a ballot, sorted by name', () => {
    const rows = [row(4, 'Trần B'), row(1, 'Lê A'), row(2, 'Võ C', 'absent'), row(3, 'Thư ký', 'present', false), row(5, 'Bùi D')];
    expect(notVoted(rows, [4]).map((r) => r.name)).toEqual(['Bùi D', 'Lê A']);
    expect(notVoted(rows, undefined).map((r) => r.user_id)).toEqual([5, 1, 4]);
  });
});

describe('speaking clock', () => {
  const start = Date.parse('2026-12-01T09:00:00.000Z');
  it('counts down on the server clock and says when over', () => {
    const s = { started_at: '2026-12-01T09:00:00.000Z', time_limit_s: 180 };
    expect(speakingClock(s, start + 60_500)).toEqual({ elapsed: 60, remaining: 120, over: false });
    expect(speakingClock(s, start + 200_000)).toEqual({ elapsed: 200, remaining: -20, over: true });
    expect(speakingClock({ ...s, time_limit_s: null }, start + 5_000)).toEqual({ elapsed: 5, remaining: null, over: false });
    expect(clock(-20)).toBe('0:20');
    expect(clock(3725)).toBe('1:02:05');
  });
});

describe('reordering', () => {
  it('moves one id', () => {
    expect(moveId([1, 2, 3, 4], 0, 2)).toEqual([2, 3, 1, 4]);
    expect(moveId([1, 2, 3, 4], 3, 0)).toEqual([4, 1, 2, 3]);
    expect(moveId([1, 2, 3], 1, 9)).toEqual([1, 3, 2]);
    expect(moveId([1, 2, 3], 5, 0)).toEqual([1, 2, 3]);
  });
  it('finds the slot under the pointer among the other rows', () => {
    expect(slotAt(10, [50, 100, 150])).toBe(0);
    expect(slotAt(120, [50, 100, 150])).toBe(2);
    expect(slotAt(500, [50, 100, 150])).toBe(3);
  });
  it('keeps the waiting list in position order', () => {
    const sp = (id: number, position: number, status = 'waiting') => ({
      id, item_id: 1, user_id: id, name: String(id), status, position, started_at: null, time_limit_s: null,
    });
    expect(waiting([sp(1, 3), sp(2, 1), sp(3, 2, 'done')]).map((s) => s.id)).toEqual([2, 1]);
  });
});

describe('agenda', () => {
  const item = (id: number, number: string) => ({ id, parent_id: null, number, title: `T${id}`, status: 'pending', position: 0 });
  it('orders 1, 2, 10 and 1.1 by number and finds the neighbours', () => {
    const items = [item(3, '10'), item(1, '1'), item(4, '1.1'), item(2, '2')];
    expect(agendaOrder(items).map((i) => i.id)).toEqual([1, 4, 2, 3]);
    expect(neighbours(items, 4)).toMatchObject({ previous: { id: 1 }, next: { id: 2 } });
    expect(neighbours(items, null)).toMatchObject({ previous: undefined, next: { id: 1 } });
  });
});

describe('poll payloads', () => {
  it('a secret motion with a custom majority and a time', () => {
    const d = { ...emptyDraft('motion'), title: ' Nghị quyết ', secret: true, majorityMode: 'custom' as const, fraction: '2/3', comparison: 'ge' as const, base: 'present' as const, durationMin: '1,5', showRunning: true };
    expect(draftProblems(d)).toEqual([]);
    expect(pollPayload(d, 7, 3)).toEqual({
      meeting_id: 7, kind: 'motion', title: 'Nghị quyết', secret: true, allow_change: false, agenda_item_id: 3,
      allow_abstain: true, majority: { fraction: '2/3', comparison: 'ge', base: 'present' }, duration_s: 90,
    });
  });
  it('an election with candidates and seats; a confidence vote with officeholders', () => {
    const e = { ...emptyDraft('election'), title: 'Bầu', candidates: 'A\n\n B \n', seats: 2, maxChoices: '2' };
    expect(pollPayload(e, 1, null)).toMatchObject({ kind: 'election', secret: true, candidates: ['A', 'B'], seats: 2, max_choices: 2 });
    const c = { ...emptyDraft('confidence'), title: 'Tín nhiệm', officeholders: 'X\nY', majorityMode: 'absolute' as const };
    const body = pollPayload(c, 1, 2);
    expect(body).toMatchObject({ kind: 'confidence', officeholders: ['X', 'Y'], majority: 'absolute' });
    expect(body).not.toHaveProperty('allow_abstain');
  });
  it('says what is missing', () => {
    expect(draftProblems(emptyDraft('election'))).toEqual(['title', 'candidates']);
    expect(draftProblems({ ...emptyDraft('motion'), title: 'x', majorityMode: 'custom', fraction: '3/2' })).toEqual(['fraction']);
    expect(draftProblems({ ...emptyDraft('confidence'), title: 'x', officeholders: 'A\nA' })).toEqual(['duplicate']);
    expect(draftProblems({ ...emptyDraft('motion'), title: 'x', durationMin: '2000' })).toEqual(['duration']);
  });
});
