import 'fake-indexeddb/auto';
import { beforeEach, describe, expect, it } from 'vitest';
import type { PendingChange } from '$lib/annotations/pending';
import { AnnotationStore } from '$lib/annotations/store';
import { FakeAnnotationServer, type FakeDevice } from '$lib/annotations/testing/fakeServer';
import { newId, type Annotation, type AnnotationDraft } from '$lib/annotations/types';
import { database } from './db';
import { Outbox, type DrainTransport, type HeldTransport } from './drain';
import { IndexedDbPendingStore } from './pending';

function upsert(key: string, queuedAt: number, annotationId: string, base = 0): PendingChange {
  return { key, op: 'upsert', annotationId, payload: { id: annotationId, base_version: base }, queuedAt };
}

/** A server that applies each idempotency key once (a repeat gets the first answer). */
function server(options: { stale?: Set<string> } = {}) {
  const versions = new Map<string, number>();
  const answers = new Map<string, unknown>();
  const sent: Record<string, unknown>[] = [];
  const listeners = new Set<() => void>();
  const transport: DrainTransport & { online: boolean } = {
    online: true,
    async call(name, payload) {
      await Promise.resolve();
      if (!transport.online) return { ok: false, error: { code: 'disconnected' } };
      sent.push({ name, ...payload });
      const key = String(payload.idempotency_key);
      if (answers.has(key)) return answers.get(key) as { ok: true };
      const id = String(payload.id ?? payload.annotation_id);
      const current = versions.get(id) ?? 0;
      if (options.stale?.has(id) || (name === 'annotation.upsert' && payload.base_version !== current)) {
        return { ok: false, error: { code: 'stale_version' } };
      }
      versions.set(id, current + 1);
      const answer = { ok: true as const, annotation: { id, version: current + 1 } };
      answers.set(key, answer);
      return answer;
    },
    on(_kind, l) {
      listeners.add(l);
      return () => listeners.delete(l);
    },
  };
  let held = 0;
  const connect = (): HeldTransport => {
    held += 1;
    return { transport, release: () => (held -= 1) };
  };
  return {
    transport,
    sent,
    versions,
    connect,
    held: () => held,
    reconnect: () => {
      transport.online = true;
      for (const l of [...listeners]) l();
    },
  };
}

const settle = async () => {
  for (let i = 0; i < 20; i++) await new Promise((r) => setTimeout(r, 0));
};

beforeEach(async () => {
  await (await database()).clear('pending');
});

describe('the outbox', () => {
  it('sends every version oldest first, each once, rebasing later edits, then lets go', async () => {
    const s = server();
    const kept: [number, Annotation][] = [];
    const box = new Outbox({ connect: s.connect, stored: async (v, a) => void kept.push([v, a]) });
    await new IndexedDbPendingStore(11).put(upsert('k2', 2, 'a'));
    await new IndexedDbPendingStore(11).put(upsert('k1', 1, 'a'));
    await new IndexedDbPendingStore(12).put(upsert('k3', 3, 'b'));
    await box.flush();
    expect(s.sent.map((c) => c.idempotency_key)).toEqual(['k1', 'k2', 'k3']);
    expect(s.versions.get('a')).toBe(2); // k2 was made on top of k1: sent with base 1
    expect(await new IndexedDbPendingStore(11).list()).toEqual([]);
    expect(await new IndexedDbPendingStore(12).list()).toEqual([]);
    // no store was showing them: the briefcase's listings get the server's answers
    expect(kept.map(([v, a]) => [v, a.id, a.version])).toEqual([[11, 'a', 1], [11, 'a', 2], [12, 'b', 1]]);
    expect(s.held()).toBe(0); // nothing left: the connection is given back
    box.stop();
  });

  it('holds no connection when nothing waits', async () => {
    const s = server();
    const box = new Outbox({ connect: s.connect });
    await box.flush();
    expect(s.held()).toBe(0);
    expect(s.sent).toEqual([]);
  });

  it('waits for the connection, sends the same key at each connect, applies it once', async () => {
    const s = server();
    s.transport.online = false;
    const box = new Outbox({ connect: s.connect, stored: async () => {} });
    await new IndexedDbPendingStore(11).put(upsert('k1', 1, 'a'));
    await box.flush();
    expect(s.sent).toEqual([]);
    expect(s.held()).toBe(1); // held while a change waits: its next connect sends it
    s.reconnect();
    s.reconnect(); // a second connect at once: one run, the key sent once
    await settle();
    expect(s.sent.map((c) => c.idempotency_key)).toEqual(['k1']);
    expect(s.versions.get('a')).toBe(1);
    expect(await new IndexedDbPendingStore(11).list()).toEqual([]);
    expect(s.held()).toBe(0);
    box.stop();
  });

  it('calls during a run make it go round once more, never two runs at once', async () => {
    const s = server();
    const box = new Outbox({ connect: s.connect, stored: async () => {} });
    await new IndexedDbPendingStore(11).put(upsert('k1', 1, 'a'));
    const first = box.flush();
    await new IndexedDbPendingStore(11).put(upsert('k2', 2, 'b'));
    const calls = [box.flush(), box.flush(), box.flush()];
    await Promise.all([first, ...calls]);
    expect(s.sent.map((c) => c.idempotency_key)).toEqual(['k1', 'k2']);
    box.stop();
  });

  it('leaves a stale_version refusal, and what follows it, for the document to settle', async () => {
    const s = server({ stale: new Set(['a']) });
    const box = new Outbox({ connect: s.connect, stored: async () => {} });
    await new IndexedDbPendingStore(11).put(upsert('k1', 1, 'a'));
    await new IndexedDbPendingStore(11).put(upsert('k2', 2, 'a'));
    await new IndexedDbPendingStore(11).put(upsert('k3', 3, 'b'));
    await box.flush();
    expect((await new IndexedDbPendingStore(11).list()).map((c) => c.key)).toEqual(['k1', 'k2']);
    expect(s.versions.get('b')).toBe(1);
    expect(s.sent.map((c) => c.idempotency_key)).toEqual(['k1', 'k3']);
    box.stop();
  });
});

