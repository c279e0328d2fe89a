// The chair's console, the parts that are not UI (docs/WEBAPP.md, "The chair's console"):
// roster filtering and paging, who has not voted, the speaking clock, reordering, poll payloads.
// Plain TypeScript with no Svelte import, so Vitest checks it without a browser.

export type AttendanceValue = 'unknown' | 'present' | 'absent' | 'excused';

export interface RosterRow {
  user_id: number;
  name: string;
  username: string;
  voting: boolean;
  attendance: string;
  checked_in_at?: string | null;
  recorded_how?: string;
}

export interface SpeakerRow {
  id: number;
  item_id: number;
  user_id: number;
  name: string;
  status: string;
  position: number;
  requested_at?: string | null;
  started_at: string | null;
  stopped_at?: string | null;
  time_limit_s: number | null;
}

/** Lower case without diacritics, so "nguyen van" finds "Nguyễn Văn" (đ too). */
export function fold(text: string): string {
  return text
    .normalize('NFD')
    .replace(/[\u0300-\u036f]/g, '')
    .replace(/đ/g, 'd')
    .replace(/Đ/g, 'D')
    .toLowerCase()
    .trim();
}

export type RosterFilter = 'all' | 'present' | 'absent' | 'excused' | 'unknown' | 'online' | 'offline';

/** Rows matching a name/username query and a filter; every word of the query must match. */
export function filterRoster<T extends RosterRow>(
  rows: readonly T[],
  query: string,
  filter: RosterFilter = 'all',
  online: (userId: number) => boolean = () => false,
): T[] {
  const words = fold(query).split(/\s+/).filter(Boolean);
  return rows.filter((row) => {
    if (filter === 'online' && !online(row.user_id)) return false;
    if (filter === 'offline' && online(row.user_id)) return false;
    if (filter !== 'all' && filter !== 'online' && filter !== 'offline' && row.attendance !== filter) {
      return false;
    }
    if (!words.length) return true;
    const hay = `${fold(row.name)} ${fold(row.username)}`;
    return words.every((w) => hay.includes(w));
  });
}

export interface Page<T> {
  items: T[];
  page: number; // 0-based, clamped
  pages: number; // at least 1
  from: number; // 1-based index of the first item shown (0 when empty)
  to: number;
  total: number;
}

/** One page of a long list: the console never renders a 2,000-member roster at once. */
export function paginate<T>(rows: readonly T[], page: number, size: number): Page<T> {
  const pages = Math.max(1, Math.ceil(rows.length / size));
  const p = Math.min(Math.max(0, page), pages - 1);
  const items = rows.slice(p * size, p * size + size);
  return {
    items,
    page: p,
    pages,
    from: items.length ? p * size + 1 : 0,
    to: p * size + items.length,
    total: rows.length,
  };
}

const collator = (locale: string) => new Intl.Collator(locale === 'en' ? 'en-GB' : 'vi-VN');

/** Present voting participants who have not voted yet, sorted by name in the locale. */
export function notVoted<T extends RosterRow>(
  participants: readonly T[],
  voters: readonly number[] | undefined,
  locale = 'vi',
): T[] {
  const done = new Set(voters ?? []);
  const cmp = collator(locale);
  return participants
    .filter((p) => p.voting && p.attendance === 'present' && !done.has(p.user_id))
    .sort((a, b) => cmp.compare(a.name, b.name));
}

/** The speaking clock on the server's time: elapsed and remaining whole seconds. */
export function speakingClock(
  speaker: Pick<SpeakerRow, 'started_at' | 'time_limit_s'>,
  nowMs: number,
): { elapsed: number; remaining: number | null; over: boolean } {
  const started = speaker.started_at ? Date.parse(speaker.started_at) : nowMs;
  const elapsed = Math.max(0, Math.floor((nowMs - started) / 1000));
  if (speaker.time_limit_s == null) return { elapsed, remaining: null, over: false };
  const remaining = speaker.time_limit_s - elapsed;
  return { elapsed, remaining, over: remaining < 0 };
}

/** m:ss (or h:mm:ss) of a number of seconds, sign dropped. */
export function clock(seconds: number): string {
  const s = Math.abs(Math.trunc(seconds));
  const h = Math.floor(s / 3600);
  const mm = Math.floor((s % 3600) / 60);
  const ss = String(s % 60).padStart(2, '0');
  return h ? `${h}:${String(mm).padStart(2, '0')}:${ss}` : `${mm}:${ss}`;
}

/** The waiting list of an item in its order. */
export function waiting<T extends SpeakerRow>(speakers: readonly T[] | undefined): T[] {
  return (speakers ?? [])
    .filter((s) => s.status === 'waiting')
    .sort((a, b) => a.position - b.position || a.id - b.id);
}

export function speaking<T extends SpeakerRow>(speakers: readonly T[] | undefined): T | undefined {
  return (speakers ?? []).find((s) => s.status === 'speaking');
}

/** The ids after moving the entry at `from` to `to` (both clamped); same order when equal. */
export function moveId(ids: readonly number[], from: number, to: number): number[] {
  const out = [...ids];
  if (from < 0 || from >= out.length) return out;
  const target = Math.min(Math.max(0, to), out.length - 1);
  const [moved] = out.splice(from, 1);
  out.splice(target, 0, moved as number);
  return out;
}

