/**
 * One document version's annotations on this device (docs/features/annotations.md, "Sync"), as plain
 * TypeScript the Svelte layer only reads.
 *
 * - Shows the caller's annotations and those shared with the meeting; applies the user room's
 *   `annotation_changed` and `annotations_carried` and the meeting's `annotation_shared` /
 *   `annotation_unshared`; a user event whose cursor skips one means something was missed:
 *   `annotation.sync` from the last cursor.
 * - A change is shown at once, put in the `PendingStore` under its idempotency key, and sent
 *   in order, one at a time; a lost ack is sent again with the same key after a reconnect.
 *   A change made on top of one still in flight takes that one's new version as its base.
 * - `stale_version` is never overwritten silently: a tombstone wins (the annotation goes, with a
 *   notice); otherwise the stored annotation is shown and the device's version is kept as a
 *   conflict until the user chooses: keep mine (re-sent with `base_version` = the stored
 *   version, the explicit last-writer-wins of the contract) or keep the other.
 * - Orphans (carried to this version but not placed) are not drawn: they are listed apart with
 *   their quote, until the delegate places one again (any upsert anchors it).
 * - Undo and redo go through the same path (`History`); what the server deleted cannot come
 *   back, so an undone erase makes the annotation again under a new id.
 */
import { inOrder } from '$lib/inOrder';
import { History, type Change } from '$lib/ink/history';
import {
  MemoryPendingStore,
  type ChangeSender,
  type PendingChange,
  type PendingStore,
} from './pending';
import { draftOf, emptyDraft, newId, type Annotation, type AnnotationDraft } from './types';

export type AckLike =
  | ({ ok: true } & Record<string, unknown>)
  | { ok: false; error: { code: string; message?: string; details?: unknown } };

/** The part of the realtime `Connection` the store uses (tests pass a fake server). */
export interface AnnotationTransport {
  readonly online: boolean;
  call(name: string, payload: Record<string, unknown>): Promise<AckLike>;
  on(kind: 'connect', listener: (info: { reconnect: boolean }) => void): () => void;
  on(kind: 'user_event' | 'event', listener: (e: Record<string, unknown>) => void): () => void;
}

export interface AnnotationApi {
  /** `GET /api/document-versions/{id}/annotations` */
  list(versionId: number): Promise<{ annotations: Annotation[]; cursor: number }>;
  /** `GET /api/annotations/orphaned?document_id=` */
  orphaned(documentId: number): Promise<Annotation[]>;
}

export interface Conflict {
  id: string;
  /** this device's version, refused as stale */
  mine: AnnotationDraft;
  /** what the server holds */
  current: Annotation;
}

export type Notice =
  | { kind: 'deleted_elsewhere'; id: string }
  | { kind: 'conflict'; id: string }
  | { kind: 'refused'; id: string; code: string }
  | { kind: 'carried'; orphaned: number }
  | { kind: 'saved'; id: string };

export interface StoreOptions {
  userId: number;
  documentId: number;
  versionId: number;
  transport: AnnotationTransport;
  api: AnnotationApi;
  pending?: PendingStore;
  /** the app-wide sender of pending changes (the briefcase's outbox); without it the store
   *  sends its own (then nothing else may send from the same `pending`) */
  sender?: ChangeSender;
  now?: () => number;
  /** wait before sending again after a lost ack while still connected (ms) */
  retryMs?: number;
}

/** Errors after which the change may still be applied: keep it and send it again. */
const LOST = new Set(['disconnected', 'timeout', 'offline']);

