// pdf.js for the plain PDF views outside the reader: the public site's document pages
// (docs/WEBAPP.md, "The public site") and the documents the chair signs and the secretariat
// reviews ("Signing and records"). Imported lazily (`import('$lib/pdfview')`) so no page carries
// pdf.js until a document is shown. Separate from the reader's src/lib/reader/pdf.ts, which keeps
// one document open for the delegate: showing a resolution here must not close it. Like the
// reader's: the worker is a file under /_app/immutable (CSP `script-src 'self'`), the file is
// read by Range, and each canvas is capped in pixels (iPad Safari's canvas limits).
import * as pdfjs from 'pdfjs-dist';
import type { PDFDocumentProxy } from 'pdfjs-dist';
import workerUrl from 'pdfjs-dist/build/pdf.worker.min.mjs?url';

pdfjs.GlobalWorkerOptions.workerSrc = workerUrl;

/** Largest canvas drawn, in pixels (well under iPad Safari's 16.7 M per canvas). */
export const MAX_PIXELS = 4_000_000;

export interface OpenPdf {
  pages: number;
  /** width / height of page `index` (0-based) */
  ratio(index: number): Promise<number>;
  /** Draw page `index` (0-based) on `canvas`, `cssWidth` pixels wide on screen. */
  draw(index: number, canvas: HTMLCanvasElement, cssWidth: number): Promise<void>;
  close(): void;
}

export async function openPdf(url: string): Promise<OpenPdf> {
  const task = pdfjs.getDocument({ url, disableAutoFetch: true, rangeChunkSize: 256 * 1024 });
  const doc: PDFDocumentProxy = await task.promise;
  return {
    pages: doc.numPages,
    async ratio(index) {
      const viewport = (await doc.getPage(index + 1)).getViewport({ scale: 1 });
      return viewport.width / viewport.height;
    },
    async draw(index, canvas, cssWidth) {
      const page = await doc.getPage(index + 1);
      const base = page.getViewport({ scale: 1 });
      let scale = (cssWidth * Math.min(window.devicePixelRatio || 1, 2)) / base.width;
      const pixels = base.width * base.height * scale * scale;
      if (pixels > MAX_PIXELS) scale *= Math.sqrt(MAX_PIXELS / pixels);
      const viewport = page.getViewport({ scale });
      canvas.width = Math.floor(viewport.width);
      canvas.height = Math.floor(viewport.height);
      await page.render({ canvas, viewport }).promise;
      page.cleanup();
    },
    close() {
      void task.destroy();
    },
  };
}
