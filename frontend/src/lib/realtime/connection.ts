/**
 * One Socket.IO connection to the server (docs/PROTOCOL.md, "Connect and authenticate"), with
 * its own reconnect loop, the server clock offset and acks with timeouts.
 *
 * Socket.IO's own reconnection is off: this module decides when to reconnect, so that
 * - a hall of tablets whose Wi-Fi comes back does not reconnect in step (exponential backoff
 *   with full jitter, forever);
 * - a tablet whose screen comes back on reconnects at once instead of waiting out a backoff
 *   (`visibilitychange`), and a socket that may have been frozen while hidden is checked;
 * - a refused handshake (`unauthenticated`) stops the loop: the app goes back to the login.
 */
import { io } from 'socket.io-client';
import type { Ack, ConnectionState, MeetingEvent, Update } from './types';

/** The part of a socket.io-client `Socket` this module uses (tests pass a fake). */
export interface SocketLike {
  readonly connected: boolean;
  on(event: string, listener: (...args: any[]) => void): unknown;
  emit(event: string, ...args: any[]): unknown;
  connect(): unknown;
  disconnect(): unknown;
}

export type SocketFactory = (options: { token?: string }) => SocketLike;

/** The page's visibility (a `Document` in the browser; a fake in tests). */
export interface VisibilitySource {
  readonly visibilityState: string;
  addEventListener(type: 'visibilitychange', listener: () => void): void;
  removeEventListener(type: 'visibilitychange', listener: () => void): void;
}

/** The browser's network status events (`window`: `online`), or a fake in tests. */
export interface NetworkSource {
  addEventListener(type: 'online', listener: () => void): void;
  removeEventListener(type: 'online', listener: () => void): void;
}

export interface ConnectionOptions {
  /** Server origin; default: the page's own origin. */
  url?: string;
  /** A bearer token (tests, kiosks); browsers normally send the session cookie. */
  token?: string;
  socketFactory?: SocketFactory;
  /** First reconnect delay ceiling and the largest one (ms); delays are random below them. */
  backoffBaseMs?: number;
  backoffMaxMs?: number;
  /** Largest random wait before reconnecting when the page becomes visible (ms). */
  wakeJitterMs?: number;
  /** Hidden for longer than this (ms): the socket may have been frozen; check it on return. */
  suspendAfterMs?: number;
  /** Default ack timeout (ms). */
  ackTimeoutMs?: number;
  visibility?: VisibilitySource | null;
  /** `online` events: the network came back, try now (with up to `onlineJitterMs`) */
  network?: NetworkSource | null;
  onlineJitterMs?: number;
  random?: () => number;
  now?: () => number;
}

export type CallResult = Ack | { ok: false; error: { code: 'timeout' | 'disconnected'; message: string } };

type Listener<T> = (value: T) => void;

interface Listeners {
  state: Set<Listener<ConnectionState>>;
  /** after every successful (re)connect (`reconnect`: not the first) */
  connect: Set<Listener<{ reconnect: boolean }>>;
  /** the page came back after a possible suspension while the socket looked connected */
  wake: Set<Listener<void>>;
  /** the server re-authorised this user (`access_changed`: roles or memberships changed) */
  access: Set<Listener<{ left_meetings?: number[] }>>;
  /** a new server clock offset */
  clock: Set<Listener<number>>;
  event: Set<Listener<MeetingEvent>>;
  update: Set<Listener<Update>>;
  user_event: Set<Listener<Record<string, unknown>>>;
}

export function defaultSocketFactory(url?: string): SocketFactory {
  return ({ token }) =>
    io(url ?? '', {
      path: '/socket.io',
      // websocket first; long polling when a proxy refuses the upgrade
      transports: ['websocket', 'polling'],
      tryAllTransports: true,
      reconnection: false,
      autoConnect: false,
      forceNew: true, // each attempt gets a fresh manager: no state left from a dead one
      withCredentials: true,
      ...(token ? { auth: { token } } : {}),
    }) as unknown as SocketLike;
}

