/**
 * The ballot's rules on the device, free of Svelte (docs/WEBAPP.md, "The delegate's tablet").
 *
 * What a tablet keeps per poll in localStorage (`quorum.ballot.<user>.<poll>`): the idempotency
 * key and receipt seed of the ballot being sent (so a reload or a reconnect resends the SAME
 * ballot, which the server answers once), the receipt of a secret ballot (my_ballots never
 * carries it), and when the server acknowledged it. The content of a secret ballot is dropped
 * from storage once the server has it: the receipt is enough to check the published list.
 */
import type { Choice, MyBallot, Poll } from '$lib/realtime/types';

export const YES = 'yes';
export const NO = 'no';
export const ABSTAIN = 'abstain';
export const LEVELS = ['high', 'medium', 'low'] as const;
export type Level = (typeof LEVELS)[number];

/** One state at a time (docs/WEBAPP.md): nothing else is ever shown together. */
export type Phase =
  | 'choosing'
  | 'confirming'
  | 'sending'
  | 'received'
  | 'closed'
  | 'result'
  | 'cancelled';

export interface Spec {
  kind: string;
  allowChange: boolean;
  allowAbstain: boolean;
  candidates: string[];
  seats: number;
  maxChoices: number;
  officeholders: string[];
}

export function specOf(poll: Poll): Spec {
  const s = poll.spec ?? {};
  const list = (v: unknown): string[] => (Array.isArray(v) ? v.map(String) : []);
  const num = (v: unknown, d: number): number => (typeof v === 'number' && v > 0 ? v : d);
  const candidates = list(s.candidates);
  return {
    kind: String(s.kind ?? poll.kind),
    allowChange: s.allow_change === true,
    allowAbstain: s.allow_abstain !== false,
    candidates,
    seats: num(s.seats, 1),
    maxChoices: num(s.max_choices, Math.max(1, num(s.seats, 1))),
    officeholders: list(s.officeholders),
  };
}

/** What the delegate has picked so far, before it becomes a wire `Choice`. */
export interface Draft {
  motion: string | null;
  election: string[];
  electionAbstain: boolean;
  confidence: Record<string, Level>;
}

export function emptyDraft(): Draft {
  return { motion: null, election: [], electionAbstain: false, confidence: {} };
}

/** The wire choice of a complete draft, or null while it is incomplete. */
export function choiceOf(spec: Spec, d: Draft): Choice | null {
  if (spec.kind === 'motion') {
    if (d.motion === ABSTAIN && !spec.allowAbstain) return null;
    return d.motion;
  }
  if (spec.kind === 'election') {
    if (d.electionAbstain) return spec.allowAbstain ? ABSTAIN : null;
    if (d.election.length === 0 || d.election.length > spec.maxChoices) return null;
    // ballot order, as the server counts them
    return spec.candidates.filter((c) => d.election.includes(c));
  }
  if (spec.kind === 'confidence') {
    const missing = spec.officeholders.filter((o) => !d.confidence[o]);
    return missing.length ? null : { ...d.confidence };
  }
  return null;
}

/** Toggle a candidate, never beyond max_choices (the counter says why). */
export function toggleCandidate(spec: Spec, d: Draft, candidate: string): Draft {
  const has = d.election.includes(candidate);
  if (!has && d.election.length >= spec.maxChoices) return d;
  const election = has ? d.election.filter((c) => c !== candidate) : [...d.election, candidate];
  return { ...d, election, electionAbstain: false };
}

/** A draft back from a stored or known choice (reload between confirming and the ack). */
export function draftOf(choice: Choice | undefined | null): Draft {
  const d = emptyDraft();
  if (choice == null) return d;
  if (typeof choice === 'string') {
    if (choice === ABSTAIN) d.electionAbstain = true;
    d.motion = choice;
  } else if (Array.isArray(choice)) {
    d.election = [...choice];
  } else {
    d.confidence = { ...(choice as Record<string, Level>) };
  }
  return d;
}

// ---- what the device keeps ------------------------------------------------------------------

export interface Kept {
  /** idempotency key of the ballot last sent (reused by every resend of that ballot) */
  key?: string;
  /** receipt seed of that ballot (secret polls) */
  seed?: string;
  /** the choice being sent; dropped after the ack for secret polls */
  choice?: Choice;
  /** receipt being replaced (a changed secret ballot) */
  replaces?: string;
  /** confirmed by the server's ack */
  acked?: boolean;
  receipt?: string;
  /** ISO time of the server's ack (server clock) */
  receivedAt?: string;
}

