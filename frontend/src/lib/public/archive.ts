/**
 * The public archive's client side (docs/WEBAPP.md, "The public site"; the server's answers in
 * docs/features/archive.md, "Public (no login)"). Plain TypeScript: the search's URL form, the
 * pages of a result, and the wire shapes. No login: none of these calls needs a session.
 */
import { ApiError, api, readCookie } from '$lib/api';

export interface Signature {
  field: string;
  kind: 'signature' | 'document_timestamp' | string;
  signer: string | null;
  signing_time: string | null;
  timestamp_time: string | null;
  intact: boolean;
  valid: boolean;
  trusted: boolean;
  revocation: string;
  modified_after: boolean;
  level: string;
  ok: boolean;
  problems: string[];
  problems_vi: string[];
}

export interface Verification {
  ok: boolean;
  reason: string | null;
  reason_vi: string | null;
  summary: string;
  summary_vi: string;
  sha256: string;
  checked_at: string;
  signatures: Signature[];
}

export interface Rule {
  fraction: string;
  comparison: 'gt' | 'ge' | string;
  base: 'votes_cast' | 'present' | 'members' | string;
}

export interface VoteEvent {
  id: string;
  motion_text: string;
  start_date: string | null;
  end_date: string | null;
  secret: boolean;
  result?: 'pass' | 'fail';
  counts: { option: string | string[] | Record<string, string>; value: number }[];
  extras: {
    outcome: string;
    base_size: number;
    threshold: number;
    ballots: number;
    present: number;
    members: number;
    majority: Rule | null;
  };
  votes?: { voter_id: string; voter_name: string; option: unknown }[];
}

export interface Listed {
  id: number;
  number: string;
  label: string;
  title: string;
  council: string;
  council_id: number;
  date: string;
  sha256: string;
  size: number;
  published_at: string | null;
  download_url: string;
  /** the resolution's own id, and its public page `/public/resolutions/{resolution_id}` */
  resolution_id: number;
  page: string;
}

export interface PublicDocument extends Omit<Listed, 'id' | 'resolution_id' | 'page'> {
  id: number;
  kind: 'resolution' | 'minutes';
  record_id: number;
  page_url: string;
  votes: VoteEvent[];
  verification: Verification;
}

export interface SearchResult {
  resolutions: Listed[];
  total: number;
  limit: number;
  offset: number;
}

export interface Council {
  id: number;
  name: string;
  resolutions: number;
}

/** What the search form holds; empty strings are "any". */
export interface Search {
  q: string;
  number: string;
  council_id: string;
  date_from: string;
  date_to: string;
  page: number;
}

export const PAGE_SIZE = 20;
const FIELDS = ['q', 'number', 'council_id', 'date_from', 'date_to'] as const;

export function emptySearch(): Search {
  return { q: '', number: '', council_id: '', date_from: '', date_to: '', page: 1 };
}

/** The search held in a page URL's query (`/public?q=ngan+sach&page=2`). */
export function searchFrom(params: URLSearchParams): Search {
  const search = emptySearch();
  for (const name of FIELDS) search[name] = params.get(name)?.trim() ?? '';
  const page = Number(params.get('page') ?? '1');
  search.page = Number.isInteger(page) && page > 0 ? page : 1;
  return search;
}

/** The page URL's query for `search` (only what is set, so links stay short). */
export function searchQuery(search: Search): string {
  const params = new URLSearchParams();
  for (const name of FIELDS) if (search[name].trim()) params.set(name, search[name].trim());
  if (search.page > 1) params.set('page', String(search.page));
  return params.toString();
}

/** The API's query for `search`: the filters plus limit and offset of its page. */
export function apiQuery(search: Search, pageSize = PAGE_SIZE): string {
  const params = new URLSearchParams();
  for (const name of FIELDS) if (search[name].trim()) params.set(name, search[name].trim());
  params.set('limit', String(pageSize));
  params.set('offset', String((search.page - 1) * pageSize));
  return params.toString();
}

/** Page n of how many (at least 1), and whether there is a page before and after. */
export function pages(total: number, offset: number, limit: number) {
  const count = Math.max(1, Math.ceil(total / limit));
  const current = Math.floor(offset / limit) + 1;
  return { current, count, previous: current > 1, next: current < count };
}

export function search(s: Search): Promise<SearchResult> {
  return api.get<SearchResult>(`/api/public/resolutions?${apiQuery(s)}`);
}

export function councils(): Promise<{ councils: Council[] }> {
  return api.get<{ councils: Council[] }>('/api/public/councils');
}

export function record(kind: 'resolution' | 'minutes', id: number): Promise<PublicDocument> {
  const path = kind === 'resolution' ? 'resolutions' : 'minutes';
  return api.get<PublicDocument>(`/api/public/${path}/${id}/record`);
}

export interface VerifyAnswer {
  ok: boolean;
  reason: string | null;
  reason_vi: string | null;
  summary: string;
  summary_vi: string;
  sha256: string;
  archived: (Listed & { page?: string }) | { id: number; public: false } | null;
  report: {
    signatures: {
      field_name: string;
      kind: string;
      signer_name: string | null;
      signing_time: string | null;
      timestamp_time: string | null;
      intact: boolean;
      valid: boolean;
      trusted: boolean;
      ok: boolean;
      problems: string[];
      problems_vi: string[];
    }[];
  };
}

/** POST the PDF to the verifier (the body is the file itself, not a form). */
export async function verify(file: Blob): Promise<VerifyAnswer> {
  const headers: Record<string, string> = {
    'Content-Type': 'application/pdf',
    Accept: 'application/json',
  };
  const token = readCookie('quorum_csrf'); // a signed-in visitor's browser sends its cookie
  if (token) headers['X-CSRF-Token'] = token;
  let response: Response;
  try {
    response = await fetch('/api/public/verify', {
      method: 'POST',
      body: file,
      headers,
      credentials: 'same-origin',
    });
  } catch (error) {
    throw new ApiError(0, 'network', String(error));
  }
  const body = (await response.json().catch(() => null)) as
    | (VerifyAnswer & { error?: { code: string; message: string } })
    | null;
  if (!response.ok || !body || body.error) {
    const retry = Number(response.headers.get('Retry-After'));
    throw new ApiError(
      response.status,
      body?.error?.code ?? `http_${response.status}`,
      body?.error?.message ?? response.statusText,
      null,
      Number.isFinite(retry) && retry > 0 ? retry : null,
    );
  }
  return body;
}
