// The reader's decoded pages (docs/WEBAPP.md, "Reader"): the ImageBitmaps of the pages near the
// one being read and of the last few shown, so that turning to one of them draws it at once
// instead of decoding its PNG again. Bounded by bytes (width × height × 4 each), least recently
// used closed first (`ImageBitmap.close()` frees the pixels now, not at collection); the pages
// pinned (the current one and its neighbours) are never closed while pinned. Decodes are
// scheduled: the pages on screen ("urgent") start at once, the others (neighbours decoded ahead
// of a turn) wait, one at a time, until nothing urgent is decoding, so they never slow a turn.

export type Decoder = (blob: Blob) => Promise<ImageBitmap>;

const browserDecode: Decoder = (blob) => createImageBitmap(blob);

/** Bytes a decoded bitmap holds (RGBA). */
export function bitmapBytes(bitmap: { width: number; height: number }): number {
  return bitmap.width * bitmap.height * 4;
}

interface Waiting {
  key: string;
  blob: Blob;
  resolve: (bitmap: ImageBitmap) => void;
  reject: (error: unknown) => void;
}

export class BitmapCache {
  /** insertion order is recency order: the first key is the least recently used */
  private readonly entries = new Map<string, { bitmap: ImageBitmap; bytes: number }>();
  private readonly decoding = new Map<string, Promise<ImageBitmap>>();
  private queue: Waiting[] = [];
  private urgentRunning = 0;
  private backgroundRunning = false;
  private pinned = new Set<string>();
  private bytes = 0;
  private closed = false;

  constructor(
    /** most bytes kept (pinned entries may exceed it until unpinned) */
    readonly maxBytes: number,
    private readonly decoder: Decoder = browserDecode,
  ) {}

  /** The bitmap of `key` if it is decoded (and mark it recently used), else null. */
  get(key: string): ImageBitmap | null {
    const entry = this.entries.get(key);
    if (!entry) return null;
    this.entries.delete(key);
    this.entries.set(key, entry);
    return entry.bitmap;
  }

  has(key: string): boolean {
    return this.entries.has(key);
  }

  /**
   * The bitmap of `key`, decoded from `blob` once however many callers ask. `urgent` (a page
   * on screen) starts now, and promotes a waiting background decode of the same key; else it
   * waits its turn behind every urgent decode.
   */
  decode(key: string, blob: Blob, urgent: boolean): Promise<ImageBitmap> {
    const ready = this.get(key);
    if (ready) return Promise.resolve(ready);
    const pending = this.decoding.get(key);
    if (pending) {
      if (urgent) this.promote(key);
      return pending;
    }
    const started = new Promise<ImageBitmap>((resolve, reject) => {
      const job: Waiting = { key, blob, resolve, reject };
      if (urgent) this.runUrgent(job);
      else {
        this.queue.push(job);
        this.pump();
      }
    }).finally(() => this.decoding.delete(key));
    this.decoding.set(key, started);
    return started;
  }

  /** Keep exactly these keys from being closed (the pages near the one read), then evict. */
  pin(keys: Iterable<string>): void {
    this.pinned = new Set(keys);
    this.evict();
  }

  /** Forget background decodes not yet started whose key `keep` refuses (pages moved away). */
  cancelWaiting(keep: (key: string) => boolean): void {
    const dropped = this.queue.filter((job) => !keep(job.key));
    this.queue = this.queue.filter((job) => keep(job.key));
    for (const job of dropped) job.reject(new Error('cancelled'));
  }

  /** Bytes held (for the tests and the benchmark). */
  get size(): number {
    return this.bytes;
  }

  get count(): number {
    return this.entries.size;
  }

  /** Close every bitmap and refuse new ones (the reader closed). */
  clear(): void {
    this.closed = true;
    this.cancelWaiting(() => false);
    for (const { bitmap } of this.entries.values()) bitmap.close();
    this.entries.clear();
    this.bytes = 0;
  }

  private promote(key: string): void {
    const at = this.queue.findIndex((job) => job.key === key);
    if (at < 0) return;
    const [job] = this.queue.splice(at, 1);
    this.runUrgent(job!);
  }

  private runUrgent(job: Waiting): void {
    this.urgentRunning++;
    this.run(job).finally(() => {
      this.urgentRunning--;
      this.pump();
    });
  }

  /** Start the next background decode if nothing urgent or background is running. */
  private pump(): void {
    if (this.backgroundRunning || this.urgentRunning > 0 || this.closed) return;
    const job = this.queue.shift();
    if (!job) return;
    this.backgroundRunning = true;
    this.run(job).finally(() => {
      this.backgroundRunning = false;
      this.pump();
    });
  }

  private async run(job: Waiting): Promise<void> {
    try {
      const bitmap = await this.decoder(job.blob);
      if (this.closed) {
        bitmap.close();
        job.reject(new Error('closed'));
        return;
      }
      const bytes = bitmapBytes(bitmap);
      this.entries.set(job.key, { bitmap, bytes });
      this.bytes += bytes;
      this.evict(job.key);
      job.resolve(bitmap);
    } catch (error) {
      job.reject(error);
    }
  }

  /** Close the least recently used until within `maxBytes`; never a pinned bitmap, nor
   *  `fresh` (just decoded: its caller is about to draw it). */
  private evict(fresh?: string): void {
    for (const [key, { bitmap, bytes }] of this.entries) {
      if (this.bytes <= this.maxBytes) return;
      if (this.pinned.has(key) || key === fresh) continue;
      this.entries.delete(key);
      this.bytes -= bytes;
      bitmap.close();
    }
  }
}
