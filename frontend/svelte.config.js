import adapter from '@sveltejs/adapter-static';
import { vitePreprocess } from '@sveltejs/vite-plugin-svelte';

/** A static single-page app: `quorum serve` serves build output from frontend/dist with an
 *  index.html fallback, so every route is rendered in the browser (docs/WEBAPP.md). */
const config = {
  preprocess: vitePreprocess(),
  kit: {
    adapter: adapter({ pages: 'dist', assets: 'dist', fallback: 'index.html', strict: true }),
    // Absolute asset paths: index.html is the fallback for every depth of route.
    paths: { relative: false },
    output: { bundleStrategy: 'split' },
    version: { pollInterval: 0 },
    // registered by the layout once signed in (docs/WEBAPP.md, "Offline briefcase")
    serviceWorker: { register: false },
  },
};

export default config;
