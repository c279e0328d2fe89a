/**
 * The one sender of the annotation changes kept in IndexedDB (docs/WEBAPP.md, "Offline
 * briefcase"): app-wide, whatever page is open, one change at a time.
 *
 * Why one sender: a change made offline may be sent by the open reader's store, by the page
 * that was open when the network came back, or by both. Two senders racing sent the same
 * annotation's changes side by side, so a later edit reached the server before its base was
 * acknowledged and came back as a false `stale_version` "conflict" with the device's own write;
 * and an ack taken by one sender never reached the other's store, whose next edit was then made
 * on a version the server had already passed. Here every kept change, of every document version,
 * goes through `Outbox.flush()`: a single run at a time (a call during a run makes the run go
 * round once more), oldest change first, each with the idempotency key it was made with, removed
 * once the server has answered it. A later edit of the same annotation is rebased on the version
 * the earlier one made before it is sent.
 *
 * Results go to the annotation store of their version when one is attached (the open reader:
 * it shows the acknowledged annotation, settles conflicts, reverts refusals). Without one, an
 * acknowledged change is also written into the briefcase's stored listing (`keep.ts`), so an
 * offline reload later starts from the server's version; a `stale_version` refusal is left in
 * place, with what follows it, until that document's store shows the conflict and the user
 * chooses (docs/features/annotations.md): never dropped, never overwritten.
 *
 * The layout starts it once signed in (`startOutbox`): it holds the realtime connection only
 * while changes wait, sends at each connect, and when the browser says the network is back.
 */
import type { ChangeClient, ChangeSender, PendingChange } from '$lib/annotations/pending';
import type { Annotation } from '$lib/annotations/types';
import type { Connection } from '$lib/realtime/connection';
import { database, type PendingRecord } from './db';
import { keepAcknowledged } from './keep';

/** The part of the realtime `Connection` this needs (tests pass a fake). */
export interface DrainTransport {
  readonly online: boolean;
  call(
    name: string,
    payload: Record<string, unknown>,
  ): Promise<({ ok: true } & Record<string, unknown>) | { ok: false; error: { code: string; details?: unknown } }>;
  on(kind: 'connect', listener: () => void): () => void;
}

/** A connection held while changes wait: `release` gives it back. */
export interface HeldTransport {
  transport: DrainTransport;
  release(): void;
  /** the server refused the session (the layout then ends it) */
  onUnauthenticated?(listener: () => void): () => void;
}

export interface OutboxOptions {
  /** Get the connection (the app's shared one by default). */
  connect?: () => HeldTransport | Promise<HeldTransport>;
  /** After an ack of a version no store is attached to (default: `keepAcknowledged`). */
  stored?: (versionId: number, annotation: Annotation) => Promise<void>;
  /** wait before sending again after a lost ack while still connected (ms) */
  retryMs?: number;
}

/** The answer did not come back: the change may or may not be applied; send it again later. */
const LOST = new Set(['disconnected', 'timeout', 'offline']);

export class Outbox implements ChangeSender {
  private readonly clients = new Map<number, ChangeClient>();
  private held: HeldTransport | null = null;
  private heldOff: (() => void)[] = [];
  private running: Promise<void> | null = null;
  private again = false;
  private retryTimer: ReturnType<typeof setTimeout> | null = null;
  private unauthenticated: (() => void) | null = null;
  private stopped = false;
  /** how many changes were sent (tests) */
  sent = 0;

  constructor(private readonly opts: OutboxOptions = {}) {}

  /** The results of `versionId`'s changes go to `client` until the returned function is called. */
  attach(versionId: number, client: ChangeClient): () => void {
    this.clients.set(versionId, client);
    return () => {
      if (this.clients.get(versionId) === client) this.clients.delete(versionId);
    };
  }

  /** Who to tell when the server refuses the session (the layout: end it). */
  onUnauthenticated(listener: (() => void) | null): void {
    this.unauthenticated = listener;
  }

  /** Send every kept change (one run at a time); resolves when none is left to send now. */
  flush(): Promise<void> {
    if (this.stopped) return Promise.resolve();
    if (this.running) {
      this.again = true;
      return this.running;
    }
    this.running = this.loop().finally(() => {
      this.running = null;
    });
    return this.running;
  }

  /** Stop for good (a test's end, a sign-out): no more sending, the connection given back. */
  stop(): void {
    this.stopped = true;
    if (this.retryTimer !== null) clearTimeout(this.retryTimer);
    this.retryTimer = null;
    this.let();
  }

  private async loop(): Promise<void> {
    do {
      this.again = false;
      const outcome = await this.once();
      if (outcome === 'idle') this.let(); // nothing left to send: no need of a connection
      if (outcome === 'lost') return;
    } while (this.again && !this.stopped);
  }

