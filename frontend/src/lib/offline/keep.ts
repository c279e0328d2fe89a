/**
 * Keeps a downloaded version's annotations current in the briefcase (docs/WEBAPP.md, "Offline
 * briefcase"): the listing stored at the download is replaced, a moment after each change, by
 * what the annotation store last heard from the server, so a reload without a network shows
 * the strokes acknowledged since. Versions that were not downloaded are left alone.
 */
import type { AnnotationStore } from '$lib/annotations/store';
import type { Annotation } from '$lib/annotations/types';
import { replaceHeld } from './held';
import { annotationListUrl } from './urls';

const DELAY_MS = 500;

/** Follow `store`; returns the function that stops following it. */
export function keepAnnotations(store: AnnotationStore, versionId: number): () => void {
  let timer: ReturnType<typeof setTimeout> | null = null;
  const off = store.subscribe(() => {
    if (timer !== null) return;
    timer = setTimeout(() => {
      timer = null;
      void writeListing(versionId, store.serverCopy()).catch(() => {});
    }, DELAY_MS);
  });
  return () => {
    off();
    if (timer !== null) clearTimeout(timer);
  };
}

async function writeListing(versionId: number, listing: unknown): Promise<void> {
  if (typeof caches === 'undefined') return;
  // the stored headers carry a confidential document's expiry
  await replaceHeld(caches, annotationListUrl(versionId),
    (stored) => new Response(JSON.stringify(listing), { headers: stored.headers }));
}

/** The outbox sent a change of a version no store is showing: put the server's answer into the
 *  stored listing (replacing the older copy, a tombstone removing it), so that a reload without
 *  a network starts from the version the server holds and the next edit is made on it. */
export async function keepAcknowledged(versionId: number, annotation: Annotation): Promise<void> {
  if (typeof caches === 'undefined') return;
  await replaceHeld(caches, annotationListUrl(versionId), async (stored) => {
    const listing = (await stored.clone().json()) as { annotations: Annotation[]; cursor: number };
    const others = listing.annotations.filter((a) => a.id !== annotation.id);
    const annotations = annotation.deleted ? others : [...others, { ...annotation, mine: true }];
    // (the cursor stays: raising it would skip other devices' changes made in between)
    return new Response(JSON.stringify({ ...listing, annotations }), { headers: stored.headers });
  });
}