function browserVisibility(): VisibilitySource | null {
  return typeof document === 'undefined' ? null : document;
}

export class Connection {
  state: ConnectionState = 'connecting';
  /** server clock − local clock (ms), from `time.sync` */
  serverOffsetMs = 0;
  /** the best (shortest) round trip of a `time.sync` so far */
  private bestRtt = Infinity;
  private socket: SocketLike | null = null;
  private readonly listeners: Listeners = {
    state: new Set(),
    connect: new Set(),
    wake: new Set(),
    access: new Set(),
    clock: new Set(),
    event: new Set(),
    update: new Set(),
    user_event: new Set(),
  };
  private readonly opts: Required<
    Omit<ConnectionOptions, 'url' | 'token' | 'visibility' | 'network'>
  > & {
    token?: string;
    visibility: VisibilitySource | null;
    network: NetworkSource | null;
  };
  private attempts = 0;
  private everConnected = false;
  private timer: ReturnType<typeof setTimeout> | null = null;
  private hiddenAt: number | null = null;
  private stopped = true;
  /** how many `MeetingSync`s follow each meeting over this connection */
  private readonly following = new Map<number, number>();
  /** calls waiting for their ack: failed with `disconnected` when the socket drops */
  private readonly inflight = new Set<(result: CallResult) => void>();
  private readonly onVisibility = () => this.visibilityChanged();
  private readonly onOnline = () => this.retrySoon(this.opts.onlineJitterMs);

  constructor(options: ConnectionOptions = {}) {
    this.opts = {
      socketFactory: options.socketFactory ?? defaultSocketFactory(options.url),
      backoffBaseMs: options.backoffBaseMs ?? 500,
      backoffMaxMs: options.backoffMaxMs ?? 15_000,
      wakeJitterMs: options.wakeJitterMs ?? 250,
      suspendAfterMs: options.suspendAfterMs ?? 5_000,
      ackTimeoutMs: options.ackTimeoutMs ?? 10_000,
      visibility: options.visibility === undefined ? browserVisibility() : options.visibility,
      network:
        options.network === undefined
          ? typeof window === 'undefined'
            ? null
            : window
          : options.network,
      onlineJitterMs: options.onlineJitterMs ?? 1_000,
      random: options.random ?? Math.random,
      now: options.now ?? Date.now,
      ...(options.token ? { token: options.token } : {}),
    };
  }

