// Zoom levels and the image width each asks the server for (docs/WEBAPP.md, "Reader").
// The server renders page images at a few widths only (so they are shared and cached,
// meetings/documents/page_image.py); past the largest one, pdf.js draws the page instead,
// on one canvas no bigger than iPad Safari allows.

/** Pixel widths the server renders (`WIDTHS` in meetings/documents/page_image.py). */
export const IMAGE_WIDTHS = [400, 800, 1200, 1600] as const;
export type ImageWidth = (typeof IMAGE_WIDTHS)[number];
const LARGEST: ImageWidth = 1600;

/** The zoom factors of the +/- buttons; pinching may stop anywhere between the ends. */
export const ZOOM_STEPS = [1, 1.5, 2, 3, 4] as const;
export const MIN_ZOOM = 1;
export const MAX_ZOOM = 4;
/** Double tap: from the page's width to this, and back. */
export const DOUBLE_TAP_ZOOM = 2;

/**
 * iPad Safari refuses a canvas over 16.7 M pixels and starts dropping canvases past a few
 * hundred MB in all (pdf.js issues #11297, #16591): one deep-zoom canvas of at most 8 M pixels
 * (32 MB) keeps well inside both.
 */
export const MAX_CANVAS_PIXELS = 8_000_000;

/** An image may be stretched this much before it looks soft enough to call pdf.js. */
const STRETCH = 1.25;

export function clampZoom(zoom: number): number {
  if (!Number.isFinite(zoom)) return MIN_ZOOM;
  return Math.min(MAX_ZOOM, Math.max(MIN_ZOOM, zoom));
}

/** The next step up (`+1`) or down (`-1`) from `zoom`, which may lie between steps. */
export function stepZoom(zoom: number, direction: 1 | -1): number {
  if (direction > 0) return ZOOM_STEPS.find((z) => z > zoom + 1e-6) ?? MAX_ZOOM;
  return [...ZOOM_STEPS].reverse().find((z) => z < zoom - 1e-6) ?? MIN_ZOOM;
}

/** Double tap: zoom in to `DOUBLE_TAP_ZOOM` from the page width, else back to it. */
export function doubleTapZoom(zoom: number): number {
  return zoom > MIN_ZOOM + 1e-6 ? MIN_ZOOM : DOUBLE_TAP_ZOOM;
}

/**
 * The server image width for a page drawn `cssWidth` CSS px wide on a screen with
 * `devicePixelRatio` `dpr`: the smallest width at least as sharp as the screen, else the
 * largest there is.
 */
export function imageWidth(cssWidth: number, dpr: number): ImageWidth {
  const needed = cssWidth * Math.max(dpr, 1);
  return IMAGE_WIDTHS.find((w) => w >= needed) ?? LARGEST;
}

/** True when even the largest image would look soft: pdf.js renders the page instead. */
export function needsVector(cssWidth: number, dpr: number): boolean {
  return cssWidth * Math.max(dpr, 1) > LARGEST * STRETCH;
}

/**
 * The pdf.js render scale (pixels per PDF point) for a page of `widthPt` × `heightPt` drawn
 * `cssWidth` px wide at `dpr`, lowered so the canvas stays within `maxPixels`.
 */
export function canvasScale(
  widthPt: number,
  heightPt: number,
  cssWidth: number,
  dpr: number,
  maxPixels = MAX_CANVAS_PIXELS,
): number {
  const wanted = (cssWidth * Math.max(dpr, 1)) / Math.max(widthPt, 1);
  const pixels = widthPt * heightPt * wanted * wanted;
  return pixels <= maxPixels ? wanted : Math.sqrt(maxPixels / Math.max(widthPt * heightPt, 1));
}

/** The URL of a page image: 0-based `page` on the server, the version pinned (immutable). */
export function pageImageUrl(
  documentId: number,
  version: number,
  page: number,
  width: ImageWidth,
): string {
  return `/api/documents/${documentId}/pages/${page}/image?version=${version}&width=${width}`;
}

/**
 * The scroll offset along one axis that keeps the content under `anchor` (px from the
 * scroller's edge) in place when the content is scaled by `ratio` (pinch, double tap).
 */
export function anchoredScroll(scroll: number, anchor: number, ratio: number): number {
  return Math.max(0, (scroll + anchor) * ratio - anchor);
}
