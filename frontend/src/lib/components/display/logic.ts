/**
 * The hall display's decisions, free of Svelte so they are tested on their own
 * (logic.test.ts): what the stage shows, the speaker's countdown, the result's bars.
 */
import type { Poll, PollResult, Progress, SittingState, Speaker } from '$lib/realtime/types';

/** The last seconds of a speaking time, when the display warns (shape and words). */
export const WARN_S = 30;

export type Countdown =
  | { phase: 'normal' | 'warning'; seconds: number; limit: number }
  | { phase: 'over'; seconds: number; limit: number }
  | { phase: 'unlimited'; seconds: number };

/** The speaker's time at `nowMs` (server clock): seconds left, over, or spoken so far. */
export function countdown(speaker: Speaker, nowMs: number): Countdown {
  const started = speaker.started_at ? Date.parse(speaker.started_at) : nowMs;
  const elapsed = Math.max(0, Math.floor((nowMs - started) / 1000));
  const limit = speaker.time_limit_s;
  if (!limit) return { phase: 'unlimited', seconds: elapsed };
  const left = limit - elapsed;
  if (left < 0) return { phase: 'over', seconds: -left, limit };
  return { phase: left <= WARN_S ? 'warning' : 'normal', seconds: left, limit };
}

/** 125 → "2:05"; an hour or more → "1:02:05". */
export function clock(total: number): string {
  const s = Math.max(0, Math.floor(total));
  const h = Math.floor(s / 3600);
  const mm = Math.floor((s % 3600) / 60);
  const ss = String(s % 60).padStart(2, '0');
  return h ? `${h}:${String(mm).padStart(2, '0')}:${ss}` : `${mm}:${ss}`;
}

export type Stage =
  | { kind: 'poll_open'; poll: Poll }
  | { kind: 'speaker'; speaker: Speaker }
  | { kind: 'poll_closed'; poll: Poll }
  | { kind: 'result'; poll: Poll }
  | { kind: 'idle' };

const at = (iso: string | null | undefined): number => (iso ? Date.parse(iso) : 0);

/** The speaker who has the floor (the server allows one at a time; the latest start wins). */
export function speaking(state: SittingState): Speaker | null {
  let found: Speaker | null = null;
  for (const list of Object.values(state.speakers)) {
    for (const sp of list) {
      if (sp.status === 'speaking' && (!found || at(sp.started_at) > at(found.started_at))) found = sp;
    }
  }
  return found;
}

/** The waiting list of the current item, in order. */
export function waiting(state: SittingState): Speaker[] {
  const id = state.meeting.current_item_id;
  if (id == null) return [];
  return (state.speakers[id] ?? [])
    .filter((sp) => sp.status === 'waiting')
    .sort((a, b) => a.position - b.position);
}

/**
 * What the big middle of the screen shows, most urgent first: a vote under way; the speaker
 * who has the floor; the last vote closed but not yet published; its published result while
 * the sitting is still on that vote's item (a result of no item stays until the next vote);
 * else nothing (the item and the waiting list).
 */
export function stage(state: SittingState): Stage {
  const polls = Object.values(state.polls);
  const open = polls
    .filter((p) => p.status === 'open')
    .sort((a, b) => at(b.opened_at) - at(a.opened_at))[0];
  if (open) return { kind: 'poll_open', poll: open };
  const speaker = speaking(state);
  if (speaker) return { kind: 'speaker', speaker };
  const last = polls
    .filter((p) => p.status === 'closed' || p.status === 'published')
    .sort((a, b) => lastChange(b) - lastChange(a))[0];
  if (last?.status === 'closed') return { kind: 'poll_closed', poll: last };
  if (last?.result) {
    const item = last.agenda_item_id;
    if (item == null || item === state.meeting.current_item_id) return { kind: 'result', poll: last };
  }
  return { kind: 'idle' };
}

function lastChange(p: Poll): number {
  return Math.max(at(p.closed_at), at(p.published_at), at(p.opened_at));
}

/** Ballots received so far and members present: the live update if any, else the snapshot. */
export function received(
  poll: Poll,
  progress: Progress | undefined,
  presentNow: number,
): { voted: number; present: number } {
  return {
    voted: progress?.voted ?? poll.voted ?? 0,
    present: progress?.present ?? presentNow,
  };
}

export interface Bar {
  option: string;
  count: number;
  /** share of the rule's base, 0..1 */
  share: number;
  /** the outcome rests on this option (motion: yes; election: an elected candidate) */
  winning: boolean;
}

/** One bar per counted option, as shares of the base the majority rule counts on. */
export function bars(result: PollResult): Bar[] {
  const base = result.base_size || result.ballots || 0;
  const elected = new Set(result.elected ?? []);
  return result.counts.map(({ option, value }) => ({
    option,
    count: value,
    share: base ? value / base : 0,
    winning:
      (option === 'yes' && result.outcome === 'adopted') || elected.has(option),
  }));
}

/** The base of the majority rule (`votes_cast`, `valid_votes`, `present`, `members`). */
export function baseOf(result: PollResult): string {
  const rule = result.rule as { base?: unknown } | null;
  return typeof rule?.base === 'string' ? rule.base : 'votes_cast';
}

export interface ConfidenceRow {
  officeholder: string;
  high: number;
  medium: number;
  low: number;
}

export function confidenceRows(result: PollResult): ConfidenceRow[] {
  const rows = Array.isArray(result.confidence) ? (result.confidence as ConfidenceRow[]) : [];
  return rows.map(({ officeholder, high, medium, low }) => ({ officeholder, high, medium, low }));
}

/** `?lang=en` for a hall screen with no keyboard; anything else is ignored. */
export function langParam(search: string, locales: readonly string[]): string | null {
  const lang = new URLSearchParams(search).get('lang');
  return lang && locales.includes(lang) ? lang : null;
}