export class AnnotationStore {
  /** shown annotations by id (this version's, mine with my pending changes applied) */
  readonly shown = new Map<string, Annotation>();
  readonly conflicts = new Map<string, Conflict>();
  orphans: Annotation[] = [];
  cursor = 0;
  readonly history = new History<AnnotationDraft>();
  /** the server's copy of each annotation, as last acknowledged or received */
  private readonly known = new Map<string, Annotation>();
  private readonly pending: PendingStore;
  private readonly listeners = new Set<() => void>();
  private readonly noticeListeners = new Set<(n: Notice) => void>();
  private readonly off: (() => void)[] = [];
  private flushing: Promise<void> | null = null;
  private syncing: Promise<void> | null = null;
  private seq = 0;
  private retryTimer: ReturnType<typeof setTimeout> | null = null;
  private stopped = false;
  /** a counter of changes to what is shown, and the count at each annotation's last change:
   *  a listing asked for before a change must not undo it when its answer comes after */
  private ticks = 0;
  private readonly touched = new Map<string, number>();
  /** listings come back in any order: only the newest answered is applied */
  private readonly reloads = inOrder();

  constructor(private readonly opts: StoreOptions) {
    this.pending = opts.pending ?? new MemoryPendingStore();
  }

  // --- life ------------------------------------------------------------------------------------

  /** Listen, load the version's annotations and orphans, send what is pending. */
  async start(): Promise<void> {
    const t = this.opts.transport;
    if (this.opts.sender) {
      this.off.push(
        this.opts.sender.attach(this.opts.versionId, {
          acknowledged: (change, ack) => this.acknowledged(change, ack),
          refused: (change, error) => this.refused(change, error),
        }),
      );
    }
    this.off.push(
      t.on('user_event', (e) => this.onUserEvent(e)),
      t.on('event', (e) => this.onMeetingEvent(e)),
      t.on('connect', () => void this.reconnected()),
    );
    await this.reload();
    void this.flush();
  }

  stop(): void {
    this.stopped = true;
    if (this.retryTimer !== null) clearTimeout(this.retryTimer);
    for (const off of this.off.splice(0)) off();
    this.listeners.clear();
    this.noticeListeners.clear();
  }

