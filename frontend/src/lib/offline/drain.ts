/**
 * Sends the changes kept offline for document versions whose reader is not open
 * (docs/WEBAPP.md, "Offline briefcase"): after a reload while offline a delegate may never open
 * that document again, and its changes must still reach the server. At each connect, and once
 * at start if connected, every kept change of another version is sent, oldest first, with the
 * idempotency key it was made with, and removed once the server has answered it. An open
 * reader's annotation store sends its own version's changes (and settles their conflicts).
 *
 * A `stale_version` refusal is left in place: the change is kept until that document's store
 * shows the conflict and the user chooses (docs/features/annotations.md), never dropped silently.
 */
import { database, type PendingRecord } from './db';

/** The part of the realtime `Connection` this needs (tests pass a fake). */
export interface DrainTransport {
  readonly online: boolean;
  call(
    name: string,
    payload: Record<string, unknown>,
  ): Promise<{ ok: true } | { ok: false; error: { code: string } }>;
  on(kind: 'connect', listener: () => void): () => void;
}

/** The answer did not come back: the change may or may not be applied; send it again later. */
const LOST = new Set(['disconnected', 'timeout', 'offline']);

/** Drain at each connect; `openVersion()` names the version whose store is open (or null). */
export function drainOnConnect(transport: DrainTransport, openVersion: () => number | null): () => void {
  let running: Promise<void> | null = null;
  const run = () => {
    running ??= drain(transport, openVersion()).finally(() => (running = null));
  };
  const off = transport.on('connect', run);
  if (transport.online) run();
  return off;
}

/** Send the kept changes of every version but `skip`; resolves when done or disconnected. */
export async function drain(transport: DrainTransport, skip: number | null): Promise<void> {
  const db = await database();
  const records = (await db.getAll('pending'))
    .filter((r) => r.versionId !== skip)
    .sort((a, b) => a.queuedAt - b.queuedAt);
  const refused = new Set<string>(); // annotations with a change left for the store
  for (const listed of records) {
    if (!transport.online) return;
    if (refused.has(listed.annotationId)) continue; // later changes wait behind it
    const record = await db.get('pending', listed.key); // as rebased meanwhile, if still there
    if (!record) continue;
    const ack = await transport.call(commandOf(record), {
      ...record.payload,
      idempotency_key: record.key,
    });
    if (!ack.ok && LOST.has(ack.error.code)) return;
    if (!ack.ok && ack.error.code === 'stale_version') {
      refused.add(record.annotationId);
      continue;
    }
    await db.delete('pending', record.key);
    if (ack.ok) await rebase(record, ack);
  }
}

function commandOf(record: PendingRecord): string {
  return record.op === 'upsert' ? 'annotation.upsert' : 'annotation.delete';
}

/** A later change of the same annotation was made on top of this one: its base is the new
 *  version (as the store does for the changes it sends). */
async function rebase(record: PendingRecord, ack: Record<string, unknown>): Promise<void> {
  const version = (ack.annotation as { version?: number } | undefined)?.version;
  if (version === undefined) return;
  const db = await database();
  for (const later of await db.getAllFromIndex('pending', 'versionId', record.versionId)) {
    if (later.annotationId !== record.annotationId || later.op !== 'upsert') continue;
    await db.put('pending', { ...later, payload: { ...later.payload, base_version: version } });
  }
}