/** Where a dragged row lands: how many of the *other* rows' middles lie above the pointer's `y`
 *  (0 … middles.length), the index to insert at once the dragged row is taken out. */
export function slotAt(y: number, middles: readonly number[]): number {
  return middles.filter((middle) => y > middle).length;
}

export interface Item {
  id: number;
  parent_id: number | null;
  number: string;
  title: string;
  status: string;
  position: number;
}

/** The agenda in reading order (the server sends it numbered; sort by number to be safe). */
export function agendaOrder(items: readonly Item[]): Item[] {
  const key = (n: string) => n.split('.').map((x) => x.padStart(4, '0')).join('.');
  return [...items].sort((a, b) => (key(a.number) < key(b.number) ? -1 : key(a.number) > key(b.number) ? 1 : 0));
}

/** The items before and after the current one (the first item when none is current). */
export function neighbours(items: readonly Item[], currentId: number | null | undefined) {
  const order = agendaOrder(items);
  const at = order.findIndex((i) => i.id === currentId);
  if (at < 0) return { previous: undefined, next: order[0] };
  return { previous: order[at - 1], next: order[at + 1] };
}

export type PollKind = 'motion' | 'election' | 'confidence';
export type Preset = 'simple' | 'absolute' | 'two_thirds' | 'two_thirds_members' | 'three_quarters';

export interface PollDraft {
  kind: PollKind;
  title: string;
  description: string;
  secret: boolean;
  majorityMode: 'default' | Preset | 'custom';
  fraction: string;
  comparison: 'gt' | 'ge';
  base: 'votes_cast' | 'valid_votes' | 'present' | 'members';
  allowChange: boolean;
  allowAbstain: boolean;
  showRunning: boolean;
  durationMin: string; // minutes, blank for none
  candidates: string; // one per line
  seats: number;
  maxChoices: string; // blank: as many as seats
  officeholders: string; // one per line
}

export function emptyDraft(kind: PollKind = 'motion'): PollDraft {
  return {
    kind,
    title: '',
    description: '',
    secret: kind !== 'motion',
    majorityMode: 'default',
    fraction: '1/2',
    comparison: 'gt',
    base: 'votes_cast',
    allowChange: false,
    allowAbstain: kind !== 'confidence',
    showRunning: false,
    durationMin: '',
    candidates: '',
    seats: 1,
    maxChoices: '',
    officeholders: '',
  };
}

export const lines = (text: string): string[] =>
  text
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean);

export type DraftProblem =
  | 'title'
  | 'candidates'
  | 'officeholders'
  | 'fraction'
  | 'seats'
  | 'max_choices'
  | 'duration'
  | 'duplicate';

/** What is wrong with a draft before it is sent (the server checks again). */
export function draftProblems(d: PollDraft): DraftProblem[] {
  const out: DraftProblem[] = [];
  if (!d.title.trim()) out.push('title');
  if (d.kind === 'election') {
    const c = lines(d.candidates);
    if (!c.length) out.push('candidates');
    if (new Set(c).size !== c.length) out.push('duplicate');
    if (!(d.seats >= 1 && d.seats <= 200)) out.push('seats');
    if (d.maxChoices.trim() && !/^\d{1,3}$/.test(d.maxChoices.trim())) out.push('max_choices');
  }
  if (d.kind === 'confidence') {
    const o = lines(d.officeholders);
    if (!o.length) out.push('officeholders');
    if (new Set(o).size !== o.length) out.push('duplicate');
  }
  if (d.majorityMode === 'custom') {
    const m = /^(\d{1,3})\/(\d{1,3})$/.exec(d.fraction.trim());
    if (!m || Number(m[2]) === 0 || Number(m[1]) > Number(m[2])) out.push('fraction');
  }
  if (d.durationMin.trim()) {
    const n = Number(d.durationMin.replace(',', '.'));
    if (!(n > 0 && n * 60 <= 86400)) out.push('duration');
  }
  return out;
}

/** The `poll.create` payload of a draft, attached to an agenda item. */
export function pollPayload(
  d: PollDraft,
  meetingId: number,
  itemId: number | null | undefined,
): Record<string, unknown> {
  const out: Record<string, unknown> = {
    meeting_id: meetingId,
    kind: d.kind,
    title: d.title.trim(),
    secret: d.secret,
    allow_change: d.allowChange,
  };
  if (d.description.trim()) out.description = d.description.trim();
  if (itemId != null) out.agenda_item_id = itemId;
  if (d.kind !== 'confidence') out.allow_abstain = d.allowAbstain;
  if (!d.secret && d.showRunning) out.show_running = true;
  if (d.majorityMode === 'custom') {
    out.majority = { fraction: d.fraction.trim(), comparison: d.comparison, base: d.base };
  } else if (d.majorityMode !== 'default') {
    out.majority = d.majorityMode;
  }
  if (d.durationMin.trim()) {
    out.duration_s = Math.round(Number(d.durationMin.replace(',', '.')) * 60);
  }
  if (d.kind === 'election') {
    out.candidates = lines(d.candidates);
    out.seats = d.seats;
    if (d.maxChoices.trim()) out.max_choices = Number(d.maxChoices.trim());
  }
  if (d.kind === 'confidence') out.officeholders = lines(d.officeholders);
  return out;
}
