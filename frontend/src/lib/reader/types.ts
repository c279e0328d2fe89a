// What the reader hands to a page overlay (the annotation layer, docs/WEBAPP.md "Reader").

export interface PageOverlayInfo {
  documentId: number;
  /** the id of the document version shown (annotations are stored against it) */
  versionId: number;
  /** its number (1, 2, …), as in the page image URL */
  version: number;
  /** 1-based page number */
  page: number;
  /** the page's size in PDF points, from the server's `page_sizes` */
  widthPt: number;
  heightPt: number;
  /** the page's size on screen now, in CSS px (changes with zoom and orientation) */
  cssWidth: number;
  cssHeight: number;
}

export interface SearchHit {
  document_id: number;
  title: string;
  document_version_id: number;
  version: number;
  page: number;
  page_number: number;
  snippet: string;
  match: [number, number] | null;
}