  /** Open the connection (idempotent). */
  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    this.opts.visibility?.addEventListener('visibilitychange', this.onVisibility);
    this.opts.network?.addEventListener('online', this.onOnline);
    this.open();
  }

  /** Close for good: no more reconnects. */
  stop(): void {
    this.stopped = true;
    this.clearTimer();
    this.opts.visibility?.removeEventListener('visibilitychange', this.onVisibility);
    this.opts.network?.removeEventListener('online', this.onOnline);
    const socket = this.socket;
    this.socket = null;
    socket?.disconnect();
    this.failInflight();
    this.setState('offline');
  }

  get online(): boolean {
    return this.state === 'online' && !!this.socket?.connected;
  }

  on<K extends keyof Listeners>(
    kind: K,
    listener: Listeners[K] extends Set<infer L> ? L : never,
  ): () => void {
    const set = this.listeners[kind] as Set<unknown>;
    set.add(listener);
    return () => set.delete(listener);
  }

  /** One more follower of a meeting on this connection. */
  follow(meetingId: number): void {
    this.following.set(meetingId, (this.following.get(meetingId) ?? 0) + 1);
  }

  /** One follower fewer; true when it was the last (then the meeting may be left). */
  unfollow(meetingId: number): boolean {
    const left = (this.following.get(meetingId) ?? 1) - 1;
    if (left > 0) this.following.set(meetingId, left);
    else this.following.delete(meetingId);
    return left <= 0;
  }

  /** Emit a command and wait for its ack (or `timeout` / `disconnected`). Never throws. */
  call(name: string, payload: Record<string, unknown>, timeoutMs?: number): Promise<CallResult> {
    const socket = this.socket;
    if (!socket || !this.online) {
      return Promise.resolve({
        ok: false,
        error: { code: 'disconnected', message: 'not connected' },
      });
    }
    return new Promise((resolve) => {
      let done = false;
      const finish = (result: CallResult) => {
        if (done) return;
        done = true;
        clearTimeout(timer);
        this.inflight.delete(finish);
        resolve(result);
      };
      const timer = setTimeout(
        () => finish({ ok: false, error: { code: 'timeout', message: `no answer to ${name}` } }),
        timeoutMs ?? this.opts.ackTimeoutMs,
      );
      this.inflight.add(finish);
      socket.emit(name, payload, (ack: unknown) => finish(normaliseAck(ack)));
    });
  }

  /** Drop the socket and connect again now (a frozen socket that still looks connected). */
  reconnectNow(): void {
    if (this.stopped) return;
    this.clearTimer();
    const socket = this.socket;
    this.socket = null;
    socket?.disconnect();
    this.failInflight();
    this.attempts = 0;
    this.open();
  }

  /** Sample the server clock: offset = server time − the local midpoint of the round trip. */
  async syncTime(): Promise<void> {
    const sent = this.opts.now();
    const ack = await this.call('time.sync', {}, 5_000);
    const received = this.opts.now();
    if (!ack.ok || typeof ack.server_time !== 'string') return;
    const server = Date.parse(ack.server_time);
    if (Number.isNaN(server)) return;
    const rtt = received - sent;
    // a shorter round trip bounds the error better; keep the best sample (but let a much
    // later one replace it: clocks drift and tablets sleep)
    if (rtt <= this.bestRtt * 1.5 || !Number.isFinite(this.bestRtt)) {
      this.bestRtt = Math.min(rtt, this.bestRtt);
      this.serverOffsetMs = Math.round(server - (sent + rtt / 2));
      this.fire('clock', this.serverOffsetMs);
    }
  }

  // --- internals ------------------------------------------------------------------------------

  private open(): void {
    if (this.stopped || this.state === 'unauthenticated') return;
    this.setState('connecting');
    const socket = this.opts.socketFactory(this.opts.token ? { token: this.opts.token } : {});
    this.socket = socket;
    const mine = (fn: (...args: any[]) => void) => (...args: any[]) => {
      if (this.socket === socket) fn(...args);
    };
    socket.on('connect', mine(() => this.connected()));
    socket.on('connect_error', mine((err: unknown) => this.refused(err)));
    socket.on('disconnect', mine(() => this.dropped()));
    socket.on('event', mine((e: MeetingEvent) => this.fire('event', e)));
    socket.on('update', mine((u: Update) => this.fire('update', u)));
    socket.on('user_event', mine((u: Record<string, unknown>) => this.fire('user_event', u)));
    // A logout, password change or deactivation elsewhere: back to the login, no reconnect with
    // a token that no longer works (docs/PROTOCOL.md, "Revocation").
    socket.on('session_ended', mine(() => this.refused({ data: { code: 'unauthenticated' } })));
    socket.on(
      'access_changed',
      mine((a: { left_meetings?: number[] }) => this.fire('access', a ?? {})),
    );
    socket.connect();
  }

  private connected(): void {
    const reconnect = this.everConnected;
    this.everConnected = true;
    this.attempts = 0;
    this.setState('online');
    this.fire('connect', { reconnect });
    void this.syncTime();
  }

  private refused(err: unknown): void {
    if (isUnauthenticated(err)) {
      this.clearTimer();
      const socket = this.socket;
      this.socket = null;
      socket?.disconnect();
      this.failInflight();
      this.setState('unauthenticated');
      return;
    }
    this.lost();
  }

  private dropped(): void {
    this.lost();
  }

  private lost(): void {
    const socket = this.socket;
    this.socket = null;
    socket?.disconnect();
    this.failInflight();
    if (this.stopped) return;
    this.setState('offline');
    this.schedule(this.backoff());
  }

  /** Full jitter: a random delay below min(max, base · 2^attempt). */
  backoff(): number {
    const ceiling = Math.min(this.opts.backoffMaxMs, this.opts.backoffBaseMs * 2 ** this.attempts);
    this.attempts = Math.min(this.attempts + 1, 30);
    return Math.round(this.opts.random() * ceiling);
  }

  private schedule(delay: number): void {
    this.clearTimer();
    this.timer = setTimeout(() => {
      this.timer = null;
      if (!this.socket) this.open();
    }, delay);
  }

  private clearTimer(): void {
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
  }

  private visibilityChanged(): void {
    const vis = this.opts.visibility;
    if (!vis || this.stopped) return;
    if (vis.visibilityState !== 'visible') {
      this.hiddenAt = this.opts.now();
      return;
    }
    const hiddenFor = this.hiddenAt === null ? 0 : this.opts.now() - this.hiddenAt;
    this.hiddenAt = null;
    if (this.state === 'unauthenticated') return;
    if (!this.online) {
      // down (or still backing off): try now, with a little jitter against a hall waking up
      this.retrySoon(this.opts.wakeJitterMs);
    } else if (hiddenFor >= this.opts.suspendAfterMs) {
      this.fire('wake', undefined);
    }
  }

  /** Cut a backoff short: connect within `jitterMs` (random) unless a handshake is under way. */
  private retrySoon(jitterMs: number): void {
    if (this.stopped || this.online || this.state === 'unauthenticated') return;
    if (this.socket && this.state === 'connecting') return;
    this.attempts = 0;
    this.schedule(Math.round(this.opts.random() * jitterMs));
  }

  private failInflight(): void {
    for (const finish of [...this.inflight]) {
      finish({ ok: false, error: { code: 'disconnected', message: 'the connection dropped' } });
    }
  }

  private setState(state: ConnectionState): void {
    if (this.state === state) return;
    this.state = state;
    this.fire('state', state);
  }

  private fire<K extends keyof Listeners>(
    kind: K,
    value: Listeners[K] extends Set<Listener<infer T>> ? T : never,
  ): void {
    for (const listener of [...(this.listeners[kind] as Set<Listener<unknown>>)]) {
      listener(value);
    }
  }
}