const VERSION = 12;

function ink(id = newId(), x = 100): AnnotationDraft {
  return {
    id,
    document_version_id: VERSION,
    kind: 'ink',
    page: 0,
    color: '#d00000',
    opacity: 1,
    quads: [],
    strokes: [[[x, 400, 0.6], [x + 10, 410, 0.7]]],
    rect: null,
    text: '',
    anchor: null,
    shared: false,
  };
}

describe('the outbox and the open reader', () => {
  it('after a reload offline, a reconnect heard by the page, the store and the browser sends each change once, with no conflict', async () => {
    const fake = new FakeAnnotationServer();
    // another device made an annotation this tablet then edits offline
    const other = fake.device(1);
    const edited = ink();
    await other.call('annotation.upsert', { ...edited, base_version: 0, idempotency_key: 'other' });

    const tablet: FakeDevice = fake.device(1);
    const box = new Outbox({ connect: () => ({ transport: tablet, release: () => {} }), stored: async () => {} });
    const open = (pending: IndexedDbPendingStore) =>
      new AnnotationStore({
        userId: 1, documentId: 7, versionId: VERSION, transport: tablet, api: fake.api(1), pending, sender: box,
      });
    const before = open(new IndexedDbPendingStore(VERSION));
    await before.start();
    tablet.online = false;
    const drawn = ink(newId(), 200);
    await before.save(drawn);
    await before.save({ ...edited, color: '#0000ff' });
    await before.save({ ...edited, color: '#00ff00' }); // a second edit on top of the first
    await before.save({ ...drawn, color: '#111111' });
    before.stop();

    // reloaded while offline: a new store over the kept changes, then the network comes back
    const store = open(new IndexedDbPendingStore(VERSION));
    await store.start();
    expect(store.shown.get(edited.id)).toMatchObject({ color: '#00ff00' });
    tablet.reconnect(); // heard by the store and by the outbox
    void box.flush(); // and the browser's `online` event, through the layout
    void store.flush();
    await settle();
    await box.flush();
    await settle();

    const keys = fake.calls.filter((c) => c.name === 'annotation.upsert').map((c) => c.payload.idempotency_key);
    expect(keys.length).toBe(5); // the other device's and the four made offline, each once
    expect(new Set(keys).size).toBe(5);
    expect(fake.rows.get(edited.id)).toMatchObject({ version: 3, color: '#00ff00' });
    expect(fake.rows.get(drawn.id)).toMatchObject({ version: 2, color: '#111111' });
    expect(store.conflicts.size).toBe(0);
    expect(store.shown.get(edited.id)).toMatchObject({ version: 3 });
    expect(await new IndexedDbPendingStore(VERSION).list()).toEqual([]);

    // an edit made now is based on the version the outbox got back: applied, not a conflict
    await store.save({ ...edited, color: '#ff0000' });
    await settle();
    expect(fake.rows.get(edited.id)).toMatchObject({ version: 4, color: '#ff0000' });
    expect(store.conflicts.size).toBe(0);
    store.stop();
    box.stop();
  });
});
