/**
 * The REST client (docs/API.md): JSON in and out, the session cookie, and the CSRF token the
 * server asks of browsers on every POST, PATCH and DELETE. Every refusal becomes an `ApiError`
 * with the server's stable `code`; a network failure is status 0, code `network`.
 *
 * A 401 means the session has ended (expired, signed out elsewhere, revoked): the handler set by
 * session.svelte.ts takes the user back to the login page with a message. Calls that expect a
 * 401 (the login itself, the first "who am I") pass `{ expect401: true }`.
 */

export class ApiError extends Error {
  readonly status: number;
  readonly code: string;
  readonly details: unknown;
  /** seconds to wait, from `Retry-After` (429, 503), else null */
  readonly retryAfter: number | null;

  constructor(
    status: number,
    code: string,
    message: string,
    details: unknown = null,
    retryAfter: number | null = null,
  ) {
    super(message);
    this.name = 'ApiError';
    this.status = status;
    this.code = code;
    this.details = details;
    this.retryAfter = retryAfter;
  }

  /** Too many logins wait for a password check: come back in `retryAfter` s (503 `busy`). */
  get busy(): boolean {
    return this.status === 503 && this.code === 'busy';
  }

  /** The server could not be reached or failed on its side (not the caller's mistake). */
  get serverDown(): boolean {
    return this.status === 0 || this.status >= 500;
  }
}

export interface RequestOptions {
  /** a 401 is the answer, not a lost session (login, the first /api/auth/me) */
  expect401?: boolean;
  signal?: AbortSignal;
  headers?: Record<string, string>;
}

const CSRF_COOKIE = 'quorum_csrf';
let csrfToken: string | null = null;
let onUnauthorized: (() => void) | null = null;

/** Remember the CSRF token a login returned (the `quorum_csrf` cookie holds it too). */
export function setCsrfToken(token: string | null): void {
  csrfToken = token;
}

/** What to do when a call finds the session gone (set once by session.svelte.ts). */
export function setUnauthorizedHandler(handler: (() => void) | null): void {
  onUnauthorized = handler;
}

export function readCookie(name: string): string | null {
  if (typeof document === 'undefined') return null;
  for (const part of document.cookie.split(';')) {
    const [key, ...value] = part.trim().split('=');
    if (key === name) return decodeURIComponent(value.join('='));
  }
  return null;
}

function csrf(): string | null {
  return readCookie(CSRF_COOKIE) ?? csrfToken;
}

function retryAfter(response: Response): number | null {
  const header = response.headers.get('Retry-After');
  if (!header) return null;
  const seconds = Number(header);
  if (Number.isFinite(seconds)) return Math.max(0, Math.ceil(seconds));
  const at = Date.parse(header);
  return Number.isNaN(at) ? null : Math.max(0, Math.ceil((at - Date.now()) / 1000));
}

async function failure(response: Response): Promise<ApiError> {
  let code = response.status >= 500 ? 'server_error' : `http_${response.status}`;
  let message = response.statusText;
  let details: unknown = null;
  try {
    const body = (await response.json()) as {
      error?: { code?: string; message?: string; details?: unknown };
    };
    if (body.error?.code) code = body.error.code;
    if (body.error?.message) message = body.error.message;
    details = body.error?.details ?? null;
  } catch {
    // not JSON: a proxy's page, an empty body
  }
  return new ApiError(response.status, code, message, details, retryAfter(response));
}

async function request<T>(
  method: string,
  path: string,
  body: unknown,
  options: RequestOptions = {},
): Promise<T> {
  const headers: Record<string, string> = { Accept: 'application/json', ...options.headers };
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  if (method !== 'GET' && method !== 'HEAD') {
    const token = csrf();
    if (token) headers['X-CSRF-Token'] = token;
  }
  let response: Response;
  try {
    response = await fetch(path, {
      method,
      headers,
      credentials: 'same-origin',
      body: body === undefined ? undefined : JSON.stringify(body),
      ...(options.signal ? { signal: options.signal } : {}),
    });
  } catch (error) {
    if (error instanceof DOMException && error.name === 'AbortError') throw error;
    throw new ApiError(0, 'network', String(error));
  }
  if (!response.ok) {
    const error = await failure(response);
    if (response.status === 401 && !options.expect401) onUnauthorized?.();
    throw error;
  }
  if (response.status === 204) return undefined as T;
  const text = await response.text();
  return (text ? JSON.parse(text) : undefined) as T;
}

export const api = {
  get: <T>(path: string, options?: RequestOptions) => request<T>('GET', path, undefined, options),
  post: <T>(path: string, body?: unknown, options?: RequestOptions) =>
    request<T>('POST', path, body, options),
  patch: <T>(path: string, body?: unknown, options?: RequestOptions) =>
    request<T>('PATCH', path, body, options),
  delete: <T = void>(path: string, options?: RequestOptions) =>
    request<T>('DELETE', path, undefined, options),
};