function isUnauthenticated(err: unknown): boolean {
  if (!err || typeof err !== 'object') return false;
  const e = err as { message?: unknown; data?: { code?: unknown } };
  if (e.data && e.data.code === 'unauthenticated') return true;
  return typeof e.message === 'string' && e.message.includes('unauthenticated');
}

function normaliseAck(ack: unknown): Ack {
  if (ack && typeof ack === 'object' && 'ok' in ack) return ack as Ack;
  return { ok: false, error: { code: 'bad_ack', message: 'the server sent no ack object' } };
}

let shared: Connection | null = null;
let users = 0;
let closing: ReturnType<typeof setTimeout> | null = null;

/** How long the shared connection outlives its last user: moving from one view of a sitting
 *  to another (delegate → chair) keeps the socket instead of reconnecting. */
export const RELEASE_GRACE_MS = 2_000;

/** The app's one connection, started on first use; `release` stops it after its last user. */
export function acquireConnection(options?: ConnectionOptions): Connection {
  if (closing !== null) clearTimeout(closing);
  closing = null;
  if (!shared) shared = new Connection(options);
  users += 1;
  shared.start();
  return shared;
}

export function releaseConnection(connection: Connection): void {
  if (connection !== shared) {
    connection.stop();
    return;
  }
  users = Math.max(0, users - 1);
  if (users > 0 || closing !== null) return;
  closing = setTimeout(() => {
    closing = null;
    if (users === 0 && shared) {
      shared.stop();
      shared = null;
    }
  }, RELEASE_GRACE_MS);
}
