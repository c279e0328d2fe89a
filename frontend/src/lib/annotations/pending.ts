/**
 * Changes not yet acknowledged by the server, kept by their idempotency key.
 *
 * A change is put here before it is sent and removed when its ack (or a refusal) arrives, so a
 * change whose ack was lost is sent again with the same key and the server answers it with its
 * first result. `MemoryPendingStore` lives as long as the page; the offline briefcase backs
 * the same interface with IndexedDB so changes made offline survive a reload.
 */

export interface PendingChange {
  /** the idempotency key: the store's key */
  key: string;
  op: 'upsert' | 'delete';
  annotationId: string;
  /** `annotation.upsert`'s payload without `idempotency_key` (base_version included), or
   *  `{annotation_id}` for a delete */
  payload: Record<string, unknown>;
  /** order of the changes (ms since epoch, then insertion) */
  queuedAt: number;
}

export interface PendingStore {
  put(change: PendingChange): Promise<void>;
  /** every change, oldest first */
  list(): Promise<PendingChange[]>;
  remove(key: string): Promise<void>;
}

export class MemoryPendingStore implements PendingStore {
  private readonly changes = new Map<string, PendingChange>();

  async put(change: PendingChange): Promise<void> {
    this.changes.set(change.key, structuredClone(change));
  }

  async list(): Promise<PendingChange[]> {
    return [...this.changes.values()]
      .sort((a, b) => a.queuedAt - b.queuedAt)
      .map((c) => structuredClone(c));
  }

  async remove(key: string): Promise<void> {
    this.changes.delete(key);
  }
}

/** What the store does with the server's answer to one of its changes. */
export interface ChangeClient {
  acknowledged(change: PendingChange, ack: Record<string, unknown>): Promise<void>;
  refused(change: PendingChange, error: { code: string; details?: unknown }): Promise<void>;
}

/**
 * A sender shared by every store and page (the offline briefcase's outbox, src/lib/offline/
 * drain.ts): it sends the pending changes of every version one at a time and hands each
 * answer to the store attached for that version. Without one, a store sends its own.
 */
export interface ChangeSender {
  flush(): Promise<void>;
  attach(versionId: number, client: ChangeClient): () => void;
}
