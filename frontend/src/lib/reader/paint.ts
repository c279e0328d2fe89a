// Painting a page image onto the page's canvas (docs/WEBAPP.md, "Reader").
//
// Why not an <img>: Chromium keeps every decoded <img> bitmap (1200×1697 px, 8 MB per page)
// in its decoded-image cache, in discardable shared memory, after the <img> is gone and its
// URL revoked; it lets them go only under memory pressure. Scrolling 150 pages grew the tab's
// private memory by 500 MB that way (docs/performance-journal.md, "Reader"). A page decoded by
// `createImageBitmap` and drawn on a canvas is held by that canvas and by the reader's bitmap
// cache (bitmaps.ts: a few pages near the one read, bounded in bytes, closed on eviction), or,
// for a thumbnail, closed at once; the canvas's pixels go with the page when it unmounts
// (`release`).

import type { PageCache } from './cache';

/** The image decoded, off the main thread where the browser can. */
async function decode(blob: Blob): Promise<ImageBitmap | HTMLImageElement> {
  if (typeof createImageBitmap === 'function') return createImageBitmap(blob);
  // (a browser without createImageBitmap on Blobs: an <img> decoded once, then dropped)
  const url = URL.createObjectURL(blob);
  try {
    const img = new Image();
    img.src = url;
    await img.decode();
    return img;
  } finally {
    URL.revokeObjectURL(url);
  }
}

/**
 * Draw `blob` on `canvas` at the image's own pixel size (CSS scales the canvas to the page).
 * Returns false, drawing nothing, if `stillWanted()` is false once it is decoded. The canvas
 * keeps what it showed until the new image is ready, so a softer image stays on screen while a
 * sharper one decodes.
 */
export async function paintPage(
  canvas: HTMLCanvasElement,
  blob: Blob,
  stillWanted: () => boolean,
): Promise<boolean> {
  const image = await decode(blob);
  try {
    if (!stillWanted()) return false;
    drawImage(canvas, image);
    return true;
  } finally {
    if ('close' in image) image.close();
  }
}

/**
 * Draw a decoded page on `canvas` at its own pixel size (CSS scales the canvas to the page);
 * the reader's pages come from the bitmap cache (bitmaps.ts), which keeps the bitmap.
 */
export function drawImage(canvas: HTMLCanvasElement, image: ImageBitmap | HTMLImageElement): void {
  const width = 'naturalWidth' in image ? image.naturalWidth : image.width;
  const height = 'naturalHeight' in image ? image.naturalHeight : image.height;
  const resized = canvas.width !== width || canvas.height !== height;
  if (resized) {
    canvas.width = width; // (resizing clears the canvas)
    canvas.height = height;
  }
  const context = canvas.getContext('2d');
  if (!context) throw new Error('no 2d context');
  if (!resized) context.clearRect(0, 0, width, height);
  context.drawImage(image, 0, 0);
}

/** Let a canvas's pixels go now rather than when the element is collected. */
export function release(canvas: HTMLCanvasElement): void {
  canvas.width = 0;
  canvas.height = 0;
}

/**
 * A Svelte action painting the image at `src`, through `cache`, on a canvas (the thumbnails);
 * a new `src` is painted over the old one, and the pixels go when the canvas unmounts.
 */
export function pagePainter(
  canvas: HTMLCanvasElement,
  params: { cache: PageCache; src: string },
): { update(next: { cache: PageCache; src: string }): void; destroy(): void } {
  let token = 0;
  const paint = ({ cache, src }: { cache: PageCache; src: string }) => {
    const mine = ++token;
    cache
      .load(src)
      .then((blob) => paintPage(canvas, blob, () => mine === token))
      .catch(() => {}); // a thumbnail that fails stays blank; the page itself retries
  };
  let current = params.src;
  paint(params);
  return {
    update(next) {
      if (next.src === current) return;
      current = next.src;
      paint(next);
    },
    destroy() {
      token++;
      release(canvas);
    },
  };
}
