/**
 * Replacing a response the briefcase already holds (the annotation listings kept current, the
 * service worker's newer JSON), never adding one it does not hold.
 */
import { BRIEFCASE_CACHE } from './urls';

/**
 * Replace the briefcase's response for `key` with what `next` makes of it; nothing when the
 * briefcase holds none. The read and the write go through one handle on the cache: a wipe
 * landing between them (the session ending, src/lib/offline/wipe.ts) deletes the cache that
 * handle points to, so the write is lost with it. Looking the response up by the cache's name
 * and then opening the cache again for the write would make a new cache under that name after
 * such a wipe, holding this one response on a device that was meant to be emptied.
 */
export async function replaceHeld(
  storage: CacheStorage,
  key: string,
  next: (stored: Response) => Promise<Response> | Response,
  options?: CacheQueryOptions,
): Promise<void> {
  const cache = await storage.open(BRIEFCASE_CACHE);
  const stored = await cache.match(key, options);
  if (!stored) return;
  await cache.put(key, await next(stored));
}
