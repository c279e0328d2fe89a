/**
 * The end of a session wipes the briefcase (docs/SECURITY.md, "The offline briefcase"): a
 * logout here, and a session the server no longer knows — signed out on another device, a
 * password change, a revoked session — found at the device's next contact (a 401 over HTTP,
 * `session_ended` or a refused handshake over Socket.IO). The pages, the meeting data and the
 * changes not yet sent all go: the server would refuse those changes without a session anyway.
 * A briefcase found under another user's login goes too: its own session is over.
 */
import { database } from './db';
import { BRIEFCASE_CACHE } from './urls';

let wiping: Promise<void> | null = null;

/** Delete everything the briefcase holds on this device (concurrent calls share one wipe). */
export function wipeBriefcase(): Promise<void> {
  wiping ??= run().finally(() => {
    wiping = null;
  });
  return wiping;
}

async function run(): Promise<void> {
  if (typeof caches !== 'undefined') await caches.delete(BRIEFCASE_CACHE);
  if (typeof indexedDB === 'undefined') return;
  const db = await database();
  const tx = db.transaction(['meetings', 'pending'], 'readwrite');
  await Promise.all([tx.objectStore('meetings').clear(), tx.objectStore('pending').clear(), tx.done]);
}

/** Wipe the briefcase if it was downloaded by someone other than `userId`. */
export async function wipeIfNotOwner(userId: number): Promise<void> {
  if (typeof indexedDB === 'undefined') return;
  const owners = (await (await database()).getAll('meetings')).map((record) => record.userId);
  if (owners.some((owner) => owner !== userId)) await wipeBriefcase();
}
