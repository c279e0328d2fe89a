/**
 * The offline briefcase (docs/WEBAPP.md, "Offline briefcase"): "Download this meeting" keeps the
 * meeting's page images and PDFs and the JSON its views read in the Cache API, and describes
 * them in IndexedDB. The service worker answers those URLs from the cache when the network
 * fails, so the views work offline unchanged.
 *
 * `sync` is both the download and the check at start: it refreshes the JSON, fetches every page
 * that is missing (Safari may have evicted it, a confidential one may have expired) and skips
 * the ones held. Confidential pages carry their expiry (QUORUM_OFFLINE_HOURS after the download,
 * from the server's `offline_expires_at`), and `sweepExpired` deletes them once it has passed.
 */
import { database, type BriefcaseDocument, type BriefcaseMeeting } from './db';
import {
  BRIEFCASE_CACHE,
  EXPIRES_HEADER,
  OFFLINE_WIDTHS,
  annotationUrls,
  documentFileUrl,
  expired,
  meetingDataUrls,
  pageImageUrl,
  pageWordsUrl,
} from './urls';

export type { BriefcaseDocument, BriefcaseMeeting } from './db';

/** What the briefcase needs from the browser (tests pass their own). */
export interface BriefcaseEnv {
  fetch: typeof fetch;
  caches: CacheStorage;
  now: () => number;
}

export interface SyncProgress {
  /** pages held of `total` */
  done: number;
  total: number;
}

/** The session is gone (401): the caller wipes the briefcase and signs out. */
export class SessionEnded extends Error {
  constructor() {
    super('session ended');
    this.name = 'SessionEnded';
  }
}

interface ListedDocument {
  id: number;
  title: string;
  visibility: string;
  offline_expires_at?: string | null;
  current_version: { id: number; number: number; page_count: number | null } | null;
}

const PARALLEL = 4;

export function browserEnv(): BriefcaseEnv {
  return { fetch: (input, init) => fetch(input, init), caches, now: () => Date.now() };
}

/** Download a meeting, or bring a downloaded one up to date: only what is missing is fetched. */
export async function sync(
  meetingId: number,
  onProgress: (p: SyncProgress) => void = () => {},
  env: BriefcaseEnv = browserEnv(),
): Promise<BriefcaseMeeting> {
  const cache = await env.caches.open(BRIEFCASE_CACHE);
  const json = await fetchMeetingData(meetingId, env);
  const user = (await json.get('/api/auth/me')!.clone().json()) as { id: number };
  await dropOtherOwners(user.id, env);
  const listed = (await json.get(`/api/meetings/${meetingId}/documents`)!.clone().json()) as ListedDocument[];
  const snapshot = (await json.get(`/api/meetings/${meetingId}/snapshot`)!.clone().json()) as {
    meeting?: { title?: string };
  };
  const skew = serverSkew(json.get(`/api/meetings/${meetingId}/documents`)!, env.now());
  const previous = await (await database()).get('meetings', meetingId);
  const documents = listed.flatMap((d) => briefcaseDocument(d, skew));
  for (const [url, response] of json) await cache.put(url, response);

  const record: BriefcaseMeeting = {
    meetingId,
    title: snapshot.meeting?.title ?? '',
    userId: user.id,
    downloadedAt: env.now(),
    documents,
    urls: [...json.keys(), ...documents.flatMap(documentUrls)],
  };
  await dropUnlisted(previous, record, cache);
  await fetchMissing(record, cache, env, onProgress);
  await (await database()).put('meetings', record);
  return record;
}

/** The meeting as held now (pages counted in the cache), or null if it was never downloaded. */
export async function held(meetingId: number, env: BriefcaseEnv = browserEnv()): Promise<BriefcaseMeeting | null> {
  const record = await (await database()).get('meetings', meetingId);
  if (!record) return null;
  const cache = await env.caches.open(BRIEFCASE_CACHE);
  const documents = [];
  for (const d of record.documents) {
    let pages = 0;
    for (let page = 0; page < d.pageCount; page += 1) {
      let all = true;
      for (const url of onePage(d, page)) all = all && (await usable(cache, url, env.now()));
      if (all) pages += 1;
    }
    documents.push({ ...d, pagesHeld: pages });
  }
  return { ...record, documents };
}

/** Whether every page and file of the meeting is held and unexpired. */
export function complete(meeting: BriefcaseMeeting): boolean {
  return meeting.documents.every((d) => d.pagesHeld === d.pageCount);
}

/** Delete the pages and PDFs of confidential documents whose offline time is over. */
export async function sweepExpired(env: BriefcaseEnv = browserEnv()): Promise<number> {
  const db = await database();
  const cache = await env.caches.open(BRIEFCASE_CACHE);
  let deleted = 0;
  for (const record of await db.getAll('meetings')) {
    const over = record.documents.filter((d) => d.expiresAt !== null && d.expiresAt <= env.now());
    for (const d of over) {
      for (const url of documentUrls(d)) if (await cache.delete(url)) deleted += 1;
    }
    if (over.length) {
      const gone = new Set(over.map((d) => d.id));
      const documents = record.documents.map((d) => (gone.has(d.id) ? { ...d, pagesHeld: 0 } : d));
      await db.put('meetings', { ...record, documents });
    }
  }
  return deleted;
}

