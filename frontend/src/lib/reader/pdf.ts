// pdf.js, loaded only when the page images are not enough (docs/WEBAPP.md, "Reader"): deep
// zoom past the largest server image, and text selection. This module is imported lazily
// (`import('$lib/reader/pdf')`), so the reader's first load carries none of pdf.js; its worker
// is a file under /_app/immutable (CSP `script-src 'self'`; pdf.js 6 compiles no code at run time).
// One document is kept open at a time, and one canvas is drawn at a time, its size capped by
// `canvasScale` (zoom.ts) within iPad Safari's canvas limits.
import * as pdfjs from 'pdfjs-dist';
import type { PDFDocumentProxy, PDFDocumentLoadingTask } from 'pdfjs-dist';
import workerUrl from 'pdfjs-dist/build/pdf.worker.min.mjs?url';

pdfjs.GlobalWorkerOptions.workerSrc = workerUrl;

let open: { url: string; task: PDFDocumentLoadingTask; doc: Promise<PDFDocumentProxy> } | null =
  null;

/** The PDF at `url`, fetched by HTTP Range as pages are needed (the server answers Range). */
function documentAt(url: string): Promise<PDFDocumentProxy> {
  if (open?.url === url) return open.doc;
  close();
  const task = pdfjs.getDocument({
    url,
    withCredentials: true,
    disableAutoFetch: true,
    rangeChunkSize: 256 * 1024,
  });
  open = { url, task, doc: task.promise };
  return open.doc;
}

/** Draw page `index` (0-based) of `url` on `canvas` at `scale` pixels per PDF point. */
export async function drawPage(
  url: string,
  index: number,
  canvas: HTMLCanvasElement,
  scale: number,
): Promise<void> {
  const page = await (await documentAt(url)).getPage(index + 1);
  const viewport = page.getViewport({ scale });
  canvas.width = Math.floor(viewport.width);
  canvas.height = Math.floor(viewport.height);
  await page.render({ canvas, viewport }).promise;
  page.cleanup();
}

/**
 * The selectable text of page `index` in `container`, laid out for a page `cssWidth` px wide
 * (pdf.js's text layer: transparent spans over the image). Returns a function removing it.
 */
export async function drawText(
  url: string,
  index: number,
  container: HTMLElement,
  cssWidth: number,
): Promise<() => void> {
  const page = await (await documentAt(url)).getPage(index + 1);
  const scale = cssWidth / page.getViewport({ scale: 1 }).width;
  const viewport = page.getViewport({ scale });
  container.style.setProperty('--scale-factor', String(scale));
  container.style.setProperty('--total-scale-factor', String(scale));
  const layer = new pdfjs.TextLayer({
    textContentSource: page.streamTextContent(),
    container,
    viewport,
  });
  await layer.render();
  return () => {
    layer.cancel();
    container.replaceChildren();
  };
}

/** Let the document go (the reader closed or another document opened). */
export function close(): void {
  if (!open) return;
  void open.task.destroy();
  open = null;
}
