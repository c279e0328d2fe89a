/**
 * The briefcase's IndexedDB database (docs/WEBAPP.md, "Offline briefcase"): what was downloaded
 * for whom, and the changes not yet acknowledged by the server. The page images and the
 * meeting's JSON live in the Cache API (`cache.ts`); this database holds what describes them.
 *
 * One database for the device: a browser holds one session at a time (one cookie), so the
 * briefcase belongs to the user it was downloaded by (`owner`), and the end of that session
 * wipes all of it (`wipe.ts`).
 */
import { openDB, type DBSchema, type IDBPDatabase } from 'idb';

export const DB_NAME = 'quorum-briefcase';

/** One document of a downloaded meeting: the pages to hold and how many are held. */
export interface BriefcaseDocument {
  id: number;
  title: string;
  version: number;
  pageCount: number;
  pagesHeld: number;
  confidential: boolean;
  /** local time (ms) after which a confidential document's pages are deleted; null: never */
  expiresAt: number | null;
}

export interface BriefcaseMeeting {
  meetingId: number;
  title: string;
  userId: number;
  downloadedAt: number;
  documents: BriefcaseDocument[];
  /** every URL this meeting keeps in the Cache API (to check at start, and to delete) */
  urls: string[];
}

export interface PendingRecord {
  key: string;
  /** the command to send again (`annotation.upsert`, `annotation.delete`) */
  command: string;
  payload: Record<string, unknown>;
  createdAt: number;
}

interface Schema extends DBSchema {
  meetings: { key: number; value: BriefcaseMeeting };
  pending: { key: string; value: PendingRecord; indexes: { createdAt: number } };
}

let opening: Promise<IDBPDatabase<Schema>> | null = null;

/** The database, opened once per page (and again after `closeDatabase`). */
export function database(): Promise<IDBPDatabase<Schema>> {
  opening ??= openDB<Schema>(DB_NAME, 1, {
    upgrade(db) {
      db.createObjectStore('meetings', { keyPath: 'meetingId' });
      db.createObjectStore('pending', { keyPath: 'key' }).createIndex('createdAt', 'createdAt');
    },
    blocking() {
      // another tab deletes or upgrades the database: let it
      void closeDatabase();
    },
  });
  return opening;
}

export async function closeDatabase(): Promise<void> {
  const current = opening;
  opening = null;
  if (current) (await current).close();
}
