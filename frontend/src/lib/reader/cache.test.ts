import { describe, expect, it } from 'vitest';
import { PageCache, type CacheIo } from './cache';

function io(size = 100) {
  const fetched: string[] = [];
  const fake: CacheIo = {
    fetch: async (url) => {
      fetched.push(url);
      return new Blob([new Uint8Array(size)]);
    },
  };
  return { fake, fetched };
}

describe('page cache', () => {
  it('fetches a page once, however many ask at the same time', async () => {
    const { fake, fetched } = io();
    const cache = new PageCache(1000, fake);
    const [a, b] = await Promise.all([cache.load('p1'), cache.load('p1')]);
    expect(a).toBe(b);
    expect(await cache.load('p1')).toBe(a);
    expect(fetched).toEqual(['p1']);
    expect(cache.get('p1')).toBe(a);
  });

  it('drops the least recently used past its size', async () => {
    const { fake, fetched } = io();
    const cache = new PageCache(250, fake);
    await cache.load('p1');
    await cache.load('p2');
    cache.get('p1'); // p2 is now the oldest
    await cache.load('p3');
    expect(cache.has('p2')).toBe(false);
    expect(cache.has('p1') && cache.has('p3')).toBe(true);
    expect(cache.size).toBe(200);
    await cache.load('p2'); // dropped: fetched again
    expect(fetched).toEqual(['p1', 'p2', 'p3', 'p2']);
  });

  it('never drops a pinned (mounted) page', async () => {
    const { fake } = io();
    const cache = new PageCache(150, fake);
    await cache.load('p1');
    cache.pin(['p1']);
    await cache.load('p2');
    await cache.load('p3');
    expect(cache.has('p1')).toBe(true);
    expect(cache.has('p2')).toBe(false);
    expect(cache.has('p3')).toBe(true); // the page just loaded is about to be shown
    cache.pin([]);
    expect(cache.has('p1')).toBe(false);
    expect(cache.size).toBeLessThanOrEqual(150);
  });

  it('clear lets everything go', async () => {
    const { fake } = io();
    const cache = new PageCache(1000, fake);
    await cache.load('a');
    await cache.load('b');
    cache.clear();
    expect(cache.count).toBe(0);
    expect(cache.size).toBe(0);
  });

  it('a failed fetch is not cached', async () => {
    let fail = true;
    const ok = new Blob(['x']);
    const cache = new PageCache(1000, {
      fetch: async () => {
        if (fail) throw new Error('HTTP 503');
        return ok;
      },
    });
    await expect(cache.load('p')).rejects.toThrow('503');
    fail = false;
    expect(await cache.load('p')).toBe(ok);
  });
});
