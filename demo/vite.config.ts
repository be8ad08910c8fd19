/**
 * The demo page and the browser benchmark (vite). In dev and preview mode the server also serves
 * the reference data directory under /data/ (read-only; a folder URL ending in / lists its files
 * as JSON), so the page can load the zoo's models and images without copying them anywhere.
 */
import { createReadStream, readdirSync, statSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { defineConfig, type Connect, type Plugin } from 'vite';
import { resolveDataDir } from '../src/data/data-dir.js';

const here = dirname(fileURLToPath(import.meta.url));

function serveData(): Plugin {
  const middleware = (): Connect.NextHandleFunction => {
    const root = resolveDataDir();
    return (req: IncomingMessage, res: ServerResponse, next: () => void) => {
      const url = new URL(req.url ?? '/', 'http://localhost');
      if (!url.pathname.startsWith('/data/')) return next();
      const path = resolve(root, decodeURIComponent(url.pathname.slice('/data/'.length)));
      const inside = relative(root, path);
      if (inside.startsWith('..') || inside.split(sep).includes('..')) {
        res.statusCode = 403;
        return res.end('outside the data directory');
      }
      let stat;
      try {
        stat = statSync(path);
      } catch {
        res.statusCode = 404;
        return res.end(`not in the data directory: ${inside}`);
      }
      if (stat.isDirectory()) {
        res.setHeader('Content-Type', 'application/json');
        return res.end(JSON.stringify(readdirSync(path).filter((f) => statSync(join(path, f)).isFile()).sort()));
      }
      res.setHeader('Content-Type', 'application/octet-stream');
      res.setHeader('Content-Length', String(stat.size));
      createReadStream(path).pipe(res);
    };
  };
  return {
    name: 'dyvedeep-data',
    configureServer: (server) => { server.middlewares.use(middleware()); },
    configurePreviewServer: (server) => { server.middlewares.use(middleware()); },
  };
}

export default defineConfig({
  root: here,
  plugins: [serveData()],
  server: { host: '127.0.0.1', strictPort: false },
  build: {
    outDir: resolve(here, '../dist/demo'),
    emptyOutDir: true,
    target: 'es2022',
    rollupOptions: { input: { index: resolve(here, 'index.html'), bench: resolve(here, 'bench.html') } },
  },
});
