import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { AnnotationStore } from '$lib/annotations/store';
import type { Annotation } from '$lib/annotations/types';
import { keepAcknowledged, keepAnnotations } from './keep';
import { FakeCacheStorage } from './testing/fakeCaches';
import { BRIEFCASE_CACHE, EXPIRES_HEADER, annotationListUrl } from './urls';

const LISTING = annotationListUrl(7);
let storage: FakeCacheStorage;
const scope = globalThis as { caches?: unknown };

async function held(url: string): Promise<unknown> {
  const response = await (await storage.open(BRIEFCASE_CACHE)).match(url);
  return response ? { body: await response.json(), expires: response.headers.get(EXPIRES_HEADER) } : null;
}

/** Entries kept under the briefcase's name (what a browser would still find there). */
function entriesByName(): number {
  return storage.caches.get(BRIEFCASE_CACHE)?.entries.size ?? 0;
}

function stroke(id: string, extra: Partial<Annotation> = {}): Annotation {
  return { id, version: 1, ...extra } as Annotation;
}

beforeEach(async () => {
  storage = new FakeCacheStorage();
  scope.caches = storage;
  const stored = { annotations: [stroke('a'), stroke('b')], cursor: 3 };
  await (await storage.open(BRIEFCASE_CACHE)).put(LISTING, new Response(JSON.stringify(stored), {
    headers: { 'content-type': 'application/json', [EXPIRES_HEADER]: '1234' },
  }));
});

afterEach(() => {
  delete scope.caches;
  vi.useRealTimers();
});

describe('keepAcknowledged', () => {
  it('puts the server\'s answer into the stored listing, keeping its cursor and expiry', async () => {
    await keepAcknowledged(7, stroke('b', { version: 2 }));
    await keepAcknowledged(7, stroke('a', { deleted: true } as Partial<Annotation>));
    expect(await held(LISTING)).toEqual({
      body: { annotations: [{ id: 'b', version: 2, mine: true }], cursor: 3 },
      expires: '1234',
    });
  });

  it('leaves a version that was not downloaded alone', async () => {
    await keepAcknowledged(8, stroke('c'));
    expect(await held(annotationListUrl(8))).toBeNull();
  });

  it('writes nothing back under the name of a cache wiped between its read and its write', async () => {
    storage.afterRead = () => storage.delete(BRIEFCASE_CACHE);
    await keepAcknowledged(7, stroke('c'));
    expect(entriesByName()).toBe(0);
  });
});

describe('keepAnnotations', () => {
  function following(listing: unknown) {
    const listeners = new Set<() => void>();
    const store = {
      subscribe: (listener: () => void) => (listeners.add(listener), () => listeners.delete(listener)),
      serverCopy: () => listing,
    } as unknown as AnnotationStore;
    return { store, change: () => listeners.forEach((listener) => listener()) };
  }

  it('replaces the stored listing a moment after a change', async () => {
    vi.useFakeTimers();
    const { store, change } = following({ annotations: [stroke('z')], cursor: 9 });
    const stop = keepAnnotations(store, 7);
    change();
    await vi.advanceTimersByTimeAsync(600);
    stop();
    expect(await held(LISTING)).toEqual({ body: { annotations: [stroke('z')], cursor: 9 }, expires: '1234' });
  });

  it('writes nothing back under the name of a cache wiped between its read and its write', async () => {
    vi.useFakeTimers();
    storage.afterRead = () => storage.delete(BRIEFCASE_CACHE);
    const { store, change } = following({ annotations: [], cursor: 9 });
    const stop = keepAnnotations(store, 7);
    change();
    await vi.advanceTimersByTimeAsync(600);
    stop();
    expect(entriesByName()).toBe(0);
  });
});
