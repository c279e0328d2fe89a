/**
 * One meeting followed over a `Connection`: the client's duties of docs/PROTOCOL.md
 * ("Ordering, gaps and reconnects (client duty)"), as `realtime/client.py` does them in Python.
 *
 * - keeps the last applied `seq`; applies event `seq + 1` at once, buffers events further
 *   ahead, drops events at or below `seq`;
 * - a gap not filled within `gapMs` (1 s), any reconnect, or a page that comes back after a
 *   possible suspension → `meeting.join {meeting_id, since_seq}`; the returned events (or the
 *   snapshot) are applied, and only then is the sitting `synced` again;
 * - `update` messages (presence, vote progress, who voted) are kept apart from the stored state;
 * - commands carry idempotency keys; `retry` resends with the same key after a reconnect;
 *   ballots and speak requests are never queued while offline.
 */
import type { Connection } from './connection';
import {
  applyBallotAck,
  applyDocuments,
  applyEvent,
  applyPoll,
  fromSnapshot,
} from './reducer';
import type {
  Ack,
  AckFail,
  CommandOptions,
  ConnectionState,
  JoinAck,
  MeetingDocument,
  MeetingEvent,
  Poll,
  Presence,
  Progress,
  SittingState,
  Update,
} from './types';

/** Commands that honour `idempotency_key` (docs/PROTOCOL.md and docs/features/voting.md tables). */
export const KEYED_COMMANDS: ReadonlySet<string> = new Set([
  'meeting.open',
  'meeting.close',
  'attendance.check_in',
  'attendance.record',
  'agenda.set_current',
  'speakers.request',
  'speakers.add',
  'speakers.withdraw',
  'speakers.start',
  'speakers.stop',
  'speakers.reorder',
  'poll.create',
  'poll.open',
  'poll.close',
  'poll.publish',
  'poll.cancel',
  'ballot.cast',
  'annotation.upsert',
  'annotation.delete',
]);

/** Never queued while offline: a vote or a request to speak must be made in the room, now. */
export const NEVER_QUEUED: ReadonlySet<string> = new Set(['ballot.cast', 'speakers.request']);

export function newKey(): string {
  const c = globalThis.crypto as Crypto | undefined;
  if (c && typeof c.randomUUID === 'function') return c.randomUUID();
  const bytes = new Uint8Array(16);
  if (c && typeof c.getRandomValues === 'function') c.getRandomValues(bytes);
  else for (let i = 0; i < bytes.length; i++) bytes[i] = Math.floor(Math.random() * 256);
  return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
}

export interface MeetingSyncOptions {
  /** how long a gap in `seq` may stay open before a resync (ms) */
  gapMs?: number;
  /** ack timeout of `meeting.join` (ms) */
  joinTimeoutMs?: number;
  /** staff: fetch a poll after its close (the event has no result; GET /api/polls/{id} has) */
  fetchPoll?: ((pollId: number) => Promise<Poll | null>) | null;
  /** readers of restricted documents: the events only name them; refetch the list */
  fetchDocuments?: ((meetingId: number) => Promise<MeetingDocument[] | null>) | null;
  now?: () => number;
}

export interface SyncSnapshot {
  state: SittingState | null;
  connection: ConnectionState;
  synced: boolean;
  dataAt: Date | null;
  presence: Presence | null;
  progress: Record<number, Progress>;
  voters: Record<number, number[]>;
  /** staff: per document, how many participants have opened it, as the live updates said */
  reading: Record<number, number>;
  serverOffsetMs: number;
  /** why the meeting could not be joined (`not_found`, `forbidden`), else null */
  error: AckFail['error'] | null;
}

export type CommandResult = Ack | AckFail;

const MAX_ATTEMPTS = 20;

export class MeetingSync {
  state: SittingState | null = null;
  synced = false;
  dataAt: Date | null = null;
  presence: Presence | null = null;
  progress: Record<number, Progress> = {};
  voters: Record<number, number[]> = {};
  reading: Record<number, number> = {};
  error: AckFail['error'] | null = null;
  /** events received ahead of `seq + 1`, by seq */
  readonly pending = new Map<number, MeetingEvent>();
  /** every event applied, in order (tests and debugging; capped) */
  readonly applied: number[] = [];

