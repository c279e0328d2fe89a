/**
 * A small stand-in for socket.io-client's `Socket` and for the server behind it, for unit tests
 * of the realtime client (the real server is exercised by the browser tests). `FakeServer`
 * keeps one meeting's event log and answers `meeting.join` as docs/PROTOCOL.md says: a snapshot
 * without `since_seq`, else the events after it (or a snapshot when too far behind).
 */
import type { NetworkSource, SocketFactory, SocketLike, VisibilitySource } from '../connection';
import type { MeetingEvent, WireSnapshot } from '../types';

type Handler = (...args: any[]) => void;
type Ack = (answer: unknown) => void;
export type CommandHandler = (payload: Record<string, any>, socket: FakeSocket) => unknown;

export class FakeSocket implements SocketLike {
  connected = false;
  /** dead without knowing it: nothing goes through either way */
  frozen = false;
  readonly handlers = new Map<string, Handler[]>();
  readonly emitted: { name: string; payload: Record<string, any>; ack: Ack | undefined }[] = [];
  closedByClient = false;

  constructor(
    readonly server: FakeServer,
    readonly token: string | undefined,
  ) {}

  on(event: string, listener: Handler): this {
    const list = this.handlers.get(event) ?? [];
    list.push(listener);
    this.handlers.set(event, list);
    return this;
  }

  emit(name: string, payload: Record<string, any>, ack?: Ack): this {
    // serialised at emit, as a real socket does: later changes to the object are not sent
    payload = JSON.parse(JSON.stringify(payload ?? {}));
    this.emitted.push({ name, payload, ack });
    if (this.connected && !this.frozen) this.server.receive(this, name, payload, ack);
    return this;
  }

  connect(): this {
    this.server.connecting(this);
    return this;
  }

  disconnect(): this {
    this.closedByClient = true;
    if (this.connected) {
      this.connected = false;
      this.fire('disconnect', 'io client disconnect');
    }
    return this;
  }

  /** Server side: deliver an event to the client. */
  fire(event: string, ...args: unknown[]): void {
    if (this.frozen) return;
    for (const listener of this.handlers.get(event) ?? []) listener(...args);
  }
}

export class FakeServer {
  readonly sockets: FakeSocket[] = [];
  /** how the next handshake goes */
  mode: 'accept' | 'refuse' | 'unauthenticated' | 'hang' = 'accept';
  /** commands: return the ack, or `HOLD` to keep it (answer later with `held`) */
  readonly commands = new Map<string, CommandHandler>();
  readonly held: { name: string; payload: Record<string, any>; ack: Ack | undefined; socket: FakeSocket }[] = [];
  /** the meeting: its first snapshot and every event since */
  snapshot: WireSnapshot;
  readonly log: MeetingEvent[] = [];
  resyncLimit = 500;
  joins: Record<string, any>[] = [];
  readonly connectAttempts: number[] = [];
  now: () => number = () => Date.now();

  constructor(snapshot: WireSnapshot) {
    this.snapshot = snapshot;
    this.commands.set('meeting.join', (p) => this.join(p));
    this.commands.set('time.sync', () => ({ ok: true, server_time: new Date(this.now()).toISOString() }));
    this.commands.set('meeting.leave', () => ({ ok: true }));
  }

  readonly factory: SocketFactory = ({ token }) => {
    const socket = new FakeSocket(this, token);
    this.sockets.push(socket);
    return socket;
  };

  get current(): FakeSocket {
    const socket = this.sockets[this.sockets.length - 1];
    if (!socket) throw new Error('no socket yet');
    return socket;
  }

  get seq(): number {
    return this.log.length ? this.log[this.log.length - 1]!.seq : this.snapshot.seq;
  }

  connecting(socket: FakeSocket): void {
    this.connectAttempts.push(this.now());
    const mode = this.mode;
    queueMicrotask(() => {
      if (socket.closedByClient) return;
      if (mode === 'accept') {
        socket.connected = true;
        socket.fire('connect');
      } else if (mode === 'unauthenticated') {
        const err = Object.assign(new Error('unauthenticated'), {
          data: { code: 'unauthenticated', message: 'log in first' },
        });
        socket.fire('connect_error', err);
      } else if (mode === 'refuse') {
        socket.fire('connect_error', new Error('websocket error'));
      }
    });
  }

  receive(socket: FakeSocket, name: string, payload: Record<string, any>, ack?: Ack): void {
    const handler = this.commands.get(name);
    const answer = handler
      ? handler(payload, socket)
      : { ok: false, error: { code: 'unknown_command', message: name } };
    if (answer === HOLD) {
      this.held.push({ name, payload, ack, socket });
      return;
    }
    queueMicrotask(() => {
      if (socket.connected && !socket.frozen) ack?.(answer);
    });
  }

