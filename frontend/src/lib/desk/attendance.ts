/** The attendance page's counts (docs/WEBAPP.md, "The secretariat's meeting pages"). */
import type { Participant } from '$lib/realtime/types';

export interface AttendanceCounts {
  present: number;
  absent: number;
  excused: number;
  unknown: number;
}

export function attendanceCounts(people: readonly Participant[]): AttendanceCounts {
  const out: AttendanceCounts = { present: 0, absent: 0, excused: 0, unknown: 0 };
  for (const p of people) {
    const key = p.attendance in out ? (p.attendance as keyof AttendanceCounts) : 'unknown';
    out[key] += 1;
  }
  return out;
}

/** Who checked in from their own tablet, latest first. */
export function selfCheckIns(people: readonly Participant[]): Participant[] {
  return people
    .filter((p) => p.attendance === 'present' && p.recorded_how === 'self')
    .sort((a, b) => (b.checked_in_at ?? '').localeCompare(a.checked_in_at ?? ''));
}