  private joining = false;
  private joinAgain = false;
  /** the join under way follows a (re)connect or a wake: `synced` waits for it */
  private syncing = true;
  private gapTimer: ReturnType<typeof setTimeout> | null = null;
  private retryTimer: ReturnType<typeof setTimeout> | null = null;
  private destroyed = false;
  private readonly listeners = new Set<(sync: MeetingSync) => void>();
  private readonly unsubscribe: (() => void)[] = [];
  private readonly opts: Required<Omit<MeetingSyncOptions, 'fetchPoll' | 'fetchDocuments'>> &
    Pick<MeetingSyncOptions, 'fetchPoll' | 'fetchDocuments'>;
  private documentsFetch: 'idle' | 'running' | 'again' = 'idle';
  private wantSnapshot = false;
  /** commands waiting for a connection to retry */
  private readonly waiters = new Set<(connected: boolean) => void>();

  constructor(
    readonly connection: Connection,
    readonly meetingId: number,
    options: MeetingSyncOptions = {},
  ) {
    this.opts = {
      gapMs: options.gapMs ?? 1_000,
      joinTimeoutMs: options.joinTimeoutMs ?? 10_000,
      now: options.now ?? Date.now,
      fetchPoll: options.fetchPoll ?? null,
      fetchDocuments: options.fetchDocuments ?? null,
    };
    const c = connection;
    c.follow(meetingId);
    this.unsubscribe.push(
      c.on('event', (e) => this.onEvent(e)),
      c.on('update', (u) => this.onUpdate(u)),
      c.on('connect', () => this.onConnect()),
      c.on('state', (s) => this.onConnectionState(s)),
      c.on('wake', () => this.onWake()),
      // roles or memberships changed: join again, so the state is what the caller may see now
      // (a meeting the user left answers not_found; a new role brings its own snapshot)
      c.on('access', () => this.onWake()),
      c.on('clock', () => this.changed()),
    );
    if (c.online) this.resync(true);
  }

  /** The last applied seq (-1 before the first snapshot). */
  get seq(): number {
    return this.state ? this.state.seq : -1;
  }

  get connectionState(): ConnectionState {
    const base = this.connection.state;
    if (base === 'online' && !this.synced) return this.state ? 'resyncing' : 'connecting';
    return base;
  }

  snapshot(): SyncSnapshot {
    return {
      state: this.state,
      connection: this.connectionState,
      synced: this.synced,
      dataAt: this.dataAt,
      presence: this.presence,
      progress: this.progress,
      voters: this.voters,
      reading: this.reading,
      serverOffsetMs: this.connection.serverOffsetMs,
      error: this.error,
    };
  }

