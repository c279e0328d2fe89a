// The reader's page cache (docs/WEBAPP.md, "Reader"): page images fetched once, kept as the
// Blobs of their PNG bytes (100–250 KB each, held by the browser's blob store, not decoded
// bitmaps), least recently used dropped first, bounded by bytes. A page turned back to is
// painted from memory at once, even for a confidential document, whose watermarked images the
// server forbids the HTTP cache to keep (`no-store`). No object URL is made: a page is painted
// from its Blob onto a canvas (paint.ts), so no image resource outlives its page.

export interface CacheIo {
  /** fetch the image bytes (throws on failure) */
  fetch(url: string, signal: AbortSignal): Promise<Blob>;
}

export const browserIo: CacheIo = {
  async fetch(url, signal) {
    const response = await fetch(url, { credentials: 'same-origin', signal });
    if (!response.ok) throw new Error(`HTTP ${response.status}`);
    return response.blob();
  },
};

export class PageCache {
  /** insertion order is recency order: the first key is the least recently used */
  private readonly entries = new Map<string, Blob>();
  private readonly loading = new Map<string, Promise<Blob>>();
  private pinned = new Set<string>();
  private readonly controller = new AbortController();
  private bytes = 0;

  constructor(
    /** most bytes kept (pinned entries may exceed it until unpinned) */
    readonly maxBytes: number,
    private readonly io: CacheIo = browserIo,
  ) {}

  /** The image of `key` if it is loaded (and mark it recently used), else null. */
  get(key: string): Blob | null {
    const entry = this.entries.get(key);
    if (!entry) return null;
    this.entries.delete(key);
    this.entries.set(key, entry);
    return entry;
  }

  has(key: string): boolean {
    return this.entries.has(key);
  }

  /** The image of `key`, fetched once however many callers ask at the same time. */
  load(key: string): Promise<Blob> {
    const ready = this.get(key);
    if (ready) return Promise.resolve(ready);
    const pending = this.loading.get(key);
    if (pending) return pending;
    const started = this.io
      .fetch(key, this.controller.signal)
      .then((blob) => {
        this.entries.set(key, blob);
        this.bytes += blob.size;
        this.evict(key);
        return blob;
      })
      .finally(() => this.loading.delete(key));
    this.loading.set(key, started);
    return started;
  }

  /** Keep exactly these keys from being evicted (the mounted pages), then evict. */
  pin(keys: Iterable<string>): void {
    this.pinned = new Set(keys);
    this.evict();
  }

  /** Bytes held (for the benchmark and the tests). */
  get size(): number {
    return this.bytes;
  }

  get count(): number {
    return this.entries.size;
  }

  /** Stop fetches under way and let every image go (the reader closed). */
  clear(): void {
    this.controller.abort();
    this.entries.clear();
    this.bytes = 0;
  }

  /** Drop the least recently used until within `maxBytes`; never a pinned page, nor `fresh`
   *  (just loaded: its caller is about to show it). */
  private evict(fresh?: string): void {
    for (const [key, blob] of this.entries) {
      if (this.bytes <= this.maxBytes) return;
      if (this.pinned.has(key) || key === fresh) continue;
      this.entries.delete(key);
      this.bytes -= blob.size;
    }
  }
}
