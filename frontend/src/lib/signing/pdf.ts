// A plain PDF viewer for the documents the chair signs and the secretariat reviews
// (docs/WEBAPP.md, "Signing and records"). Imported lazily (`import('$lib/signing/pdf')`) so
// no page carries pdf.js until a document is shown. Separate from the reader's pdf.ts, which
// keeps one document open for the delegate's reader: showing a resolution here must not close
// the reader's document. The worker is the same file under /_app/immutable (CSP `script-src
// 'self'`). Pages are drawn one at a time, each canvas capped at `MAX_PIXELS` (iPad Safari).
import * as pdfjs from 'pdfjs-dist';
import type { PDFDocumentProxy } from 'pdfjs-dist';
import workerUrl from 'pdfjs-dist/build/pdf.worker.min.mjs?url';

pdfjs.GlobalWorkerOptions.workerSrc = workerUrl;

/** Largest canvas drawn, in pixels (well under iPad Safari's 16.7 M per canvas). */
export const MAX_PIXELS = 4_000_000;

export interface OpenPdf {
  pages: number;
  /** Draw page `index` (0-based) `cssWidth` px wide on `canvas`; returns the CSS height. */
  draw(index: number, canvas: HTMLCanvasElement, cssWidth: number): Promise<number>;
  close(): void;
}

export async function openPdf(url: string): Promise<OpenPdf> {
  const task = pdfjs.getDocument({ url, withCredentials: true });
  const doc: PDFDocumentProxy = await task.promise;
  return {
    pages: doc.numPages,
    async draw(index, canvas, cssWidth) {
      const page = await doc.getPage(index + 1);
      const base = page.getViewport({ scale: 1 });
      const cssScale = cssWidth / base.width;
      const ratio = Math.min(
        window.devicePixelRatio || 1,
        Math.sqrt(MAX_PIXELS / (base.width * base.height * cssScale * cssScale)),
      );
      const viewport = page.getViewport({ scale: cssScale * ratio });
      canvas.width = Math.floor(viewport.width);
      canvas.height = Math.floor(viewport.height);
      canvas.style.width = `${cssWidth}px`; // the height follows (CSS height: auto)
      await page.render({ canvas, viewport }).promise;
      page.cleanup();
      return base.height * cssScale;
    },
    close() {
      void task.destroy();
    },
  };
}
