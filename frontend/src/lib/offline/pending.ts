/**
 * Changes the server has not acknowledged yet, kept in IndexedDB so that they outlive a reload
 * while offline (docs/WEBAPP.md, "Offline briefcase"). Keyed by the change's idempotency key:
 * putting the same key twice keeps one record, and replaying a record sends its key again, so
 * the server applies each change once however often it is sent (docs/PROTOCOL.md).
 */
import { database, type PendingRecord } from './db';

export type { PendingRecord } from './db';

/** Changes not yet acknowledged; the annotation store's `PendingStore`, backed by IndexedDB. */
export class IndexedDbPendingStore {
  async put(record: PendingRecord): Promise<void> {
    await (await database()).put('pending', record);
  }

  /** Oldest first: the order in which they were made, which is the order to replay them. */
  async list(): Promise<PendingRecord[]> {
    return (await database()).getAllFromIndex('pending', 'createdAt');
  }

  async remove(key: string): Promise<void> {
    await (await database()).delete('pending', key);
  }
}
