/// <reference types="@sveltejs/kit" />
/// <reference no-default-lib="true"/>
/// <reference lib="esnext" />
/// <reference lib="webworker" />
/**
 * The service worker (docs/WEBAPP.md, "Offline briefcase"). Two jobs:
 *
 * 1. The app shell is precached (Workbox, the manifest injected by vite-plugin-pwa at build):
 *    the JavaScript, CSS and fonts of the build, `index.html` for every page path, and the
 *    start-up script that scripts/externalize-boot.mjs moves out of index.html after the build
 *    (its name replaces BOOT below). Documents are never precached.
 * 2. `GET /api/…` goes to the network; when the network fails (or answers 5xx), the answer
 *    comes from the briefcase (src/lib/offline/), if the meeting was downloaded: its JSON, its
 *    page images (any width held for that page when the asked one is not) and its PDFs, with
 *    Range requests answered from the stored file. A confidential page past its expiry is
 *    deleted instead of shown. A JSON answer the briefcase holds is replaced by each newer one
 *    the network gives, so what is shown offline is what was last seen online.
 */
import { clientsClaim } from 'workbox-core';
import { cleanupOutdatedCaches, createHandlerBoundToURL, precacheAndRoute } from 'workbox-precaching';
import { createPartialResponse } from 'workbox-range-requests';
import { NavigationRoute, registerRoute } from 'workbox-routing';
import { replaceHeld } from '$lib/offline/held';
import { BRIEFCASE_CACHE, EXPIRES_HEADER, expired, parsePageImage } from '$lib/offline/urls';

declare let self: ServiceWorkerGlobalScope & { __WB_MANIFEST: Array<{ url: string; revision: string | null }> };

const BOOT = '__QUORUM_BOOT__';
/** A network that neither answers nor fails (a hall's Wi-Fi) yields to the briefcase after this,
 *  for what the briefcase holds. */
const NETWORK_TIMEOUT_MS = 6_000;

precacheAndRoute([...self.__WB_MANIFEST, { url: BOOT, revision: null }]);
cleanupOutdatedCaches();
void self.skipWaiting();
clientsClaim();

registerRoute(
  new NavigationRoute(createHandlerBoundToURL('index.html'), {
    denylist: [/^\/api\//, /^\/socket\.io\//, /^\/healthz/],
  }),
);

registerRoute(
  ({ url, request }) =>
    request.method === 'GET' && url.origin === self.location.origin && url.pathname.startsWith('/api/'),
  ({ request }) => networkThenBriefcase(request),
);

async function networkThenBriefcase(request: Request): Promise<Response> {
  try {
    const [response, stored] = await networkOrStored(request);
    if (stored) return response;
    // (a clone of an image nobody reads would buffer its bytes: JSON only)
    if (response.ok && isJson(response)) void refreshStored(request, response.clone());
    if (response.status < 500) return response;
    return (await fromBriefcase(request)) ?? response;
  } catch (error) {
    const stored = await fromBriefcase(request);
    if (stored) return stored;
    throw error;
  }
}

/** The network's answer; or, when it has not come after NETWORK_TIMEOUT_MS and the briefcase
 *  holds one, the stored one (`true`: the network's is dropped when it comes). Without one
 *  the network is waited for: a page image the server is still rendering (the reader asking
 *  for a few at once, a 1600 px zoom) is not turned into a failure and a second request. */
async function networkOrStored(request: Request): Promise<[Response, boolean]> {
  const network = fetch(request);
  let timer: ReturnType<typeof setTimeout> | undefined;
  const slow = new Promise<'slow'>((resolve) => {
    timer = setTimeout(() => resolve('slow'), NETWORK_TIMEOUT_MS);
  });
  try {
    if ((await Promise.race([network, slow])) !== 'slow') return [await network, false];
  } finally {
    clearTimeout(timer);
  }
  const stored = await fromBriefcase(request);
  if (stored) {
    network.catch(() => {}); // dropped: nobody waits for it
    return [stored, true];
  }
  return [await network, false];
}

/** A JSON answer the briefcase holds (meeting data, annotations) is kept as the network gave
 *  it last, with the expiry it was stored with: offline, the views show what they last saw. */
function isJson(response: Response): boolean {
  return response.headers.get('content-type')?.includes('application/json') ?? false;
}

async function refreshStored(request: Request, response: Response): Promise<void> {
  const url = new URL(request.url);
  await replaceHeld(self.caches, url.pathname + url.search, async (stored) => {
    const headers = new Headers(response.headers);
    const until = stored.headers.get(EXPIRES_HEADER);
    if (until !== null) headers.set(EXPIRES_HEADER, until);
    return new Response(await response.blob(), { status: response.status, headers });
  }, { ignoreVary: true });
}

async function fromBriefcase(request: Request): Promise<Response | null> {
  const cache = await caches.open(BRIEFCASE_CACHE);
  const url = new URL(request.url);
  const key = url.pathname + url.search;
  const found = (await cache.match(key, { ignoreVary: true })) ?? (await otherWidth(cache, url));
  if (!found) return null;
  if (expired(found, Date.now())) {
    await cache.delete(key);
    return null;
  }
  if (request.headers.has('range')) return createPartialResponse(request, found);
  return found;
}

/** The same page of the same version at another width, when the reader asks for one not held. */
async function otherWidth(cache: Cache, url: URL): Promise<Response | undefined> {
  const page = parsePageImage(url.pathname);
  if (!page) return undefined;
  const version = url.searchParams.get('version');
  for (const stored of await cache.keys()) {
    const candidate = new URL(stored.url);
    if (candidate.pathname !== url.pathname) continue;
    if (version !== null && candidate.searchParams.get('version') !== version) continue;
    return cache.match(stored);
  }
  return undefined;
}
