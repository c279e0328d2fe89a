import 'fake-indexeddb/auto';
import { beforeEach, describe, expect, it } from 'vitest';
import type { PendingChange } from '$lib/annotations/pending';
import { closeDatabase, database } from './db';
import { IndexedDbPendingStore } from './pending';
import { wipeBriefcase } from './wipe';

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
