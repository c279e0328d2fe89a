/**
 * A stand-in for the server's annotation sync (docs/features/annotations.md, "Sync") for unit tests of
 * the store: versions, `base_version` and `stale_version`, replays answered with the stored
 * annotation, idempotency keys, tombstones, one change counter per user, user events to the
 * user's other devices. The real server is exercised by the browser tests.
 */
import type { AckLike, AnnotationApi, AnnotationTransport } from '../store';
import type { Annotation } from '../types';

type Listener = (e: any) => void;

export class FakeAnnotationServer {
  readonly rows = new Map<string, Annotation>();
  private readonly keys = new Map<string, AckLike>();
  private readonly cursors = new Map<number, number>();
  readonly devices: FakeDevice[] = [];
  calls: { name: string; payload: Record<string, any> }[] = [];

  device(userId: number): FakeDevice {
    const d = new FakeDevice(this, userId);
    this.devices.push(d);
    return d;
  }

  api(userId: number): AnnotationApi {
    return {
      list: async (versionId) => ({
        annotations: [...this.rows.values()].filter(
          (a) =>
            a.document_version_id === versionId &&
            !a.deleted &&
            (a.user_id === userId || a.shared),
        ),
        cursor: this.cursors.get(userId) ?? 0,
      }),
      orphaned: async (documentId) =>
        [...this.rows.values()].filter(
          (a) => a.user_id === userId && a.status === 'orphaned' && a.document_id === documentId,
        ),
    };
  }

  handle(from: FakeDevice, name: string, p: Record<string, any>): AckLike {
    this.calls.push({ name, payload: p });
    const key = p.idempotency_key ? `${from.userId}:${name}:${p.idempotency_key}` : null;
    if (key && this.keys.has(key)) return this.keys.get(key)!;
    const answer =
      name === 'annotation.upsert'
        ? this.upsert(from, p)
        : name === 'annotation.delete'
          ? this.remove(from, p.annotation_id)
          : this.sync(from.userId, p.since);
    if (key && answer.ok) this.keys.set(key, answer);
    return answer;
  }

  private upsert(from: FakeDevice, p: Record<string, any>): AckLike {
    const { base_version, idempotency_key: _k, ...content } = p;
    const stored = this.rows.get(p.id);
    if (stored && (stored.deleted || stored.version !== base_version)) {
      const same = !stored.deleted && JSON.stringify(pick(stored, content)) === JSON.stringify(content);
      if (same) return { ok: true, annotation: stored, cursor: stored.cursor };
      return { ok: false, error: { code: 'stale_version', message: 'stale', details: { current: stored } } };
    }
    return this.store(from, {
      ...(stored ?? {}),
      ...content,
      user_id: from.userId,
      document_id: 7,
      version: (stored?.version ?? 0) + 1,
      deleted: false,
      status: 'anchored',
      carried_from: null,
      created_at: '',
      updated_at: '',
    } as Annotation);
  }

  private remove(from: FakeDevice, id: string): AckLike {
    const stored = this.rows.get(id);
    if (!stored) return { ok: false, error: { code: 'unknown_annotation', message: '' } };
    if (stored.deleted) return { ok: true, annotation: stored, cursor: stored.cursor };
    return this.store(from, { ...stored, deleted: true, shared: false, version: stored.version + 1 });
  }

  private store(from: FakeDevice, a: Annotation): AckLike {
    const cursor = (this.cursors.get(a.user_id) ?? 0) + 1;
    this.cursors.set(a.user_id, cursor);
    const row = { ...a, cursor };
    this.rows.set(row.id, row);
    for (const d of this.devices) {
      if (d !== from && d.userId === row.user_id && d.online) {
        d.deliver('user_event', { type: 'annotation_changed', data: { annotation: row, cursor } });
      }
    }
    return { ok: true, annotation: row, cursor };
  }

  private sync(userId: number, since: number): AckLike {
    const changes = [...this.rows.values()]
      .filter((a) => a.user_id === userId && a.cursor > since)
      .sort((a, b) => a.cursor - b.cursor);
    return { ok: true, annotations: changes, cursor: this.cursors.get(userId) ?? 0, more: false };
  }
}

function pick(a: Annotation, like: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const k of Object.keys(like)) out[k] = (a as unknown as Record<string, unknown>)[k];
  return out;
}

/** One device's socket: online or not; can lose the acks of its next changes (which the
 *  server still applies). */
export class FakeDevice implements AnnotationTransport {
  online = true;
  loseAcks = 0;
  /** events not delivered (the socket missed them) */
  deaf = false;
  private readonly listeners = new Map<string, Set<Listener>>();

  constructor(
    readonly server: FakeAnnotationServer,
    readonly userId: number,
  ) {}

  async call(name: string, payload: Record<string, unknown>): Promise<AckLike> {
    await Promise.resolve();
    if (!this.online) return { ok: false, error: { code: 'disconnected', message: '' } };
    const answer = this.server.handle(this, name, JSON.parse(JSON.stringify(payload)));
    if (this.loseAcks > 0 && name !== 'annotation.sync') {
      this.loseAcks -= 1;
      return { ok: false, error: { code: 'timeout', message: '' } };
    }
    return JSON.parse(JSON.stringify(answer));
  }

  on(kind: string, listener: Listener): () => void {
    const set = this.listeners.get(kind) ?? new Set();
    set.add(listener);
    this.listeners.set(kind, set);
    return () => set.delete(listener);
  }

  deliver(kind: string, value: unknown): void {
    if (this.deaf) return;
    for (const l of this.listeners.get(kind) ?? []) l(value);
  }

  reconnect(): void {
    this.online = true;
    this.deliver('connect', { reconnect: true });
  }
}
