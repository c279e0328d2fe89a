import 'fake-indexeddb/auto';
import { beforeEach, describe, expect, it } from 'vitest';
import type { PendingChange } from '$lib/annotations/pending';
import { database } from './db';
import { drain, drainOnConnect, type DrainTransport } from './drain';
import { IndexedDbPendingStore } from './pending';

function upsert(key: string, queuedAt: number, annotationId: string, base = 0): PendingChange {
  return { key, op: 'upsert', annotationId, payload: { id: annotationId, base_version: base }, queuedAt };
}

/** A server that applies each idempotency key once (a repeat gets the first answer). */
function server(options: { stale?: Set<string> } = {}) {
  const versions = new Map<string, number>();
  const answers = new Map<string, unknown>();
  const sent: Record<string, unknown>[] = [];
  let listener: (() => void) | null = null;
  const transport: DrainTransport & { online: boolean } = {
    online: true,
    async call(name, payload) {
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
      listener = l;
      return () => (listener = null);
    },
  };
  return { transport, sent, versions, connect: () => listener?.() };
}

beforeEach(async () => {
  await (await database()).clear('pending');
});

describe('draining the kept changes', () => {
  it('sends every version but the open one, oldest first, each once, rebasing later edits', async () => {
    const s = server();
    await new IndexedDbPendingStore(11).put(upsert('k2', 2, 'a'));
    await new IndexedDbPendingStore(11).put(upsert('k1', 1, 'a'));
    await new IndexedDbPendingStore(12).put(upsert('k3', 3, 'b'));
    await drain(s.transport, 12);
    expect(s.sent.map((c) => c.idempotency_key)).toEqual(['k1', 'k2']);
    expect(s.versions.get('a')).toBe(2); // k2 was made on top of k1: sent with base 1
    expect((await new IndexedDbPendingStore(11).list()).length).toBe(0);
    expect((await new IndexedDbPendingStore(12).list()).map((c) => c.key)).toEqual(['k3']);
  });

  it('stops when the connection drops and sends the same key at the next connect', async () => {
    const s = server();
    await new IndexedDbPendingStore(11).put(upsert('k1', 1, 'a'));
    s.transport.online = false;
    const off = drainOnConnect(s.transport, () => null);
    await new Promise((r) => setTimeout(r, 0));
    expect(s.sent).toEqual([]);
    s.transport.online = true;
    s.connect();
    await new Promise((r) => setTimeout(r, 10));
    s.connect(); // a second connect: the key is answered again, never applied twice
    await new Promise((r) => setTimeout(r, 10));
    expect(s.versions.get('a')).toBe(1);
    expect(await new IndexedDbPendingStore(11).list()).toEqual([]);
    off();
  });

  it('leaves a stale_version refusal, and what follows it, for the document to settle', async () => {
    const s = server({ stale: new Set(['a']) });
    await new IndexedDbPendingStore(11).put(upsert('k1', 1, 'a'));
    await new IndexedDbPendingStore(11).put(upsert('k2', 2, 'a'));
    await new IndexedDbPendingStore(11).put(upsert('k3', 3, 'b'));
    await drain(s.transport, null);
    expect((await new IndexedDbPendingStore(11).list()).map((c) => c.key)).toEqual(['k1', 'k2']);
    expect(s.versions.get('b')).toBe(1);
  });
});
