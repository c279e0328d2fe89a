/**
 * An in-memory stand-in for the browser's Cache API (Node has none), with what the briefcase
 * uses: `open`, `delete`, and a cache's `put`, `match`, `delete`, `keys`, by URL path. As in the
 * browser, a cache deleted while a handle on it is held stays usable through that handle but is
 * no longer found by its name.
 */
class FakeCache {
  constructor(private readonly storage: FakeCacheStorage) {}

  readonly entries = new Map<string, { body: ArrayBuffer; status: number; headers: [string, string][] }>();

  async put(url: string, response: Response): Promise<void> {
    this.entries.set(url, {
      body: await response.arrayBuffer(),
      status: response.status,
      headers: [...response.headers],
    });
  }

  async match(url: string | Request, _options?: CacheQueryOptions): Promise<Response | undefined> {
    await this.storage.afterRead?.();
    const entry = this.entries.get(typeof url === 'string' ? url : new URL(url.url).pathname);
    if (!entry) return undefined;
    return new Response(entry.body.slice(0), { status: entry.status, headers: entry.headers });
  }

  async delete(url: string): Promise<boolean> {
    return this.entries.delete(url);
  }

  async keys(): Promise<Request[]> {
    return [...this.entries.keys()].map((url) => new Request(`http://device${url}`));
  }
}

export class FakeCacheStorage {
  readonly caches = new Map<string, FakeCache>();
  /** Run after each lookup of a response, before it is answered (a wipe landing there). */
  afterRead?: () => Promise<unknown> | unknown;

  async open(name: string): Promise<FakeCache> {
    let cache = this.caches.get(name);
    if (!cache) this.caches.set(name, (cache = new FakeCache(this)));
    return cache;
  }

  async delete(name: string): Promise<boolean> {
    return this.caches.delete(name);
  }
}
