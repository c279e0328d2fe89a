import { describe, expect, it } from 'vitest';
import { accountsCsv, byDay, fold, fromFields, hasDesk, monthGrid, searchMembers, toFields } from './desk';
import type { Meeting, Member } from './types';

const member = (name: string, username: string): Member => ({
  id: 1,
  council_id: 1,
  user_id: 1,
  username,
  name,
  email: null,
  is_active: true,
  role: 'delegate',
  title: 'Đại biểu',
});

describe('desk', () => {
  it('knows who has a desk', () => {
    expect(hasDesk(null)).toBe(false);
    expect(hasDesk({ id: 1, username: 'a', name: 'A', is_admin: false, roles: { '1': 'delegate' } })).toBe(false);
    expect(hasDesk({ id: 1, username: 'a', name: 'A', is_admin: false, roles: { '1': 'secretary' } })).toBe(true);
    expect(hasDesk({ id: 1, username: 'a', name: 'A', is_admin: true, roles: {} })).toBe(true);
  });

  it('searches without diacritics', () => {
    expect(fold('  Nguyễn  Đức ')).toBe('nguyen duc');
    const list = [member('Nguyễn Văn Đức', 'duc.nv'), member('Trần Thị Hà', 'ha.tt')];
    expect(searchMembers(list, 'duc').map((x) => x.username)).toEqual(['duc.nv']);
    expect(searchMembers(list, 'TRAN ha').map((x) => x.username)).toEqual(['ha.tt']);
    expect(searchMembers(list, '')).toHaveLength(2);
  });

  it('round-trips date and time fields', () => {
    const iso = fromFields('2027-03-15', '08:30');
    expect(iso).not.toBeNull();
    expect(toFields(iso)).toEqual({ date: '2027-03-15', time: '08:30' });
    expect(fromFields('', '08:30')).toBeNull();
  });

  it('lays a month out in weeks from Monday', () => {
    const weeks = monthGrid(2027, 2); // March 2027 begins on a Monday
    expect(weeks[0]?.days[0]?.key).toBe('2027-03-01');
    expect(weeks.every((w) => w.days.length === 7)).toBe(true);
    expect(weeks.flatMap((w) => w.days).filter((d) => d.inMonth)).toHaveLength(31);
    const feb = monthGrid(2026, 1); // 1 February 2026 is a Sunday
    expect(feb[0]?.days[6]?.key).toBe('2026-02-01');
    expect(feb[0]?.days[0]?.inMonth).toBe(false);
  });

  it('groups meetings by day in time order', () => {
    const at = (h: number) => new Date(2027, 2, 15, h).toISOString();
    const meetings = [
      { id: 2, starts_at: at(14) },
      { id: 1, starts_at: at(8) },
      { id: 3, starts_at: null },
    ] as Meeting[];
    expect(byDay(meetings).get('2027-03-15')!.map((x) => x.id)).toEqual([1, 2]);
  });

  it('writes the accounts CSV with a BOM and quotes', () => {
    const text = accountsCsv([{ row: 2, name: 'Lê, Văn "A"', username: 'a', password: 'p' }], ['name', 'username', 'password']);
    expect(text.startsWith('\ufeffname,username,password\r\n')).toBe(true);
    expect(text).toContain('"Lê, Văn ""A""",a,p');
  });
});
