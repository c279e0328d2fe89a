/**
 * What the briefcase keeps, by URL, and the names shared with the service worker
 * (src/service-worker.ts serves these URLs from the Cache API when the network fails).
 */

/** The Cache API cache holding the downloaded meetings' responses. */
export const BRIEFCASE_CACHE = 'quorum-briefcase-v1';
/** Header set on a stored response: local time (ms) after which it must not be shown. */
export const EXPIRES_HEADER = 'x-quorum-offline-expires';

/** The widths of page images kept offline: the reader's default one (src/lib/reader/zoom.ts). */
export const OFFLINE_WIDTHS = [1200] as const;

/** The JSON the views of a meeting read, which must answer offline too. */
export function meetingDataUrls(meetingId: number): string[] {
  return [
    '/api/auth/me',
    '/api/meetings',
    `/api/meetings/${meetingId}/snapshot`,
    `/api/meetings/${meetingId}/documents`,
  ];
}

export function pageImageUrl(documentId: number, version: number, page: number, width: number): string {
  return `/api/documents/${documentId}/pages/${page}/image?version=${version}&width=${width}`;
}

export function pageWordsUrl(documentId: number, version: number, page: number): string {
  return `/api/documents/${documentId}/pages/${page}/words?version=${version}`;
}

/** The annotations the layer shows over a version, and the document's orphans: refreshed at
 *  each sync (and by the service worker whenever the network answers them). */
export function annotationUrls(documentId: number, versionId: number): string[] {
  return [annotationListUrl(versionId), `/api/annotations/orphaned?document_id=${documentId}`];
}

export function annotationListUrl(versionId: number): string {
  return `/api/document-versions/${versionId}/annotations`;
}

export function documentFileUrl(documentId: number, version: number): string {
  return `/api/documents/${documentId}/file?version=${version}`;
}

const PAGE_IMAGE = /^\/api\/documents\/(\d+)\/pages\/(\d+)\/image$/;

/** `{documentId, page}` of a page image path, else null. */
export function parsePageImage(pathname: string): { documentId: number; page: number } | null {
  const match = PAGE_IMAGE.exec(pathname);
  return match ? { documentId: Number(match[1]), page: Number(match[2]) } : null;
}

/** A stored response past its expiry (confidential pages), at local time `now`. */
export function expired(response: Response, now: number): boolean {
  const until = response.headers.get(EXPIRES_HEADER);
  return until !== null && Number(until) <= now;
}
