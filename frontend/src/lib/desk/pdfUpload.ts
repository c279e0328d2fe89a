/**
 * PDF uploads with progress (docs/API.md, "Uploads"; docs/WEBAPP.md, "The secretariat's
 * meeting pages"). The body is the raw PDF, `Content-Type: application/pdf`, not multipart.
 * `fetch` reports no upload progress in Chromium without streaming bodies (HTTP/2 only), so
 * this is XMLHttpRequest, whose `upload.onprogress` every browser has. A refusal resolves as
 * an `ApiError` with the server's code, as `api.ts` makes them.
 */
import { ApiError, readCookie } from '$lib/api';

export interface UploadProgress {
  loaded: number;
  total: number;
}

export interface UploadHandle<T> {
  done: Promise<T>;
  abort: () => void;
}

function parseError(xhr: XMLHttpRequest): ApiError {
  let code = xhr.status >= 500 ? 'server_error' : `http_${xhr.status}`;
  let message = xhr.statusText;
  let details: unknown = null;
  try {
    const body = JSON.parse(xhr.responseText) as {
      error?: { code?: string; message?: string; details?: unknown };
    };
    if (body.error?.code) code = body.error.code;
    if (body.error?.message) message = body.error.message;
    details = body.error?.details ?? null;
  } catch {
    // not JSON
  }
  const after = Number(xhr.getResponseHeader('Retry-After'));
  return new ApiError(xhr.status, code, message, details, Number.isFinite(after) && after > 0 ? after : null);
}

/** `url` with its query built from `params` (empty values left out). */
export function withQuery(url: string, params: Record<string, string | number | null | undefined>): string {
  const q = new URLSearchParams();
  for (const [key, value] of Object.entries(params)) {
    if (value !== null && value !== undefined && value !== '') q.set(key, String(value));
  }
  const s = q.toString();
  return s ? `${url}?${s}` : url;
}

/** POST `file` as the raw body to `url`; `onProgress` follows the bytes sent. */
export function uploadPdf<T>(
  url: string,
  file: Blob,
  onProgress: (p: UploadProgress) => void,
): UploadHandle<T> {
  const xhr = new XMLHttpRequest();
  const done = new Promise<T>((resolve, reject) => {
    xhr.open('POST', url);
    xhr.setRequestHeader('Content-Type', 'application/pdf');
    xhr.setRequestHeader('Accept', 'application/json');
    const token = readCookie('quorum_csrf');
    if (token) xhr.setRequestHeader('X-CSRF-Token', token);
    xhr.withCredentials = true;
    xhr.upload.onprogress = (e) => onProgress({ loaded: e.loaded, total: e.lengthComputable ? e.total : file.size });
    xhr.onload = () => {
      if (xhr.status >= 200 && xhr.status < 300) {
        onProgress({ loaded: file.size, total: file.size });
        try {
          resolve(JSON.parse(xhr.responseText) as T);
        } catch {
          resolve(undefined as T);
        }
      } else {
        reject(parseError(xhr));
      }
    };
    xhr.onerror = () => reject(new ApiError(0, 'network', 'network error'));
    xhr.onabort = () => reject(new ApiError(0, 'aborted', 'aborted'));
    xhr.send(file);
  });
  return { done, abort: () => xhr.abort() };
}

/** A display title from a file name: no extension, underscores as spaces. */
export function titleFromFilename(name: string): string {
  const base = name.replace(/\.pdf$/i, '').replace(/[_]+/g, ' ').trim();
  return (base || name).slice(0, 500);
}