/** Take one meeting off the device. */
export async function remove(meetingId: number, env: BriefcaseEnv = browserEnv()): Promise<void> {
  const db = await database();
  const record = await db.get('meetings', meetingId);
  if (!record) return;
  const cache = await env.caches.open(BRIEFCASE_CACHE);
  const others = new Set((await db.getAll('meetings')).filter((r) => r.meetingId !== meetingId).flatMap((r) => r.urls));
  for (const url of record.urls) if (!others.has(url)) await cache.delete(url);
  await db.delete('meetings', meetingId);
}

/** Ask the browser not to evict the briefcase (Safari does, without this). */
export async function askPersistence(): Promise<boolean> {
  if (typeof navigator === 'undefined' || !navigator.storage?.persist) return false;
  if (await navigator.storage.persisted()) return true;
  return navigator.storage.persist();
}

// --- helpers -------------------------------------------------------------------------------------

async function fetchMeetingData(meetingId: number, env: BriefcaseEnv): Promise<Map<string, Response>> {
  const out = new Map<string, Response>();
  for (const url of meetingDataUrls(meetingId)) {
    const response = await env.fetch(url, { credentials: 'same-origin', headers: { Accept: 'application/json' } });
    if (response.status === 401) throw new SessionEnded();
    if (!response.ok) throw new Error(`${url}: ${response.status}`);
    out.set(url, response);
  }
  return out;
}

/** Server clock − local clock (ms), from the response's `Date` header (0 without one). */
function serverSkew(response: Response, localNow: number): number {
  const date = response.headers.get('date');
  const at = date ? Date.parse(date) : NaN;
  return Number.isNaN(at) ? 0 : at - localNow;
}

function briefcaseDocument(d: ListedDocument, skew: number): BriefcaseDocument[] {
  const version = d.current_version;
  if (!version?.page_count) return [];
  const until = d.offline_expires_at ? Date.parse(d.offline_expires_at) - skew : null;
  return [
    {
      id: d.id,
      title: d.title,
      version: version.number,
      versionId: version.id,
      pageCount: version.page_count,
      pagesHeld: 0,
      confidential: d.visibility === 'confidential',
      // this download's; a page stored before keeps its own (its header), and once that has
      // passed it counts as missing and is fetched again
      expiresAt: until,
    },
  ];
}

/** A page's images and its words (for selecting text offline). */
function onePage(d: BriefcaseDocument, page: number): string[] {
  return [
    ...OFFLINE_WIDTHS.map((width) => pageImageUrl(d.id, d.version, page, width)),
    pageWordsUrl(d.id, d.version, page),
  ];
}

function pageUrls(d: BriefcaseDocument): string[] {
  return Array.from({ length: d.pageCount }, (_, page) => onePage(d, page)).flat();
}

function documentUrls(d: BriefcaseDocument): string[] {
  return [...pageUrls(d), documentFileUrl(d.id, d.version), ...annotationUrls(d.id, d.versionId)];
}

async function usable(cache: Cache, url: string, now: number): Promise<boolean> {
  const response = await cache.match(url);
  return response !== undefined && !expired(response, now);
}

/** A device holds one user's briefcase: another user's is gone with that user's session. */
async function dropOtherOwners(userId: number, env: BriefcaseEnv): Promise<void> {
  const db = await database();
  for (const record of await db.getAll('meetings')) {
    if (record.userId !== userId) await remove(record.meetingId, env);
  }
}

/** URLs of the previous download that this one no longer needs (a replaced version). */
async function dropUnlisted(previous: BriefcaseMeeting | undefined, record: BriefcaseMeeting, cache: Cache): Promise<void> {
  if (!previous) return;
  const keep = new Set(record.urls);
  for (const url of previous.urls) if (!keep.has(url)) await cache.delete(url);
}

async function fetchMissing(
  record: BriefcaseMeeting,
  cache: Cache,
  env: BriefcaseEnv,
  onProgress: (p: SyncProgress) => void,
): Promise<void> {
  // one job per page (its images and words), one per PDF, one for the annotations (fetched
  // again each time: they change); progress counts pages
  const jobs = record.documents.flatMap((d) => [
    ...Array.from({ length: d.pageCount }, (_, page) => ({ d, urls: onePage(d, page), page: true, fresh: false })),
    { d, urls: [documentFileUrl(d.id, d.version)], page: false, fresh: false },
    { d, urls: annotationUrls(d.id, d.versionId), page: false, fresh: true },
  ]);
  const total = jobs.filter((j) => j.page).length;
  let done = 0;
  const report = () => onProgress({ done, total });
  report();
  let next = 0;
  const worker = async () => {
    for (let job = jobs[next++]; job; job = jobs[next++]) {
      for (const url of job.urls) {
        if (job.fresh || !(await usable(cache, url, env.now()))) await store(url, job.d, cache, env);
      }
      if (job.page) {
        done += 1;
        job.d.pagesHeld += 1;
        report();
      }
    }
  };
  await Promise.all(Array.from({ length: PARALLEL }, worker));
}

async function store(url: string, d: BriefcaseDocument, cache: Cache, env: BriefcaseEnv): Promise<void> {
  const response = await env.fetch(url, { credentials: 'same-origin' });
  if (response.status === 401) throw new SessionEnded();
  if (!response.ok) throw new Error(`${url}: ${response.status}`);
  if (d.expiresAt === null) {
    await cache.put(url, response);
    return;
  }
  const headers = new Headers(response.headers);
  headers.set(EXPIRES_HEADER, String(d.expiresAt));
  await cache.put(url, new Response(await response.blob(), { status: response.status, headers }));
}
