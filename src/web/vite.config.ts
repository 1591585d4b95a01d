/**
 * Vite build of the local web chat page: src/web/app → dist/page (no external URLs, works offline).
 * dist/page sits beside tsc's output so the published package carries it; `npm run build` (tsc) never
 * touches it, and webRoot() in src/daemon/web-files.ts finds it from src/ and from dist/ alike.
 */
import { fileURLToPath } from 'node:url';
import preact from '@preact/preset-vite';
import { defineConfig } from 'vite';

const here = (p: string) => fileURLToPath(new URL(p, import.meta.url));

export default defineConfig({
  root: here('./app'),
  base: '/',
  plugins: [preact({ prerender: { enabled: false } })],
  build: {
    outDir: here('../../dist/page'),
    emptyOutDir: true,
    // Everything is inlined or bundled: the page is served by the daemon on 127.0.0.1 and must work offline.
    assetsInlineLimit: 8192,
    sourcemap: false,
  },
  // `npx vite --config src/web/vite.config.ts` against a daemon on 7576, or a real MeshNode in memory with the
  // real local API: `node --import tsx test/e2e/web-fixture.ts --port 7576`.
  // The local API refuses a cookie-authenticated POST from another origin (FORBIDDEN_ORIGIN), and the dev
  // page's origin is Vite's port: the proxy presents the API's own origin, as the page served by the daemon does.
  server: {
    host: '127.0.0.1',
    proxy: {
      '/api': { target: 'http://127.0.0.1:7576', headers: { origin: 'http://127.0.0.1:7576' } },
      '/login': 'http://127.0.0.1:7576',
    },
  },
});
