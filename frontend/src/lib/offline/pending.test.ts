import 'fake-indexeddb/auto';
import { beforeEach, describe, expect, it } from 'vitest';
import type { PendingChange } from '$lib/annotations/pending';
import { closeDatabase, database } from './db';
import { IndexedDbPendingStore } from './pending';
import { wipeBriefcase, wipeIfNotOwner } from './wipe';

function change(key: string, queuedAt: number, annotationId = 'a1'): PendingChange {
  return { key, op: 'upsert', annotationId, payload: { id: annotationId, base_version: 0 }, queuedAt };
}

beforeEach(async () => {
  await (await database()).clear('pending');
});

describe('the IndexedDB PendingStore', () => {
  it('keeps one record per idempotency key, oldest first, per document version', async () => {
    const one = new IndexedDbPendingStore(11);
    const other = new IndexedDbPendingStore(12);
    await one.put(change('k2', 2));
    await one.put(change('k1', 1));
    await one.put({ ...change('k1', 1), payload: { id: 'a1', base_version: 3 } });
    await other.put(change('k3', 0, 'b1'));
    expect((await one.list()).map((c) => [c.key, c.payload.base_version])).toEqual([
      ['k1', 3],
      ['k2', 0],
    ]);
    expect((await other.list()).map((c) => c.key)).toEqual(['k3']);
    await one.remove('k1');
    expect((await one.list()).map((c) => c.key)).toEqual(['k2']);
  });

  it('outlives the page: a new connection to the database lists the same changes', async () => {
    await new IndexedDbPendingStore(11).put(change('k1', 1));
    await closeDatabase();
    expect(await new IndexedDbPendingStore(11).list()).toEqual([change('k1', 1)]);
  });

  it('is emptied by the wipe at the end of a session', async () => {
    await new IndexedDbPendingStore(11).put(change('k1', 1));
    await wipeBriefcase();
    expect(await new IndexedDbPendingStore(11).list()).toEqual([]);
  });
});

describe('another user', () => {
  it('finds the briefcase of the previous one wiped', async () => {
    const db = await database();
    await db.put('meetings', { meetingId: 5, title: '', userId: 7, downloadedAt: 0, documents: [], urls: [] });
    await new IndexedDbPendingStore(11).put(change('k1', 1));
    await wipeIfNotOwner(7);
    expect(await db.count('meetings')).toBe(1);
    await wipeIfNotOwner(8);
    expect(await db.count('meetings')).toBe(0);
    expect(await db.count('pending')).toBe(0);
  });
});