  subscribe(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  onNotice(listener: (n: Notice) => void): () => void {
    this.noticeListeners.add(listener);
    return () => this.noticeListeners.delete(listener);
  }

  /** The shown annotations, by page then from the top of the page. */
  list(): Annotation[] {
    return [...this.shown.values()].sort((a, b) => a.page - b.page || top(b) - top(a));
  }

  mine(a: Annotation): boolean {
    return a.user_id === this.opts.userId;
  }

  /** This version's annotations as the server last gave them (acknowledged or received), in
   *  the shape of its listing: what the offline briefcase keeps, so that a reload without a
   *  network shows them, with the pending changes on top. */
  serverCopy(): { annotations: Annotation[]; cursor: number } {
    const annotations = [...this.known.values()].filter(
      (a) => !a.deleted && a.document_version_id === this.opts.versionId,
    );
    return { annotations: annotations.map((a) => ({ ...a, mine: this.mine(a) })), cursor: this.cursor };
  }

  /** Read this version's annotations and orphans again. An answer is applied only if no
   *  later reload's answer was, and it neither hides nor rolls back what was received or
   *  changed here while it was on its way (a user event can overtake a listing). */
  async reload(): Promise<void> {
    const fresh = this.reloads.begin();
    const asked = this.ticks;
    const [listing, orphans] = await Promise.all([
      this.opts.api.list(this.opts.versionId),
      this.opts.api.orphaned(this.opts.documentId),
    ]);
    const pending = await this.pending.list();
    if (!fresh()) return;
    const waiting = new Set(pending.map((p) => p.annotationId));
    const listed = new Set(listing.annotations.map((a) => a.id));
    const since = (id: string) => (this.touched.get(id) ?? 0) > asked;
    for (const id of [...this.shown.keys()]) {
      // deleted or unshared, unless it came (or changed here) after the listing was asked for
      if (!listed.has(id) && !waiting.has(id) && !since(id)) this.shown.delete(id);
    }
    for (const a of listing.annotations) {
      const known = this.known.get(a.id);
      if (known && known.version > a.version) continue; // a newer one was received meanwhile
      // received, acknowledged, unshared or changed here meanwhile: the listing is no newer
      if (since(a.id) && (!known || known.version >= a.version)) continue;
      this.known.set(a.id, a);
      if (!waiting.has(a.id) && a.status !== 'orphaned') {
        this.shown.set(a.id, { ...a, mine: this.mine(a) });
      }
    }
    // changes kept from before a reload (an IndexedDB PendingStore): shown as made
    for (const p of pending) this.showPending(p);
    this.cursor = Math.max(this.cursor, listing.cursor);
    // this version's orphans: kept at their old place, which is no longer theirs; listed apart
    this.orphans = orphans.filter((a) => a.document_version_id === this.opts.versionId);
    this.changed();
  }

  private showPending(p: PendingChange): void {
    if (p.op === 'delete') {
      this.shown.delete(p.annotationId);
      return;
    }
    const { base_version: _, ...draft } = p.payload;
    const known = this.known.get(p.annotationId);
    this.shown.set(p.annotationId, {
      ...(known ?? placeholder(this.opts)),
      ...(draft as Partial<Annotation>),
      user_id: this.opts.userId,
      mine: true,
    });
  }

  // --- the user's changes ----------------------------------------------------------------------

  /** Create or change one of my annotations (undoable). */
  async save(draft: AnnotationDraft): Promise<void> {
    const before = this.shown.get(draft.id);
    this.history.record({ before: before ? draftOf(before) : null, after: draftOf(draft) });
    await this.put(draft);
  }

  /** Delete one of my annotations (undoable). */
  async remove(id: string): Promise<void> {
    const before = this.shown.get(id);
    if (!before) return;
    this.history.record({ before: draftOf(before), after: null });
    await this.drop(id);
  }

  async undo(): Promise<void> {
    await this.apply(this.history.undo());
  }

  async redo(): Promise<void> {
    await this.apply(this.history.redo());
  }

  /** Settle a conflict: `mine` re-sends this device's version over the stored one (explicit
   *  last-writer-wins), `theirs` keeps what the server holds. */
  async resolve(id: string, choice: 'mine' | 'theirs'): Promise<void> {
    const conflict = this.conflicts.get(id);
    if (!conflict) return;
    this.conflicts.delete(id);
    if (choice === 'mine') await this.put(conflict.mine);
    else this.changed();
  }

  private async apply(change: Change<AnnotationDraft> | null): Promise<void> {
    if (!change) return;
    if (change.after === null) {
      if (change.before) await this.drop(change.before.id);
      return;
    }
    let after = change.after;
    if (!this.shown.has(after.id)) {
      // it was deleted (or is being): a tombstone is never revived, so it comes back anew
      const fresh = newId();
      this.history.renamed(after.id, fresh);
      after = { ...after, id: fresh };
    }
    await this.put(after);
  }

  private async put(draft: AnnotationDraft): Promise<void> {
    const known = this.known.get(draft.id);
    const shown: Annotation = {
      ...(known ?? placeholder(this.opts)),
      ...draftOf(draft),
      user_id: this.opts.userId,
      mine: true,
      status: known?.status === 'orphaned' ? 'anchored' : (known?.status ?? 'anchored'),
    };
    this.shown.set(draft.id, shown);
    this.touch(draft.id);
    this.changed();
    await this.queue('upsert', draft.id, { ...draftOf(draft), base_version: known?.version ?? 0 });
  }

  private async drop(id: string): Promise<void> {
    this.shown.delete(id);
    this.touch(id);
    this.changed();
    await this.queue('delete', id, { annotation_id: id });
  }

  private async queue(
    op: PendingChange['op'],
    annotationId: string,
    payload: Record<string, unknown>,
  ): Promise<void> {
    const queuedAt = (this.opts.now ?? Date.now)() + this.seq++ / 1000;
    await this.pending.put({ key: newId(), op, annotationId, payload, queuedAt });
    void this.flush();
  }

  // --- sending ---------------------------------------------------------------------------------

  /** Send the pending changes in order until none is left or the connection is lost (through
   *  the shared sender when there is one: one sender, one change at a time). */
  flush(): Promise<void> {
    if (this.opts.sender) return this.stopped ? Promise.resolve() : this.opts.sender.flush();
    if (!this.flushing) {
      this.flushing = this.sendAll().finally(() => {
        this.flushing = null;
      });
    }
    return this.flushing;
  }

  private async sendAll(): Promise<void> {
    for (;;) {
      if (this.stopped || !this.opts.transport.online) return;
      const [next] = await this.pending.list();
      if (!next) return;
      const name = next.op === 'upsert' ? 'annotation.upsert' : 'annotation.delete';
      const ack = await this.opts.transport.call(name, {
        ...next.payload,
        idempotency_key: next.key,
      });
      if (!ack.ok && LOST.has(ack.error.code)) {
        this.retryLater(); // and at the next connect
        return;
      }
      await this.pending.remove(next.key);
      if (ack.ok) await this.acknowledged(next, ack);
      else await this.refused(next, ack.error);
    }
  }

  /** An ack lost on a socket that still looks up: try again in a moment, same key. */
  private retryLater(): void {
    if (this.retryTimer !== null || this.stopped) return;
    this.retryTimer = setTimeout(() => {
      this.retryTimer = null;
      void this.flush();
    }, this.opts.retryMs ?? 2_000);
  }

  private async acknowledged(change: PendingChange, ack: Record<string, unknown>): Promise<void> {
    const a = ack.annotation as Annotation | undefined;
    if (!a) return;
    this.remember(a);
    const later = (await this.pending.list()).filter((p) => p.annotationId === a.id);
    for (const p of later) {
      if (p.op !== 'upsert') continue;
      p.payload.base_version = a.version; // made on top of the change just applied
      await this.pending.put(p);
    }
    if (later.length === 0) {
      if (a.deleted) this.shown.delete(a.id);
      else this.shown.set(a.id, { ...a, mine: true });
      if (change.op === 'upsert') this.notice({ kind: 'saved', id: a.id });
    }
    this.changed();
  }

  private async refused(
    change: PendingChange,
    error: { code: string; details?: unknown },
  ): Promise<void> {
    const id = change.annotationId;
    const current = (error.details as { current?: Annotation } | undefined)?.current;
    if (error.code === 'stale_version' && current) {
      this.remember(current);
      const mine = this.shown.get(id);
      await this.dropPending(id);
      if (current.deleted) {
        this.shown.delete(id);
        this.conflicts.delete(id);
        this.history.forget(id);
        this.notice({ kind: 'deleted_elsewhere', id });
      } else {
        this.shown.set(id, current);
        if (mine) this.conflicts.set(id, { id, mine: draftOf(mine), current });
        this.notice({ kind: 'conflict', id });
      }
    } else if (change.op === 'delete' && error.code === 'unknown_annotation') {
      this.shown.delete(id); // never stored (its creation was refused): nothing to delete
    } else {
      const known = this.known.get(id);
      if (known && !known.deleted) this.shown.set(id, known);
      else this.shown.delete(id);
      this.notice({ kind: 'refused', id, code: error.code });
    }
    this.changed();
  }

  private async dropPending(id: string): Promise<void> {
    for (const p of await this.pending.list()) {
      if (p.annotationId === id) await this.pending.remove(p.key);
    }
  }

  // --- what others did -------------------------------------------------------------------------

  /** Back online: others' shared annotations may have changed meanwhile (meeting events missed
   *  while down are replayed to the sitting, not here), so the list is read again; then my
   *  own changes since the cursor, then what is pending. */
  private async reconnected(): Promise<void> {
    await this.reload().catch(() => {});
    await this.catchUp();
    await this.flush();
  }

  private onUserEvent(e: Record<string, unknown>): void {
    const data = (e.data ?? {}) as Record<string, unknown>;
    const cursor = typeof data.cursor === 'number' ? data.cursor : null;
    const missed = cursor !== null && cursor > this.cursor + 1;
    if (e.type === 'annotation_changed') {
      void this.received(data.annotation as Annotation);
    } else if (e.type === 'annotations_carried') {
      this.carried(data);
    } else {
      return;
    }
    if (missed) void this.catchUp();
    else if (cursor !== null) this.cursor = Math.max(this.cursor, cursor);
  }

  private carried(data: Record<string, unknown>): void {
    if (data.document_id !== this.opts.documentId) return;
    const orphaned = Array.isArray(data.orphaned) ? data.orphaned.length : 0;
    this.notice({ kind: 'carried', orphaned });
    void this.reload();
  }

  private onMeetingEvent(e: Record<string, unknown>): void {
    const data = (e.data ?? {}) as Record<string, unknown>;
    if (data.document_id !== this.opts.documentId) return;
    if (e.type === 'annotation_shared') {
      if (data.annotation) void this.received(data.annotation as Annotation);
      else void this.reload(); // restricted: the event only names it
    } else if (e.type === 'annotation_unshared') {
      const id = String(data.annotation_id);
      const a = this.shown.get(id);
      if (a && !this.mine(a)) {
        this.shown.delete(id);
        this.touch(id);
        this.changed();
      }
    }
  }

  /** `annotation.sync` from the last cursor until nothing more (one run at a time). */
  catchUp(): Promise<void> {
    if (!this.syncing) {
      this.syncing = this.syncAll().finally(() => {
        this.syncing = null;
      });
    }
    return this.syncing;
  }

  private async syncAll(): Promise<void> {
    for (;;) {
      if (this.stopped || !this.opts.transport.online) return;
      const ack = await this.opts.transport.call('annotation.sync', { since: this.cursor });
      if (!ack.ok) return;
      for (const a of (ack.annotations as Annotation[]) ?? []) await this.received(a);
      this.cursor = Math.max(this.cursor, Number(ack.cursor) || 0);
      if (!ack.more) return;
    }
  }

  private async received(a: Annotation | undefined): Promise<void> {
    if (!a || a.document_version_id !== this.opts.versionId) return;
    const before = this.known.get(a.id);
    if (before && before.version > a.version) return; // older than what is known
    this.remember(a);
    // a change of mine is on its way: its answer decides (stale_version if this one came between)
    if ((await this.pending.list()).some((p) => p.annotationId === a.id)) return;
    if (a.deleted || a.status === 'orphaned') {
      this.shown.delete(a.id);
      if (a.deleted) this.history.forget(a.id);
    } else {
      this.shown.set(a.id, { ...a, mine: this.mine(a) });
    }
    this.changed();
  }

  /** Keep the server's copy of an annotation received or acknowledged. */
  private remember(a: Annotation): void {
    this.known.set(a.id, a);
    this.touch(a.id);
  }

  private touch(id: string): void {
    this.touched.set(id, ++this.ticks);
  }

  private changed(): void {
    for (const listener of [...this.listeners]) listener();
  }

  private notice(n: Notice): void {
    for (const listener of [...this.noticeListeners]) listener(n);
  }
}

/** The top of an annotation's geometry, in points (y up): the panel lists top to bottom. */
function top(a: Annotation): number {
  const ys: number[] = [];
  for (const q of a.quads ?? []) ys.push(q[1], q[3]);
  for (const s of a.strokes ?? []) for (const p of s) ys.push(p[1]);
  if (a.rect) ys.push(a.rect[3]);
  return ys.length ? Math.max(...ys) : 0;
}

function placeholder(opts: StoreOptions): Annotation {
  return {
    ...emptyDraft(opts.versionId, 'ink', 0),
    document_id: opts.documentId,
    user_id: opts.userId,
    version: 0,
    deleted: false,
    status: 'anchored',
    carried_from: null,
    cursor: 0,
    created_at: '',
    updated_at: '',
  };
}