  subscribe(listener: (sync: MeetingSync) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  destroy(): void {
    if (this.destroyed) return;
    this.destroyed = true;
    this.clearGap();
    if (this.retryTimer !== null) clearTimeout(this.retryTimer);
    for (const off of this.unsubscribe) off();
    for (const wake of [...this.waiters]) wake(false);
    // the rooms are the socket's: leave only when no other view follows this meeting on it
    if (this.connection.unfollow(this.meetingId) && this.connection.online) {
      void this.connection.call('meeting.leave', { meeting_id: this.meetingId }, 2_000);
    }
    this.listeners.clear();
  }

  // --- commands -------------------------------------------------------------------------------

  /**
   * Send a command and wait for its ack. Adds an idempotency key to commands that take one.
   * Offline: `ballot.cast` and `speakers.request` fail at once with `offline`; so does any
   * command without `retry`. With `retry`, a command that could not be sent or whose answer was
   * lost (`disconnected`, `timeout`) is sent again with the same key once connected.
   */
  async command(
    name: string,
    payload: Record<string, unknown> = {},
    options: CommandOptions = {},
  ): Promise<CommandResult> {
    const body: Record<string, unknown> = { ...payload };
    if (KEYED_COMMANDS.has(name) && body.idempotency_key == null) body.idempotency_key = newKey();
    if (!this.connection.online && (NEVER_QUEUED.has(name) || !options.retry)) {
      return offline();
    }
    for (let attempt = 1; ; attempt++) {
      if (!this.connection.online) {
        if (!(await this.nextConnect())) return offline();
      }
      const ack = await this.connection.call(name, body, options.timeoutMs);
      if (ack.ok) {
        this.afterAck(name, ack as Record<string, unknown>);
        return ack;
      }
      const lost = ack.error.code === 'disconnected' || ack.error.code === 'timeout';
      if (!lost || !options.retry || this.destroyed || attempt >= MAX_ATTEMPTS) return ack;
    }
  }

  /** Resolves true at the next connect, false if this sync is destroyed first. */
  private nextConnect(): Promise<boolean> {
    return new Promise((resolve) => {
      if (this.destroyed) return resolve(false);
      const done = (connected: boolean) => {
        this.waiters.delete(done);
        offConnect();
        resolve(connected);
      };
      const offConnect = this.connection.on('connect', () => done(true));
      this.waiters.add(done);
    });
  }

  private afterAck(name: string, ack: Record<string, unknown>): void {
    if (!this.state) return;
    if (name === 'ballot.cast') {
      this.setState(applyBallotAck(this.state, ack));
    } else if (name.startsWith('poll.') && ack.poll && typeof ack.poll === 'object') {
      this.setState(applyPoll(this.state, ack.poll as Poll));
    }
  }

  /**
   * Show a state kept offline (the briefcase's snapshot, docs/WEBAPP.md "Offline briefcase")
   * until the server answers: only before the first snapshot, never `synced`. Its `seq` makes
   * the next join ask for the events since, as after any drop.
   */
  seed(state: SittingState, at: Date): void {
    if (this.state || this.destroyed) return;
    this.state = state;
    this.dataAt = at;
    this.changed();
  }

  // --- joining and resyncing -------------------------------------------------------------------

  private onConnect(): void {
    this.synced = false;
    this.resync(true);
  }

  private onConnectionState(state: ConnectionState): void {
    if (state !== 'online' && this.synced) {
      this.synced = false;
      this.dataAt = new Date(this.opts.now()); // the data was current until now
    }
    if (state !== 'online') this.clearGap();
    this.changed();
  }

  /** Back from a possible suspension with a socket that looks connected: check it. */
  private onWake(): void {
    this.synced = false;
    this.resync(true);
  }

  /** `meeting.join` with `since_seq` (or without, for the first snapshot). */
  resync(afterConnect = false): void {
    if (this.destroyed) return;
    if (afterConnect) this.syncing = true;
    if (this.joining) {
      this.joinAgain = true;
      this.changed();
      return;
    }
    this.joining = true;
    this.clearGap();
    this.changed();
    const payload: Record<string, unknown> = { meeting_id: this.meetingId };
    if (this.state && !this.wantSnapshot) payload.since_seq = this.state.seq;
    void this.connection.call('meeting.join', payload, this.opts.joinTimeoutMs).then((ack) => {
      this.joining = false;
      if (this.destroyed) return;
      if (ack.ok) {
        this.error = null;
        this.applyJoin(ack as unknown as JoinAck);
      } else if (ack.error.code === 'timeout' && this.connection.online) {
        // a socket frozen while the tablet slept can look connected: start over
        this.connection.reconnectNow();
      } else if (ack.error.code !== 'disconnected') {
        this.error = ack.error;
        if (ack.error.code === 'rate_limited' || ack.error.code === 'internal') this.retryLater();
      }
      const again = this.joinAgain;
      this.joinAgain = false;
      if (again && this.connection.online) this.resync();
      else this.changed();
    });
  }

  private retryLater(): void {
    if (this.retryTimer !== null) return;
    this.retryTimer = setTimeout(() => {
      this.retryTimer = null;
      if (this.connection.online) this.resync(this.syncing);
    }, 1_000 + Math.random() * 2_000);
  }

  private applyJoin(ack: JoinAck): void {
    if (ack.snapshot) {
      this.setState(fromSnapshot(ack.snapshot), false);
      if (ack.snapshot.presence) this.takePresence(ack.snapshot.presence);
      for (const seq of [...this.pending.keys()]) if (seq <= ack.snapshot.seq) this.pending.delete(seq);
    }
    if (ack.presence) this.takePresence(ack.presence);
    for (const event of ack.events ?? []) this.accept(event);
    this.drain();
    this.takeJoinProgress(ack);
    if (this.state && ack.server_time && !ack.snapshot) {
      this.setState({ ...this.state, serverTime: ack.server_time }, false);
    }
    if (this.state && this.state.seq < ack.seq && !this.pending.has(this.state.seq + 1)) {
      // the answer did not bring us up to the server's seq: ask for a snapshot
      this.wantSnapshot = true;
      this.joinAgain = true;
      return;
    }
    this.wantSnapshot = false;
    if (this.syncing && this.connection.online) {
      this.syncing = false;
      this.synced = true;
    }
    this.dataAt = new Date(this.opts.now());
  }

  // --- events ---------------------------------------------------------------------------------

  private onEvent(event: MeetingEvent): void {
    if (this.destroyed || Number(event.meeting_id) !== this.meetingId) return;
    this.accept(event);
    if (this.state) this.drain();
  }

  private accept(event: MeetingEvent): void {
    const seq = Number(event.seq);
    if (!Number.isInteger(seq) || seq <= this.seq) return; // already applied: drop
    this.pending.set(seq, event);
  }

  private drain(): void {
    if (!this.state) return;
    let state = this.state;
    const applied: MeetingEvent[] = [];
    for (let next = this.pending.get(state.seq + 1); next; next = this.pending.get(state.seq + 1)) {
      this.pending.delete(next.seq);
      state = applyEvent(state, next);
      applied.push(next);
    }
    for (const seq of [...this.pending.keys()]) if (seq <= state.seq) this.pending.delete(seq);
    if (applied.length) {
      for (const e of applied) this.applied.push(e.seq);
      if (this.applied.length > 1000) this.applied.splice(0, this.applied.length - 1000);
      this.setState(state, false);
      if (this.synced) this.dataAt = new Date(this.opts.now());
      for (const e of applied) this.followUp(e);
    }
    if (this.pending.size === 0) this.clearGap();
    else if (this.gapTimer === null) {
      this.gapTimer = setTimeout(() => {
        this.gapTimer = null;
        if (this.pending.size && this.connection.online) this.resync();
      }, this.opts.gapMs);
    }
    this.changed();
  }

  private clearGap(): void {
    if (this.gapTimer !== null) clearTimeout(this.gapTimer);
    this.gapTimer = null;
  }

  /** What an applied event asks beyond the reducer: refetches, and dropping stale progress. */
  private followUp(event: MeetingEvent): void {
    const data = event.data as Record<string, any>;
    if (event.type.startsWith('poll_') && data.poll && data.poll.status !== 'open') {
      const id = Number(data.poll.id);
      if (id in this.progress) {
        const { [id]: _gone, ...rest } = this.progress;
        this.progress = rest;
      }
    }
    if (event.type === 'poll_closed' && this.state?.participants && this.opts.fetchPoll) {
      const id = Number(data.poll.id);
      void this.opts.fetchPoll(id).then((poll) => {
        if (poll && this.state && !this.destroyed) this.setState(applyPoll(this.state, poll));
      });
    }
    if (event.type.startsWith('document_') && data.restricted && !data.document) {
      this.refetchDocuments();
    }
  }

  private refetchDocuments(): void {
    const fetchDocuments = this.opts.fetchDocuments;
    if (!fetchDocuments) return;
    if (this.documentsFetch !== 'idle') {
      this.documentsFetch = 'again';
      return;
    }
    this.documentsFetch = 'running';
    void fetchDocuments(this.meetingId)
      .catch(() => null)
      .then((docs) => {
        const again = this.documentsFetch === 'again';
        this.documentsFetch = 'idle';
        if (docs && this.state && !this.destroyed) this.setState(applyDocuments(this.state, docs));
        if (again) this.refetchDocuments();
      });
  }

  // --- updates (volatile) ---------------------------------------------------------------------

  private onUpdate(update: Update): void {
    if (this.destroyed || Number(update.meeting_id) !== this.meetingId) return;
    const data = update.data as Record<string, any>;
    if (update.type === 'presence') {
      this.takePresence(data as Presence);
    } else if (update.type === 'poll_progress') {
      const { poll_id, ...progress } = data;
      this.progress = { ...this.progress, [Number(poll_id)]: progress as Progress };
    } else if (update.type === 'poll_voters') {
      this.voters = { ...this.voters, [Number(data.poll_id)]: data.user_ids as number[] };
    } else if (update.type === 'reading_opened') {
      this.reading = { ...this.reading, [Number(data.document_id)]: Number(data.opened_by) };
    } else {
      return;
    }
    this.changed();
  }

  /** Staff and displays get each open poll's progress (and staff who voted) with the join. */
  private takeJoinProgress(ack: JoinAck): void {
    let progress = this.progress;
    if (ack.progress) {
      progress = {};
      for (const { poll_id, ...rest } of ack.progress) progress[Number(poll_id)] = rest;
    }
    const polls = this.state?.polls ?? {};
    const open = Object.entries(progress).filter(([id]) => polls[Number(id)]?.status === 'open');
    if (open.length !== Object.keys(progress).length) progress = Object.fromEntries(open);
    this.progress = progress;
    if (ack.voters) {
      const voters: Record<number, number[]> = {};
      for (const [id, users] of Object.entries(ack.voters)) voters[Number(id)] = users;
      this.voters = voters;
    }
  }

  private takePresence(presence: Presence): void {
    if (!this.presence || presence.version >= this.presence.version) this.presence = presence;
  }

  // --- plumbing -------------------------------------------------------------------------------

  private setState(state: SittingState, notify = true): void {
    this.state = state;
    if (notify) this.changed();
  }

  private changed(): void {
    for (const listener of [...this.listeners]) listener(this);
  }
}

function offline(): AckFail {
  return { ok: false, error: { code: 'offline', message: 'not connected to the server' } };
}