export interface KeepStore {
  getItem(key: string): string | null;
  setItem(key: string, value: string): void;
  removeItem(key: string): void;
}

function storage(): KeepStore | null {
  try {
    return typeof localStorage === 'undefined' ? null : localStorage;
  } catch {
    return null;
  }
}

export function keptKey(userId: number, pollId: number): string {
  return `quorum.ballot.${userId}.${pollId}`;
}

export function readKept(userId: number, pollId: number, store = storage()): Kept {
  const raw = store?.getItem(keptKey(userId, pollId));
  if (!raw) return {};
  try {
    const value = JSON.parse(raw);
    return value && typeof value === 'object' ? (value as Kept) : {};
  } catch {
    return {};
  }
}

export function writeKept(userId: number, pollId: number, kept: Kept, store = storage()): void {
  try {
    store?.setItem(keptKey(userId, pollId), JSON.stringify(kept));
  } catch {
    // storage full or refused (private mode): the ballot still works, the receipt stays in memory
  }
}

/** Random text for keys and receipt seeds (getRandomValues works without HTTPS, randomUUID not). */
export function randomToken(bytes = 16): string {
  const buf = new Uint8Array(bytes);
  crypto.getRandomValues(buf);
  return Array.from(buf, (b) => b.toString(16).padStart(2, '0')).join('');
}

/** A new ballot to send: fresh key (and seed for a secret poll), remembered before sending. */
export function prepareSend(poll: Poll, choice: Choice, previous: Kept): Kept {
  const kept: Kept = { key: randomToken(), choice };
  if (poll.secret) {
    kept.seed = randomToken(24);
    if (previous.acked && previous.receipt) kept.replaces = previous.receipt;
  }
  return kept;
}

/** The cast payload for what is kept (a resend reuses key and seed: the server answers once). */
export function castPayload(poll: Poll, kept: Kept): Record<string, unknown> {
  const payload: Record<string, unknown> = {
    poll_id: poll.id,
    choice: kept.choice,
    idempotency_key: kept.key,
  };
  if (kept.seed) payload.receipt_seed = kept.seed;
  if (kept.replaces) payload.replaces = kept.replaces;
  return payload;
}

/** What to keep after an ok ack. A replayed secret ack without a seed carries no receipt: keep ours. */
export function afterAck(poll: Poll, kept: Kept, ack: Record<string, unknown>, at: string): Kept {
  const receipt = typeof ack.receipt === 'string' ? ack.receipt : kept.receipt;
  const next: Kept = { ...kept, acked: true, receivedAt: at, receipt };
  delete next.replaces;
  if (poll.secret) delete next.choice;
  return next;
}

/**
 * The phase to show for a poll from what the server says (status, my_ballots) and what the
 * device kept. Never `choosing` for a poll the server says I voted in (no second vote), unless
 * the delegate asked to change it.
 */
export function phaseFromState(
  poll: Poll,
  mine: MyBallot | undefined,
  kept: Kept,
): { phase: Phase; draft: Draft } {
  if (poll.status === 'cancelled') return { phase: 'cancelled', draft: emptyDraft() };
  if (poll.status === 'published') return { phase: 'result', draft: emptyDraft() };
  if (poll.status === 'closed') return { phase: 'closed', draft: emptyDraft() };
  if (mine?.voted || kept.acked) return { phase: 'received', draft: emptyDraft() };
  if (kept.key && kept.choice !== undefined) {
    // confirmed but no ack known (reload or drop while sending): ask again, same key
    return { phase: 'confirming', draft: draftOf(kept.choice) };
  }
  return { phase: 'choosing', draft: emptyDraft() };
}

/** The open poll to put in front: the most recently opened one still waiting for my ballot. */
export function pollToShow(
  polls: Record<number, Poll>,
  myBallots: Record<number, MyBallot>,
): Poll | null {
  const open = Object.values(polls)
    .filter((p) => p.status === 'open')
    .sort((a, b) => (b.opened_at ?? '').localeCompare(a.opened_at ?? '') || b.id - a.id);
  return open.find((p) => !myBallots[p.id]?.voted) ?? open[0] ?? null;
}
