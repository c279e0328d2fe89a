// Moves SvelteKit's inline start-up script out of dist/index.html into a file of its own, so the
// page runs under the server's CSP (script-src 'self', no inline script). See docs/WEBAPP.md.
import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';

const indexPath = new URL('../dist/index.html', import.meta.url);
const html = readFileSync(indexPath, 'utf8');
const inline = [...html.matchAll(/<script>([\s\S]*?)<\/script>/g)];
if (inline.length !== 1) {
  console.error(`externalize-boot: expected one inline script in dist/index.html, found ${inline.length}`);
  process.exit(1);
}
const [whole, body] = inline[0];
const name = `boot-${createHash('sha256').update(body).digest('hex').slice(0, 12)}.js`;
writeFileSync(new URL(`../dist/_app/immutable/${name}`, import.meta.url), body);
writeFileSync(indexPath, html.replace(whole, `<script src="/_app/immutable/${name}"></script>`));

// The service worker precaches the app shell: it must hold this file too (src/service-worker.ts).
const swPath = new URL('../dist/service-worker.js', import.meta.url);
const sw = readFileSync(swPath, 'utf8');
if (!sw.includes('__QUORUM_BOOT__')) {
  console.error('externalize-boot: dist/service-worker.js does not name __QUORUM_BOOT__');
  process.exit(1);
}
writeFileSync(swPath, sw.replaceAll('__QUORUM_BOOT__', `/_app/immutable/${name}`));
console.log(`externalize-boot: start-up script moved to /_app/immutable/${name}`);
