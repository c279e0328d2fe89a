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
import type { PendingChange } from '$lib/annotations/pending';

export const DB_NAME = 'quorum-briefcase';

/** One document of a downloaded meeting: the pages to hold and how many are held. */
export interface BriefcaseDocument {
  id: number;
  title: string;
  /** the version's number (page URLs) and id (its annotations) */
  version: number;
  versionId: number;
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

/** A change not yet acknowledged (src/lib/annotations/pending.ts), with its document version. */
export interface PendingRecord extends PendingChange {
  versionId: number;
}

interface Schema extends DBSchema {
  meetings: { key: number; value: BriefcaseMeeting };
  pending: { key: string; value: PendingRecord; indexes: { versionId: number } };
}

let opening: Promise<IDBPDatabase<Schema>> | null = null;

/** The database, opened once per page (and again after `closeDatabase`). */
export function database(): Promise<IDBPDatabase<Schema>> {
  opening ??= openDB<Schema>(DB_NAME, 1, {
    upgrade(db) {
      db.createObjectStore('meetings', { keyPath: 'meetingId' });
      db.createObjectStore('pending', { keyPath: 'key' }).createIndex('versionId', 'versionId');
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
