import { describe, expect, it } from 'vitest';
import { BitmapCache, bitmapBytes, type Decoder } from './bitmaps';

/** A stand-in for an ImageBitmap (Node has none): its size, and whether it was closed. */
class FakeBitmap {
  closed = false;
  constructor(
    public width: number,
    public height: number,
  ) {}
  close() {
    this.closed = true;
    this.width = 0;
    this.height = 0;
  }
}

/** A decoder making 10×10 bitmaps (400 bytes each), recording the order of its calls; with
 *  `manual`, each decode waits until `finish()` lets the oldest one go. */
function decoder(manual = false) {
  const started: string[] = [];
  const made: FakeBitmap[] = [];
  const waiting: (() => void)[] = [];
  const decode: Decoder = async (blob) => {
    started.push(await blob.text());
    if (manual) await new Promise<void>((resolve) => waiting.push(resolve));
    const bitmap = new FakeBitmap(10, 10);
    made.push(bitmap);
    return bitmap as unknown as ImageBitmap;
  };
  const finish = async () => {
    waiting.shift()?.();
    await new Promise((resolve) => setTimeout(resolve, 0));
  };
  return { decode, started, made, finish };
}

const blob = (key: string) => new Blob([key]);
const tick = () => new Promise((resolve) => setTimeout(resolve, 0));

describe('bitmap cache', () => {
  it('counts width × height × 4 bytes a bitmap', () => {
    expect(bitmapBytes({ width: 1200, height: 1697 })).toBe(8_145_600);
  });

  it('decodes a page once, however many ask, and hands it back from memory', async () => {
    const d = decoder();
    const cache = new BitmapCache(10_000, d.decode);
    const [a, b] = await Promise.all([
      cache.decode('p1', blob('p1'), true),
      cache.decode('p1', blob('p1'), false),
    ]);
    expect(a).toBe(b);
    expect(cache.get('p1')).toBe(a);
    expect(await cache.decode('p1', blob('p1'), true)).toBe(a);
    expect(d.started).toEqual(['p1']);
    expect(cache.size).toBe(400);
  });

  it('keeps within its byte budget, closing the least recently used', async () => {
    const d = decoder();
    const cache = new BitmapCache(1000, d.decode); // two 400-byte bitmaps
    const p1 = await cache.decode('p1', blob('p1'), true);
    const p2 = await cache.decode('p2', blob('p2'), true);
    cache.get('p1'); // p2 is now the oldest
    const p3 = await cache.decode('p3', blob('p3'), true);
    expect(cache.has('p2')).toBe(false);
    expect((p2 as unknown as FakeBitmap).closed).toBe(true);
    expect((p1 as unknown as FakeBitmap).closed).toBe(false);
    expect((p3 as unknown as FakeBitmap).closed).toBe(false);
    expect(cache.size).toBe(800);
    expect(cache.size).toBeLessThanOrEqual(cache.maxBytes);
    for (const key of ['p4', 'p5', 'p6']) await cache.decode(key, blob(key), true);
    expect(cache.count).toBe(2);
    expect(cache.size).toBeLessThanOrEqual(1000);
    expect(d.made.filter((b) => b.closed)).toHaveLength(d.made.length - 2);
  });

  it('never closes a pinned page, and closes it once unpinned past the budget', async () => {
    const d = decoder();
    const cache = new BitmapCache(500, d.decode); // one bitmap
    const p1 = await cache.decode('p1', blob('p1'), true);
    cache.pin(['p1']);
    const p2 = await cache.decode('p2', blob('p2'), true);
    const p3 = await cache.decode('p3', blob('p3'), true);
    expect(cache.has('p1')).toBe(true);
    expect((p1 as unknown as FakeBitmap).closed).toBe(false);
    expect((p2 as unknown as FakeBitmap).closed).toBe(true);
    expect(cache.has('p3')).toBe(true); // just decoded: its page is about to draw it
    cache.pin(['p3']);
    expect((p1 as unknown as FakeBitmap).closed).toBe(true);
    expect(cache.has('p1')).toBe(false);
    expect((p3 as unknown as FakeBitmap).closed).toBe(false);
    expect(cache.size).toBeLessThanOrEqual(500);
  });

  it('decodes a page on screen before the neighbours decoded ahead, one of them at a time', async () => {
    const d = decoder(true);
    const cache = new BitmapCache(10_000, d.decode);
    const ahead = ['n1', 'n2'].map((key) => cache.decode(key, blob(key), false));
    await tick();
    expect(d.started).toEqual(['n1']); // one background decode at a time
    const shown = cache.decode('s', blob('s'), true);
    await tick();
    expect(d.started).toEqual(['n1', 's']); // on screen: started at once
    await d.finish(); // n1 done; n2 waits while `s` is decoding
    expect(d.started).toEqual(['n1', 's']);
    await d.finish(); // s done
    await shown;
    expect(d.started).toEqual(['n1', 's', 'n2']);
    await d.finish();
    await Promise.all(ahead);
    expect(cache.count).toBe(3);
  });

  it('a page turned to while waiting to be decoded ahead is decoded now', async () => {
    const d = decoder(true);
    const cache = new BitmapCache(10_000, d.decode);
    void cache.decode('n1', blob('n1'), false);
    const later = cache.decode('n2', blob('n2'), false);
    await tick();
    expect(d.started).toEqual(['n1']);
    expect(cache.decode('n2', blob('n2'), true)).toBe(later); // the same decode, promoted
    await tick();
    expect(d.started).toEqual(['n1', 'n2']);
  });

  it('forgets decodes ahead for pages moved away from', async () => {
    const d = decoder(true);
    const cache = new BitmapCache(10_000, d.decode);
    void cache.decode('n1', blob('n1'), false);
    const far = cache.decode('far', blob('far'), false);
    await tick();
    cache.cancelWaiting((key) => key !== 'far');
    await expect(far).rejects.toThrow('cancelled');
    await d.finish();
    expect(d.started).toEqual(['n1']);
  });

  it('clear closes every bitmap, and one decoded after it at once', async () => {
    const d = decoder(true);
    const cache = new BitmapCache(10_000, d.decode);
    const done = cache.decode('a', blob('a'), true);
    await tick();
    await d.finish();
    await done;
    const late = cache.decode('b', blob('b'), true);
    await tick();
    cache.clear();
    expect(cache.count).toBe(0);
    expect(cache.size).toBe(0);
    const refused = expect(late).rejects.toThrow('closed');
    await d.finish();
    await refused;
    expect(d.made.every((b) => b.closed)).toBe(true);
  });
});
