import 'fake-indexeddb/auto';
import { beforeEach, describe, expect, it } from 'vitest';
import { held, remove, SessionEnded, sweepExpired, sync, type BriefcaseEnv } from './briefcase';
import { database } from './db';
import { FakeCacheStorage } from './testing/fakeCaches';
import { BRIEFCASE_CACHE, EXPIRES_HEADER } from './urls';

const HOUR = 3_600_000;
const SERVER_NOW = Date.parse('2026-12-07T08:00:00Z');

/** A server with a meeting of two documents: a public one of 3 pages, a confidential one of 2. */
function server(options: { skewMs?: number; status?: number } = {}) {
  const asked: string[] = [];
  let version = 1;
  const documents = () => [
    { id: 1, title: 'Budget', visibility: 'members', offline_expires_at: null, current_version: { id: 10 + version, number: version, page_count: 3 } },
    {
      id: 2,
      title: 'Annex',
      visibility: 'confidential',
      offline_expires_at: new Date(SERVER_NOW + 12 * HOUR).toISOString(),
      current_version: { id: 20, number: 1, page_count: 2 },
    },
    { id: 3, title: 'Restricted', visibility: 'restricted', offline_expires_at: null, current_version: null },
  ];
  const json: Record<string, () => unknown> = {
    '/api/auth/me': () => ({ id: 7, username: 'delegate001' }),
    '/api/meetings': () => [{ id: 5 }],
    '/api/meetings/5/snapshot': () => ({ meeting: { title: 'Kỳ họp thứ 9' }, seq: 3 }),
    '/api/meetings/5/documents': documents,
  };
  const fetch = async (input: RequestInfo | URL): Promise<Response> => {
    const url = String(input);
    asked.push(url);
    if (options.status) return new Response('{}', { status: options.status });
    const date = new Date(SERVER_NOW + (options.skewMs ?? 0)).toUTCString();
    if (url in json) return Response.json(json[url]!(), { headers: { date } });
    return new Response(new Uint8Array([1, 2, 3]), { headers: { 'content-type': 'image/png' } });
  };
  return { fetch: fetch as typeof globalThis.fetch, asked, newVersion: () => (version += 1) };
}

let caches: FakeCacheStorage;
let clock: number;

function env(fetch: typeof globalThis.fetch): BriefcaseEnv {
  return { fetch, caches: caches as unknown as CacheStorage, now: () => clock };
}

beforeEach(async () => {
  caches = new FakeCacheStorage();
  clock = SERVER_NOW;
  const db = await database();
  await db.clear('meetings');
  await db.clear('pending');
});

describe('the briefcase', () => {
  it('downloads every page, the PDFs and the JSON, with progress', async () => {
    const s = server();
    const seen: number[] = [];
    const record = await sync(5, (p) => seen.push(p.done), env(s.fetch));
    expect(record.title).toBe('Kỳ họp thứ 9');
    expect(record.documents.map((d) => [d.id, d.pageCount, d.pagesHeld])).toEqual([
      [1, 3, 3],
      [2, 2, 2],
    ]);
    expect(seen.at(-1)).toBe(5);
    expect(seen[0]).toBe(0);
    const cache = await caches.open(BRIEFCASE_CACHE);
    expect([...cache.entries.keys()].sort()).toEqual(
      [
        '/api/auth/me',
        '/api/meetings',
        '/api/meetings/5/snapshot',
        '/api/meetings/5/documents',
        '/api/documents/1/file?version=1',
        '/api/documents/2/file?version=1',
        '/api/document-versions/11/annotations',
        '/api/document-versions/20/annotations',
        '/api/annotations/orphaned?document_id=1',
        '/api/annotations/orphaned?document_id=2',
        ...[0, 1, 2].map((p) => `/api/documents/1/pages/${p}/image?version=1&width=1200`),
        ...[0, 1, 2].map((p) => `/api/documents/1/pages/${p}/words?version=1`),
        ...[0, 1].map((p) => `/api/documents/2/pages/${p}/image?version=1&width=1200`),
        ...[0, 1].map((p) => `/api/documents/2/pages/${p}/words?version=1`),
      ].sort(),
    );
    expect((await held(5, env(s.fetch)))!.documents.map((d) => d.pagesHeld)).toEqual([3, 2]);
  });

  it('fetches again only what is missing', async () => {
    const s = server();
    await sync(5, () => {}, env(s.fetch));
    const cache = await caches.open(BRIEFCASE_CACHE);
    await cache.delete('/api/documents/1/pages/1/image?version=1&width=1200'); // evicted
    expect((await held(5, env(s.fetch)))!.documents[0]!.pagesHeld).toBe(2);
    s.asked.length = 0;
    await sync(5, () => {}, env(s.fetch));
    const binaries = s.asked.filter((u) => u.startsWith('/api/documents/'));
    expect(binaries).toEqual(['/api/documents/1/pages/1/image?version=1&width=1200']);
    // the annotations change: they are fetched each time
    expect(s.asked).toContain('/api/document-versions/11/annotations');
  });

  it('keeps a new version and drops the old one', async () => {
    const s = server();
    await sync(5, () => {}, env(s.fetch));
    s.newVersion();
    await sync(5, () => {}, env(s.fetch));
    const keys = [...(await caches.open(BRIEFCASE_CACHE)).entries.keys()];
    expect(keys.filter((k) => k.startsWith('/api/documents/1/')).every((k) => k.includes('version=2'))).toBe(true);
  });

  it('gives confidential pages their expiry in local time, and deletes them once it passed', async () => {
    const s = server({ skewMs: 30 * 60_000 }); // the server's clock is 30 minutes ahead
    const record = await sync(5, () => {}, env(s.fetch));
    const annex = record.documents.find((d) => d.id === 2)!;
    expect(annex.expiresAt).toBe(SERVER_NOW + 12 * HOUR - 30 * 60_000);
    expect(record.documents.find((d) => d.id === 1)!.expiresAt).toBeNull();
    const cache = await caches.open(BRIEFCASE_CACHE);
    const page = await cache.match('/api/documents/2/pages/0/image?version=1&width=1200');
    expect(page!.headers.get(EXPIRES_HEADER)).toBe(String(annex.expiresAt));

    clock = annex.expiresAt! - 1;
    expect(await sweepExpired(env(s.fetch))).toBe(0);
    clock = annex.expiresAt!;
    // two pages, their words, the PDF, the annotations and the orphans
    expect(await sweepExpired(env(s.fetch))).toBe(7);
    const after = (await held(5, env(s.fetch)))!;
    expect(after.documents.map((d) => d.pagesHeld)).toEqual([3, 0]);
    expect(await cache.match('/api/documents/1/pages/0/image?version=1&width=1200')).toBeDefined();
  });

  it('stops with SessionEnded on a 401', async () => {
    const s = server({ status: 401 });
    await expect(sync(5, () => {}, env(s.fetch))).rejects.toBeInstanceOf(SessionEnded);
  });

  it('removes a meeting', async () => {
    const s = server();
    await sync(5, () => {}, env(s.fetch));
    await remove(5, env(s.fetch));
    expect(await held(5, env(s.fetch))).toBeNull();
    expect((await caches.open(BRIEFCASE_CACHE)).entries.size).toBe(0);
  });
});
