/**
 * The documents page's data (docs/API.md, "Uploads", "Resources"; docs/features/documents.md):
 * the shapes the server answers, and the upload queue's rows as plain state transitions.
 */

export type Visibility = 'public' | 'members' | 'restricted' | 'confidential';
export const VISIBILITIES: Visibility[] = ['public', 'members', 'restricted', 'confidential'];
/** readable only by staff and the named readers */
export const NAMED: ReadonlySet<string> = new Set(['restricted', 'confidential']);

export interface DocVersion {
  id: number;
  number: number;
  sha256: string;
  size: number;
  page_count: number;
  filename: string;
  uploaded_at: string;
  note: string;
}

export interface DeskDocument {
  id: number;
  meeting_id: number;
  agenda_item_id: number | null;
  title: string;
  visibility: Visibility;
  created_at: string;
  current_version: DocVersion | null;
  versions: DocVersion[];
  allowed_user_ids?: number[];
}

export interface Person {
  user_id: number;
  name: string;
  username: string;
}

export type UploadState = 'waiting' | 'uploading' | 'checking' | 'done' | 'refused';

/** One file of an upload: its bytes sent, then the server's verdict. */
export interface UploadRow {
  key: string;
  name: string;
  size: number;
  loaded: number;
  state: UploadState;
  /** the refusal in words */
  message: string;
  /** What refused it, so the words follow a language switch (`uploadErrorText` in markup). */
  error?: unknown;
  documentId: number | null;
}

let counter = 0;
export function newUploadRow(file: { name: string; size: number }): UploadRow {
  counter += 1;
  return { key: `u${counter}`, name: file.name, size: file.size, loaded: 0, state: 'waiting', message: '', documentId: null };
}

/** Percent sent, 0–100 (an empty file counts as sent). */
export function percent(row: Pick<UploadRow, 'loaded' | 'size'>): number {
  if (row.size <= 0) return 100;
  return Math.min(100, Math.round((row.loaded / row.size) * 100));
}

/** After the last byte the server still checks the PDF: say so rather than sit at 100 %. */
export function progressed(row: UploadRow, loaded: number): UploadRow {
  const state: UploadState = loaded >= row.size && row.size > 0 ? 'checking' : 'uploading';
  return { ...row, loaded: Math.min(loaded, row.size), state };
}

/** Human size: 12 KB, 3.4 MB (decimal comma in Vietnamese through `fmt`). */
export function sizeText(bytes: number, fmt: (n: number) => string): string {
  if (bytes < 1024 * 1024) return `${fmt(Math.max(1, Math.round(bytes / 1024)))} KB`;
  return `${fmt(Math.round((bytes / (1024 * 1024)) * 10) / 10)} MB`;
}
