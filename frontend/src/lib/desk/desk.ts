/**
 * The secretariat desk's plain logic (docs/WEBAPP.md, "Secretariat desk"): who has a desk,
 * searching members, date and time fields, the month grid of the calendar, the CSV of new
 * accounts. No Svelte here: tested by Vitest.
 */
import type { User } from '$lib/session.svelte';
import type { Meeting, Member, NewAccount } from './types';

/** Whether the user keeps the secretariat of some council (or is an administrator). */
export function hasDesk(user: User | null): boolean {
  if (!user) return false;
  return user.is_admin || Object.values(user.roles).includes('secretary');
}

/** Councils whose desk the user keeps. */
export function keepsCouncil(user: User | null, councilId: number): boolean {
  if (!user) return false;
  return user.is_admin || user.roles[String(councilId)] === 'secretary';
}

/** Lower case without Vietnamese diacritics: "Nguyễn Đức" → "nguyen duc". */
export function fold(text: string): string {
  return text
    .toLowerCase()
    .replace(/đ/g, 'd')
    .normalize('NFD')
    .replace(/[\u0300-\u036f]/g, '')
    .replace(/\s+/g, ' ')
    .trim();
}

/** Members whose name, username, title or email holds every word of `query`. */
export function searchMembers(members: Member[], query: string): Member[] {
  const words = fold(query).split(' ').filter(Boolean);
  if (words.length === 0) return members;
  return members.filter((member) => {
    const hay = fold([member.name, member.username, member.title, member.email ?? ''].join(' '));
    return words.every((w) => hay.includes(w));
  });
}

function pad(n: number): string {
  return String(n).padStart(2, '0');
}

/** A local day's key, `YYYY-MM-DD`. */
export function dayKey(date: Date): string {
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}`;
}

/** The date and time inputs' values (local time) of an ISO instant. */
export function toFields(iso: string | null): { date: string; time: string } {
  if (!iso) return { date: '', time: '' };
  const at = new Date(iso);
  return { date: dayKey(at), time: `${pad(at.getHours())}:${pad(at.getMinutes())}` };
}

/** The ISO instant of a local date and time (time defaults to 08:00); null without a date. */
export function fromFields(date: string, time: string): string | null {
  if (!date) return null;
  const [y = 0, mo = 1, d = 1] = date.split('-').map(Number);
  const [h = 8, mi = 0] = (time || '08:00').split(':').map(Number);
  return new Date(y, mo - 1, d, h, mi).toISOString();
}

export interface Day {
  key: string;
  date: Date;
  inMonth: boolean;
}

export interface Week {
  key: string;
  days: Day[];
}

/** The weeks (Monday first, as in Việt Nam) that show `month` (0–11) of `year`. */
export function monthGrid(year: number, month: number): Week[] {
  const first = new Date(year, month, 1);
  const offset = (first.getDay() + 6) % 7; // Monday = 0
  const start = new Date(year, month, 1 - offset);
  const weeks: Week[] = [];
  for (let w = 0; w < 6; w++) {
    const week: Day[] = [];
    for (let d = 0; d < 7; d++) {
      const date = new Date(start.getFullYear(), start.getMonth(), start.getDate() + w * 7 + d);
      week.push({ key: dayKey(date), date, inMonth: date.getMonth() === month });
    }
    if (w > 3 && !week.some((x) => x.inMonth)) break;
    weeks.push({ key: week[0]?.key ?? String(w), days: week });
  }
  return weeks;
}

/** Meetings with a time, by local day, each day's in time order. */
export function byDay(meetings: Meeting[]): Map<string, Meeting[]> {
  const out = new Map<string, Meeting[]>();
  const timed = meetings.filter((x) => x.starts_at);
  timed.sort((a, b) => Date.parse(a.starts_at!) - Date.parse(b.starts_at!));
  for (const meeting of timed) {
    const key = dayKey(new Date(meeting.starts_at!));
    out.set(key, [...(out.get(key) ?? []), meeting]);
  }
  return out;
}

function csvCell(value: string): string {
  return /[",\r\n;]/.test(value) ? `"${value.replace(/"/g, '""')}"` : value;
}

/** The new accounts as CSV (UTF-8 with a BOM, so Excel reads the diacritics). */
export function accountsCsv(accounts: NewAccount[], header: string[]): string {
  const lines = [header, ...accounts.map((a) => [a.name, a.username, a.password])];
  return '\ufeff' + lines.map((line) => line.map(csvCell).join(',')).join('\r\n') + '\r\n';
}
