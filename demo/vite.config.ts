/**
 * The demo page and the browser benchmark (vite). In dev and preview mode the server also serves
 * the reference data directory under /data/ (read-only; a folder URL ending in / lists its files
 * as JSON), so the page can load the zoo's models and images without copying them anywhere, and
 * every response carries the COOP / COEP headers that make the page cross-origin isolated.
 */
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { defineConfig, type Connect, type Plugin } from 'vite';
import { resolveDataDir } from '../src/data/data-dir.js';
import { dataRoute } from './data-route.js';

const here = dirname(fileURLToPath(import.meta.url));

/**
 * The headers that make a page `crossOriginIsolated` (SharedArrayBuffer, precise timers). Under
 * COEP require-corp every subresource must be same-origin or opt in with CORP: the page loads only
 * its own modules, its worker scripts and /data/, all same-origin.
 */
const CROSS_ORIGIN_ISOLATION: Readonly<Record<string, string>> = {
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Embedder-Policy': 'require-corp',
};

/**
 * Sets the isolation headers on every response of the dev and preview servers. vite's own
 * `server.headers` / `preview.headers` reach only the responses of its built-in middlewares (not
 * /data/, not a 404); a middleware installed first covers them all.
 */
function crossOriginIsolation(): Plugin {
  const middleware: Connect.NextHandleFunction = (_req, res, next) => {
    for (const [name, value] of Object.entries(CROSS_ORIGIN_ISOLATION)) res.setHeader(name, value);
    next();
  };
  return {
    name: 'dyvedeep-cross-origin-isolation',
    configureServer: (server) => { server.middlewares.use(middleware); },
    configurePreviewServer: (server) => { server.middlewares.use(middleware); },
  };
}

/** The data directory under /data/ (demo/data-route.ts says what is served and what is refused). */
function serveData(): Plugin {
  const middleware = (): Connect.NextHandleFunction => dataRoute(resolveDataDir());
  return {
    name: 'dyvedeep-data',
    configureServer: (server) => { server.middlewares.use(middleware()); },
    configurePreviewServer: (server) => { server.middlewares.use(middleware()); },
  };
}

// The end-to-end suite's server (playwright.config.ts): no file watching and no HMR, so that an
// edit of the sources during a run cannot reload a page in the middle of a test.
const frozen = process.env['DYVE_DEMO_FROZEN'] === '1';

export default defineConfig({
  root: here,
  plugins: [crossOriginIsolation(), serveData()],
  server: { host: '127.0.0.1', strictPort: false, ...(frozen && { hmr: false, watch: null }) },
  preview: { host: '127.0.0.1' },
  // The backend worker (src/threads/backend-worker.ts) uses top-level await: an ES module worker.
  worker: { format: 'es' },
  build: {
    outDir: resolve(here, '../dist/demo'),
    emptyOutDir: true,
    target: 'es2022',
    rollupOptions: { input: { index: resolve(here, 'index.html'), bench: resolve(here, 'bench.html') } },
  },
});
