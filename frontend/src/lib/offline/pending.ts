/**
 * Changes the server has not acknowledged yet, kept in IndexedDB so that they outlive a reload
 * while offline (docs/WEBAPP.md, "Offline briefcase"): the annotation store's `PendingStore`
 * (src/lib/annotations/pending.ts) for one document version. Keyed by the change's idempotency
 * key: putting the same key again replaces the record, and a replay sends the key it was made
 * with, so the server applies each change once however often it is sent (docs/PROTOCOL.md).
 */
import type { PendingChange, PendingStore } from '$lib/annotations/pending';
import { database } from './db';

export class IndexedDbPendingStore implements PendingStore {
  constructor(private readonly versionId: number) {}

  async put(change: PendingChange): Promise<void> {
    await (await database()).put('pending', { ...change, versionId: this.versionId });
  }

  /** This version's changes, oldest first: the order in which they are sent. */
  async list(): Promise<PendingChange[]> {
    const records = await (await database()).getAllFromIndex('pending', 'versionId', this.versionId);
    return records
      .sort((a, b) => a.queuedAt - b.queuedAt)
      .map(({ versionId: _, ...change }) => change);
  }

  async remove(key: string): Promise<void> {
    await (await database()).delete('pending', key);
  }
}
