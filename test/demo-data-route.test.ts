/**
 * The demo server's /data/ route (demo/data-route.ts) on a bare node:http server over a temporary
 * data directory that holds links out of it: what it serves, what it refuses, and that no refusal
 * leaks a stack trace or an absolute path.
 */
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dataRoute } from '../demo/data-route.js';

interface Reply {
  status: number;
  type: string | undefined;
  body: Buffer;
}

let base: string;
let server: Server;
let port: number;
let fifo = false;
const FILE_BYTES = Buffer.from([0, 1, 2, 250, 251, 252, 10, 13, 0x7f]);
const SECRET = 'top secret outside the data directory';

/**
 * One request with the target sent exactly as written (node:http does not normalise `..` or
 * percent-escapes), bounded in time so that a hanging handler fails the test instead of stalling it.
 */
function get(target: string, method = 'GET'): Promise<Reply> {
  return new Promise((resolvePromise, reject) => {
    const req = request({ host: '127.0.0.1', port, path: target, method, agent: false, timeout: 5_000 }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolvePromise({ status: res.statusCode ?? 0, type: res.headers['content-type'], body: Buffer.concat(chunks) }));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`request ${target} timed out`)));
    req.on('error', reject);
    req.end();
  });
}

/** A refusal: the status, a short plain-text body, and nothing of the server's paths or stack. */
function expectRefused(r: Reply, statuses: number[]): void {
  expect(statuses).toContain(r.status);
  expect(r.type).toMatch(/^text\/plain/);
  const text = r.body.toString('utf8');
  expect(text.length).toBeLessThan(200);
  expect(text).not.toContain(base);
  expect(text).not.toContain(tmpdir());
  expect(text).not.toMatch(/\n\s+at /); // a stack frame
  expect(text).not.toContain(SECRET);
}

beforeAll(async () => {
  base = mkdtempSync(join(tmpdir(), 'dyve-data-route-'));
  const data = join(base, 'data');
  const outside = join(base, 'outside');
  mkdirSync(join(data, 'models'), { recursive: true });
  mkdirSync(outside);
  writeFileSync(join(data, 'models', 'net.bin'), FILE_BYTES);
  writeFileSync(join(data, 'README.md'), 'inside');
  writeFileSync(join(outside, 'secret.txt'), SECRET);
  // Links out of the data directory: to a file, to a folder, and one relative through `..`.
  symlinkSync(join(outside, 'secret.txt'), join(data, 'escape.txt'));
  symlinkSync(outside, join(data, 'outdir'));
  symlinkSync('../../outside/secret.txt', join(data, 'models', 'relative-escape.txt'));
  // A link that stays inside is served as its target.
  symlinkSync(join(data, 'models', 'net.bin'), join(data, 'alias.bin'));
  symlinkSync(join(data, 'missing'), join(data, 'dangling'));
  // A FIFO: opening it for reading would block until a writer came, and reading it never ends.
  fifo = spawnSync('mkfifo', [join(data, 'pipe')]).status === 0;

  const route = dataRoute(data);
  server = createServer((req, res) => route(req, res, () => {
    res.statusCode = 418;
    res.end('next middleware');
  }));
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  port = (server.address() as AddressInfo).port;
});

afterAll(async () => {
  await new Promise<void>((done) => server.close(() => done()));
  rmSync(base, { recursive: true, force: true });
});

describe('demo /data/ route', () => {
  it('serves a regular file with its bytes, and HEAD with its length only', async () => {
    const r = await get('/data/models/net.bin');
    expect(r.status).toBe(200);
    expect(r.type).toBe('application/octet-stream');
    expect(r.body.equals(FILE_BYTES)).toBe(true);
    const head = await get('/data/models/net.bin', 'HEAD');
    expect(head.status).toBe(200);
    expect(head.body.length).toBe(0);
    // Percent-encoded names and a query decode to the same file.
    expect((await get('/data/models/%6Eet.bin?x=1')).body.equals(FILE_BYTES)).toBe(true);
  });

  it('follows a link that stays inside the data directory', async () => {
    const r = await get('/data/alias.bin');
    expect(r.status).toBe(200);
    expect(r.body.equals(FILE_BYTES)).toBe(true);
  });

  it('lists a folder as JSON: regular files and inside links only', async () => {
    const r = await get('/data/');
    expect(r.status).toBe(200);
    expect(r.type).toBe('application/json');
    expect(JSON.parse(r.body.toString('utf8'))).toEqual(['README.md', 'alias.bin']);
    expect(JSON.parse((await get('/data/models/')).body.toString('utf8'))).toEqual(['net.bin']);
  });

  it('answers a malformed URL 400, without a stack trace or a path', async () => {
    for (const target of ['/data/%E0%A4%A', '/data/%', '/data/models/%zz', '/data/a%00b', '/data/%0a', '/data/models%2F..%2F..%2Foutside']) {
      expectRefused(await get(target), [400]);
    }
  });

  it('refuses links that lead out of the data directory', async () => {
    for (const target of ['/data/escape.txt', '/data/outdir/secret.txt', '/data/outdir/', '/data/models/relative-escape.txt']) {
      expectRefused(await get(target), [403, 404]);
    }
  });

  it('refuses `..` traversal, raw or percent-encoded', async () => {
    for (const target of ['/data/../outside/secret.txt', '/data/models/../../outside/secret.txt', '/data/%2e%2e/outside/secret.txt', '/data/%2E%2E/%2e%2e/etc/passwd']) {
      expectRefused(await get(target), [403, 404]);
    }
  });

  it('answers a missing file, a dangling link and an absolute-looking path 404', async () => {
    for (const target of ['/data/nothing.bin', '/data/dangling', '/data//etc/passwd', '/data/README.md/x']) {
      expectRefused(await get(target), [404]);
    }
  });

  it('refuses what is not a regular file or a folder (a FIFO) without blocking', async (ctx) => {
    if (!fifo) ctx.skip();
    expectRefused(await get('/data/pipe'), [403, 404]);
    expect(JSON.parse((await get('/data/')).body.toString('utf8'))).not.toContain('pipe');
  });

  it('refuses other methods, and passes other paths on', async () => {
    expectRefused(await get('/data/README.md', 'POST'), [405]);
    expect((await get('/index.html')).status).toBe(418);
    expect((await get('/datafile')).status).toBe(418);
  });
});
