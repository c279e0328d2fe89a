/**
 * CSS pixels on a page ↔ PDF points (docs/features/annotations.md, "Model").
 *
 * Annotations are stored in PDF points on the page as displayed: origin at the bottom-left of
 * the crop box, y up. A page on screen is a box of `cssWidth × cssHeight` pixels, origin at its
 * top-left, y down. The reader gives both sizes for every page (its `pageOverlay(info)`), so
 * one scale per axis maps a pointer to points whatever the zoom.
 */

export interface PageBox {
  widthPt: number;
  heightPt: number;
  cssWidth: number;
  cssHeight: number;
}

export type Point = [number, number];
export type Rect = [number, number, number, number];
/** PDF QuadPoints order: UL, UR, LL, LR (x, y each). */
export type Quad = [number, number, number, number, number, number, number, number];

/** Points are sent with two decimals: finer than any screen, and half the payload. */
export function round2(v: number): number {
  return Math.round(v * 100) / 100;
}

function clamp(v: number, lo: number, hi: number): number {
  return Math.min(hi, Math.max(lo, v));
}

/** A position in the page's CSS box → PDF points, kept on the page (the server refuses
 *  geometry more than 2 pt outside it). */
export function toPdf(box: PageBox, x: number, y: number): Point {
  const px = clamp((x * box.widthPt) / box.cssWidth, 0, box.widthPt);
  const py = clamp(box.heightPt - (y * box.heightPt) / box.cssHeight, 0, box.heightPt);
  return [round2(px), round2(py)];
}

/** PDF points → a position in the page's CSS box. */
export function toCss(box: PageBox, x: number, y: number): Point {
  return [(x * box.cssWidth) / box.widthPt, ((box.heightPt - y) * box.cssHeight) / box.heightPt];
}

/** PDF points → the "top-down points" an SVG with `viewBox="0 0 widthPt heightPt"` draws in. */
export function toView(heightPt: number, x: number, y: number): Point {
  return [x, heightPt - y];
}

/** A rect [x0, y0, x1, y1] in points → a CSS box (left, top, width, height). */
export function rectToCss(
  box: PageBox,
  rect: Rect,
): { left: number; top: number; width: number; height: number } {
  const [l, t] = toCss(box, rect[0], rect[3]);
  const [r, b] = toCss(box, rect[2], rect[1]);
  return { left: l, top: t, width: r - l, height: b - t };
}

/** A quad's bounds as a rect [x0, y0, x1, y1] in points. */
export function quadRect(q: Quad): Rect {
  const xs = [q[0], q[2], q[4], q[6]];
  const ys = [q[1], q[3], q[5], q[7]];
  return [Math.min(...xs), Math.min(...ys), Math.max(...xs), Math.max(...ys)];
}
