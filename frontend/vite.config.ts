import { sveltekit } from '@sveltejs/kit/vite';
import { defineConfig } from 'vitest/config';

// Node's `process`, without adding @types/node for one line (svelte-check reads this file).
declare const process: { env: Record<string, string | undefined> };

// The dev server proxies the API and Socket.IO to a local `quorum serve` (docs/WEBAPP.md).
const backend = process.env.QUORUM_BACKEND ?? 'http://127.0.0.1:8000';

export default defineConfig({
  plugins: [sveltekit()],
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
