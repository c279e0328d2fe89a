/**
 * Which carried annotations the list flags "changed since you annotated" (docs/WEBAPP.md,
 * "Annotating"; docs/features/annotations.md, "Carried to new versions").
 */
import type { Annotation } from './types';

/** Carried to this version by its quote, and the text is not as and where it was: on another
 *  page, elsewhere on the same page (the server's `reanchor.moved`), or found only
 *  approximately (`method` other than `exact`: the words changed). Unverified ones (kept in
 *  place with nothing to check them against) say "check" instead. */
export function changedSinceAnnotated(a: Annotation): boolean {
  if (!a.carried_from || a.status !== 'anchored' || !a.reanchor) return false;
  const r = a.reanchor;
  return r.moved === true || r.from_page !== a.page || r.method !== 'exact';
}
