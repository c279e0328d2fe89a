/** What the delegate's sitting view derives from the state, free of Svelte (docs/WEBAPP.md). */
import type { Item, Speaker } from '$lib/realtime/types';

export interface Node {
  item: Item;
  depth: number;
  children: Node[];
}

/** The agenda as a tree (parents before children, by position). */
export function agendaTree(items: Item[]): Node[] {
  const byParent = new Map<number | null, Item[]>();
  const ids = new Set(items.map((i) => i.id));
  for (const item of items) {
    const parent = item.parent_id !== null && ids.has(item.parent_id) ? item.parent_id : null;
    const list = byParent.get(parent) ?? [];
    list.push(item);
    byParent.set(parent, list);
  }
  const build = (parent: number | null, depth: number): Node[] =>
    (byParent.get(parent) ?? [])
      .sort((a, b) => a.position - b.position)
      .map((item) => ({ item, depth, children: build(item.id, depth + 1) }));
  return build(null, 0);
}

export interface Queue {
  speaking: Speaker | null;
  waiting: Speaker[];
  /** my active request (waiting or speaking) */
  mine: Speaker | null;
  /** 1-based place among those waiting, or null */
  myPlace: number | null;
}

export function queueOf(speakers: Speaker[] | undefined, userId: number | null): Queue {
  const list = [...(speakers ?? [])].sort((a, b) => a.position - b.position);
  const speaking = list.find((s) => s.status === 'speaking') ?? null;
  const waiting = list.filter((s) => s.status === 'waiting');
  const mine =
    userId === null
      ? null
      : (list.find((s) => s.user_id === userId && (s.status === 'waiting' || s.status === 'speaking')) ??
        null);
  const index = mine ? waiting.findIndex((s) => s.id === mine.id) : -1;
  return { speaking, waiting, mine, myPlace: index >= 0 ? index + 1 : null };
}

/** Speech clock in whole seconds by the server's clock: elapsed, and left when limited. */
export function speechClock(
  speaker: Speaker,
  nowMs: number,
): { elapsed: number; left: number | null } {
  const started = speaker.started_at ? Date.parse(speaker.started_at) : nowMs;
  const elapsed = Math.max(0, Math.floor((nowMs - started) / 1000));
  const left = speaker.time_limit_s ? speaker.time_limit_s - elapsed : null;
  return { elapsed, left };
}

/** "m:ss" (or "h:mm:ss") for a number of seconds. */
export function duration(seconds: number): string {
  const s = Math.abs(Math.trunc(seconds));
  const h = Math.floor(s / 3600);
  const mm = Math.floor((s % 3600) / 60);
  const ss = String(s % 60).padStart(2, '0');
  return h ? `${h}:${String(mm).padStart(2, '0')}:${ss}` : `${mm}:${ss}`;
}