  /** Answer the held commands (still connected ones only), in order. */
  release(name?: string): void {
    for (const h of [...this.held]) {
      if (name && h.name !== name) continue;
      this.held.splice(this.held.indexOf(h), 1);
      const handler = this.commands.get(h.name);
      if (h.name === 'meeting.join') {
        if (h.socket.connected) h.ack?.(this.join(h.payload));
      } else if (handler && h.socket.connected) {
        // a held command's own answer: the handler again, told it is released
        h.ack?.(handler({ ...h.payload, __released: true }, h.socket));
      }
    }
  }

  join(payload: Record<string, any>): unknown {
    this.joins.push(payload);
    const since = payload.since_seq;
    const seq = this.seq;
    if (typeof since === 'number' && since >= 0 && since <= seq && seq <= since + this.resyncLimit) {
      return {
        ok: true,
        events: this.log.filter((e) => e.seq > since),
        seq,
        server_time: new Date(this.now()).toISOString(),
      };
    }
    return { ok: true, snapshot: this.currentSnapshot(), seq };
  }

  /** A fresh snapshot: only meeting, seq and the current item are followed by the fake. */
  currentSnapshot(): WireSnapshot {
    const seq = this.seq;
    let current = this.snapshot.meeting.current_item_id;
    for (const e of this.log) if (e.type === 'current_item_changed') current = e.data.item_id as number;
    return {
      ...this.snapshot,
      meeting: { ...this.snapshot.meeting, seq, current_item_id: current },
      seq,
    };
  }

  /** Commit an event: logged, and delivered live unless `deliver` is false. */
  commit(type: string, data: Record<string, unknown>, deliver = true): MeetingEvent {
    const event: MeetingEvent = {
      seq: this.seq + 1,
      type,
      meeting_id: this.snapshot.meeting.id,
      at: new Date(this.now()).toISOString(),
      data,
    };
    this.log.push(event);
    if (deliver) this.deliver(event);
    return event;
  }

  deliver(event: MeetingEvent): void {
    for (const socket of this.sockets) if (socket.connected) socket.fire('event', event);
  }

  update(type: string, data: Record<string, unknown>): void {
    const update = { type, meeting_id: this.snapshot.meeting.id, data };
    for (const socket of this.sockets) if (socket.connected) socket.fire('update', update);
  }

  /** The network drops: the client sees a transport close. */
  drop(): void {
    for (const socket of this.sockets) {
      if (socket.connected) {
        socket.connected = false;
        socket.fire('disconnect', 'transport close');
      }
    }
  }

  /** The socket dies without the client noticing (a tablet frozen while its screen was off). */
  freeze(): void {
    for (const socket of this.sockets) socket.frozen = true;
  }

  /** Emits of one command over every socket. */
  sent(name: string): Record<string, any>[] {
    return this.sockets.flatMap((s) => s.emitted.filter((e) => e.name === name).map((e) => e.payload));
  }
}

export const HOLD = Symbol('hold');

export class FakeVisibility implements VisibilitySource {
  visibilityState: 'visible' | 'hidden' = 'visible';
  private readonly listeners = new Set<() => void>();

  addEventListener(_type: 'visibilitychange', listener: () => void): void {
    this.listeners.add(listener);
  }

  removeEventListener(_type: 'visibilitychange', listener: () => void): void {
    this.listeners.delete(listener);
  }

  set(state: 'visible' | 'hidden'): void {
    this.visibilityState = state;
    for (const listener of [...this.listeners]) listener();
  }
}

export class FakeNetwork implements NetworkSource {
  private readonly listeners = new Set<() => void>();

  addEventListener(_type: 'online', listener: () => void): void {
    this.listeners.add(listener);
  }

  removeEventListener(_type: 'online', listener: () => void): void {
    this.listeners.delete(listener);
  }

  /** The browser's `online` event: the network is back. */
  back(): void {
    for (const listener of [...this.listeners]) listener();
  }
}

/** A small sitting as `meeting.join` would send it. */
export function wireSnapshot(seq = 5): WireSnapshot {
  return {
    meeting: {
      id: 7,
      council_id: 1,
      title: 'Kỳ họp thứ 12',
      session_name: 'Phiên họp sáng',
      location: 'Hội trường',
      starts_at: '2026-12-06T01:00:00+00:00',
      status: 'open',
      current_item_id: null,
      seq,
      quorum_rule: { num: 1, den: 2, strict: true },
      opened_at: '2026-12-06T01:00:00+00:00',
      closed_at: null,
    },
    quorum: { present: 2, total: 3, needed: 2, met: true },
    agenda: [1, 2, 3].map((id) => ({
      id,
      parent_id: null,
      position: id,
      number: String(id),
      title: `Item ${id}`,
      description: '',
      presenter: '',
      duration_minutes: null,
      status: 'pending',
    })),
    speakers: [],
    documents: [],
    polls: [],
    my_ballots: {},
    me: {
      user_id: 11,
      name: 'Delegate',
      username: 'delegate001',
      voting: true,
      attendance: 'present',
      checked_in_at: null,
      recorded_how: 'self',
    },
    seq,
    server_time: '2026-12-06T01:00:00+00:00',
  };
}
