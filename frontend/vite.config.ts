import { sveltekit } from '@sveltejs/kit/vite';
import { SvelteKitPWA } from '@vite-pwa/sveltekit';
import { defineConfig } from 'vitest/config';

// Node's `process`, without adding @types/node for one line (svelte-check reads this file).
declare const process: { env: Record<string, string | undefined> };

// The dev server proxies the API and Socket.IO to a local `quorum serve` (docs/WEBAPP.md).
const backend = process.env.QUORUM_BACKEND ?? 'http://127.0.0.1:8000';

export default defineConfig({
  plugins: [
    sveltekit(),
    // Installable, with the app shell precached (docs/WEBAPP.md, "Offline briefcase"): the
    // worker is src/service-worker.ts, into which the build injects the list of its files.
    // Documents are never precached: the briefcase downloads the meetings a user asks for.
    SvelteKitPWA({
      strategies: 'injectManifest',
      srcDir: 'src',
      filename: 'service-worker.ts',
      injectRegister: false,
      kit: { adapterFallback: 'index.html', spa: true },
      injectManifest: {
        globPatterns: ['client/**/*.{js,mjs,css,woff2,svg,png,webmanifest}'],
      },
      manifest: {
        name: 'Quorum',
        short_name: 'Quorum',
        lang: 'vi',
        start_url: '/',
        scope: '/',
        display: 'standalone',
        background_color: '#ffffff',
        theme_color: '#0b3d91',
        icons: [
          { src: '/icon-192.png', sizes: '192x192', type: 'image/png' },
          { src: '/icon-512.png', sizes: '512x512', type: 'image/png' },
        ],
      },
    }),
  ],
  server: {
    proxy: {
      '/api': backend,
      '/socket.io': { target: backend, ws: true },
      '/healthz': backend,
    },
  },
  test: {
    include: ['src/**/*.test.ts'],
    environment: 'node',
  },
});