  /** One pass over the kept changes: `idle` (nothing left that can be sent now), `waiting`
   *  (not connected: the next connect sends them) or `lost` (an answer did not come back). */
  private async once(): Promise<'idle' | 'waiting' | 'lost'> {
    const db = await database();
    const records = (await db.getAll('pending')).sort((a, b) => a.queuedAt - b.queuedAt);
    if (records.length === 0) return 'idle';
    const transport = await this.hold();
    if (!transport.online) return 'waiting';
    const blocked = new Set<string>(); // annotations with a refused change left for their store
    for (const listed of records) {
      if (this.stopped) return 'waiting';
      if (!transport.online) return 'waiting';
      if (blocked.has(listed.annotationId)) continue; // later changes wait behind it
      const record = await db.get('pending', listed.key); // as rebased meanwhile, if still there
      if (!record) continue;
      const ack = await transport.call(commandOf(record), {
        ...record.payload,
        idempotency_key: record.key,
      });
      this.sent += 1;
      if (!ack.ok && LOST.has(ack.error.code)) {
        this.retryLater();
        return 'lost';
      }
      const client = this.clients.get(record.versionId);
      if (!ack.ok && ack.error.code === 'stale_version' && !client) {
        blocked.add(record.annotationId);
        continue;
      }
      await db.delete('pending', record.key);
      const change = changeOf(record);
      if (client) {
        if (ack.ok) await client.acknowledged(change, ack);
        else await client.refused(change, ack.error);
      } else if (ack.ok) {
        const annotation = ack.annotation as Annotation | undefined;
        if (annotation) {
          await rebase(record, annotation.version);
          await (this.opts.stored ?? keepAcknowledged)(record.versionId, annotation).catch(() => {});
        }
      }
    }
    return 'idle';
  }

  /** The connection, held from the first change to send until none is left. */
  private async hold(): Promise<DrainTransport> {
    if (!this.held) {
      const held = await (this.opts.connect ?? sharedConnection)();
      this.held = held;
      this.heldOff = [held.transport.on('connect', () => void this.flush())];
      if (held.onUnauthenticated) {
        this.heldOff.push(held.onUnauthenticated(() => this.unauthenticated?.()));
      }
    }
    return this.held.transport;
  }

  private let(): void {
    for (const off of this.heldOff.splice(0)) off();
    const held = this.held;
    this.held = null;
    held?.release();
  }

  /** An ack lost on a socket that still looks up: try again in a moment, same key. */
  private retryLater(): void {
    if (this.retryTimer !== null || this.stopped) return;
    this.retryTimer = setTimeout(() => {
      this.retryTimer = null;
      void this.flush();
    }, this.opts.retryMs ?? 2_000);
  }
}

function commandOf(record: PendingRecord): string {
  return record.op === 'upsert' ? 'annotation.upsert' : 'annotation.delete';
}

function changeOf(record: PendingRecord): PendingChange {
  const { versionId: _, ...change } = record;
  return change;
}

/** A later change of the same annotation was made on top of this one: its base is the new
 *  version (as the store does when it is attached). */
async function rebase(record: PendingRecord, version: number): Promise<void> {
  const db = await database();
  for (const later of await db.getAllFromIndex('pending', 'versionId', record.versionId)) {
    if (later.annotationId !== record.annotationId || later.op !== 'upsert') continue;
    await db.put('pending', { ...later, payload: { ...later.payload, base_version: version } });
  }
}

/** The app's shared realtime connection, as the outbox holds it. Imported when first needed:
 *  the layout starts the outbox on every page, and socket.io-client must not join the first
 *  load of pages that never connect (docs/WEBAPP.md, "The tests", the JavaScript budget). */
async function sharedConnection(): Promise<HeldTransport> {
  const { acquireConnection, releaseConnection } = await import('$lib/realtime/connection');
  const conn: Connection = acquireConnection();
  return {
    transport: {
      get online() {
        return conn.online;
      },
      call: (name, payload) => conn.call(name, payload),
      on: (kind, listener) => conn.on(kind, () => listener()),
    },
    release: () => releaseConnection(conn),
    onUnauthenticated: (listener) =>
      conn.on('state', (state) => {
        if (state === 'unauthenticated') listener();
      }),
  };
}

let outbox: Outbox | null = null;

/** The app's one outbox. */
export function appOutbox(): Outbox {
  outbox ??= new Outbox();
  return outbox;
}

/**
 * Send the kept changes whenever the app is signed in and the network is there: now, when the
 * browser says the network is back, and when the tablet wakes (the layout calls this once signed
 * in; the returned function stops it). `onUnauthenticated`: the server refused the session.
 */
export function startOutbox(onUnauthenticated: () => void): () => void {
  const box = appOutbox();
  box.onUnauthenticated(onUnauthenticated);
  const kick = () => void box.flush().catch(() => {});
  const visible = () => {
    if (document.visibilityState === 'visible') kick();
  };
  kick();
  window.addEventListener('online', kick);
  document.addEventListener('visibilitychange', visible);
  return () => {
    window.removeEventListener('online', kick);
    document.removeEventListener('visibilitychange', visible);
    box.onUnauthenticated(null);
  };
}
