// Where each page of a document sits in the reader's scrolling column, and which pages are
// mounted for a scroll position (docs/WEBAPP.md, "Reader"). Only the pages in view and one on
// each side are in the DOM: a 500-page document never holds 500 decoded images, which is
// what makes iPad Safari drop pages or the tab itself.

/** A page's size in PDF points, as the server stores it (`page_sizes`: [width, height]). */
export type PageSize = readonly [number, number];

export interface Layout {
  /** top of each page in CSS px from the top of the column */
  tops: number[];
  /** height of each page in CSS px */
  heights: number[];
  /** width every page is drawn at, in CSS px */
  width: number;
  /** height of the whole column, gaps included */
  total: number;
}

/** A4 portrait, for a version stored without page sizes. */
export const FALLBACK_SIZE: PageSize = [595, 842];

/**
 * Pages stacked at `width` CSS px, `gap` px apart. Every page gets the same width so that a
 * landscape page in a portrait report does not jump out of the column.
 */
export function layoutPages(
  sizes: readonly PageSize[],
  pageCount: number,
  width: number,
  gap: number,
): Layout {
  const tops: number[] = [];
  const heights: number[] = [];
  let y = gap;
  for (let i = 0; i < pageCount; i++) {
    const [w, h] = sizes[i] ?? sizes[sizes.length - 1] ?? FALLBACK_SIZE;
    const height = Math.round((width * h) / Math.max(w, 1));
    tops.push(y);
    heights.push(height);
    y += height + gap;
  }
  return { tops, heights, width, total: y };
}

/** The 0-based page whose box (or the gap below it) holds `y`; clamped to the document. */
export function pageAt(layout: Layout, y: number): number {
  const { tops } = layout;
  if (tops.length === 0) return 0;
  let lo = 0;
  let hi = tops.length - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if ((tops[mid] ?? 0) <= y) lo = mid;
    else hi = mid - 1;
  }
  return lo;
}

export interface Range {
  /** first mounted page, 0-based */
  first: number;
  /** last mounted page, 0-based, inclusive */
  last: number;
}

/**
 * The pages to keep in the DOM for a viewport `[scrollTop, scrollTop + height)`: those it
 * touches and `overscan` more on each side (so a page turn finds its neighbour loaded).
 */
export function mountedPages(
  layout: Layout,
  scrollTop: number,
  height: number,
  overscan = 1,
): Range {
  const count = layout.tops.length;
  if (count === 0) return { first: 0, last: -1 };
  const first = pageAt(layout, Math.max(0, scrollTop));
  const last = pageAt(layout, scrollTop + Math.max(height, 1) - 1);
  return { first: Math.max(0, first - overscan), last: Math.min(count - 1, last + overscan) };
}

/**
 * The page a reader is "on": the one covering the middle of the viewport's upper third, which
 * is where the eye is when a page has just been turned to.
 */
export function currentPage(layout: Layout, scrollTop: number, height: number): number {
  return pageAt(layout, scrollTop + height / 3);
}

/** The scroll position that puts page `index` (0-based) at the top, below its gap. */
export function scrollTopFor(layout: Layout, index: number, gap: number): number {
  const i = Math.min(Math.max(0, index), layout.tops.length - 1);
  return i < 0 ? 0 : Math.max(0, (layout.tops[i] ?? 0) - gap);
}
