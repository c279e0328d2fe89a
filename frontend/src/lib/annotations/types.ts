/**
 * The wire shape of an annotation (docs/features/annotations.md, "Model"): geometry in PDF points on
 * the page as displayed, pages 0-based.
 */
import type { Quad, Rect } from '$lib/ink/coords';
import type { TextQuote } from '$lib/ink/selection';

export type AnnotationKind = 'highlight' | 'underline' | 'strike' | 'ink' | 'note' | 'freetext';

export const TEXT_MARKUP: ReadonlySet<string> = new Set(['highlight', 'underline', 'strike']);

/** What the device decides: the content of an annotation. */
export interface AnnotationDraft {
  id: string;
  document_version_id: number;
  kind: AnnotationKind;
  page: number;
  color: string;
  opacity: number;
  quads: Quad[];
  strokes: [number, number, number][][];
  rect: Rect | null;
  text: string;
  anchor: TextQuote | null;
  shared: boolean;
}

/** What the server answers: the content and its bookkeeping. */
export interface Annotation extends AnnotationDraft {
  user_id: number;
  document_id: number;
  version: number;
  deleted: boolean;
  status: 'anchored' | 'unverified' | 'orphaned';
  carried_from: string | null;
  cursor: number;
  created_at: string;
  updated_at: string;
  /** carried by its quote: how it was found, from which page, and whether it is somewhere else
   *  than it was (`moved`; absent on annotations carried before the server said so) */
  reanchor?: { method: string; score: number; from_page: number; moved?: boolean } | null;
  /** in listings: whether it is the caller's */
  mine?: boolean;
}

const CONTENT_KEYS = [
  'id',
  'document_version_id',
  'kind',
  'page',
  'color',
  'opacity',
  'quads',
  'strokes',
  'rect',
  'text',
  'anchor',
  'shared',
] as const;

/** The content of an annotation alone (what `annotation.upsert` takes, without bookkeeping). */
export function draftOf(a: AnnotationDraft): AnnotationDraft {
  const out: Record<string, unknown> = {};
  for (const k of CONTENT_KEYS) out[k] = a[k];
  return out as unknown as AnnotationDraft;
}

/** A new annotation's content: a fresh id, no geometry yet, private. */
export function emptyDraft(versionId: number, kind: AnnotationKind, page: number): AnnotationDraft {
  return {
    id: newId(),
    document_version_id: versionId,
    kind,
    page,
    color: '#ffd400',
    opacity: 1,
    quads: [],
    strokes: [],
    rect: null,
    text: '',
    anchor: null,
    shared: false,
  };
}

/** A random UUID (v4): annotation ids must be UUIDs, and `crypto.randomUUID` exists only in
 *  secure contexts (a hall network may serve plain HTTP). */
export function newId(): string {
  const c = globalThis.crypto as Crypto | undefined;
  if (c && typeof c.randomUUID === 'function') return c.randomUUID();
  const b = new Uint8Array(16);
  if (c && typeof c.getRandomValues === 'function') c.getRandomValues(b);
  else for (let i = 0; i < 16; i++) b[i] = Math.floor(Math.random() * 256);
  b[6] = (b[6]! & 0x0f) | 0x40;
  b[8] = (b[8]! & 0x3f) | 0x80;
  const h = Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}
