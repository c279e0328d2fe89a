import { describe, expect, it } from 'vitest';
import type { Participant } from '$lib/realtime/types';
import { attendanceCounts, selfCheckIns } from './attendance';

const p = (user_id: number, attendance: string, recorded_how = '', checked_in_at: string | null = null): Participant =>
  ({ user_id, name: `P${user_id}`, username: `p${user_id}`, voting: true, attendance, checked_in_at, recorded_how }) as Participant;

describe('attendance', () => {
  it('counts each state', () => {
    expect(attendanceCounts([p(1, 'present'), p(2, 'absent'), p(3, 'excused'), p(4, 'unknown'), p(5, 'present')])).toEqual({
      present: 2, absent: 1, excused: 1, unknown: 1,
    });
  });
  it('lists self check-ins, latest first, not those recorded by the secretariat', () => {
    const rows = [p(1, 'present', 'self', '2026-12-06T08:00:00.000Z'), p(2, 'present', 'secretariat', '2026-12-06T08:01:00.000Z'),
      p(3, 'present', 'self', '2026-12-06T08:02:00.000Z'), p(4, 'absent', 'self')];
    expect(selfCheckIns(rows).map((r) => r.user_id)).toEqual([3, 1]);
  });
});
