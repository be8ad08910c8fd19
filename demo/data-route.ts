/**
 * The demo server's /data/ route (demo/vite.config.ts): serves the reference data directory
 * read-only, a folder URL as a JSON list of its file names. Kept apart from the vite config so
 * that test/demo-data-route.test.ts can run it on a bare node:http server.
 *
 * The directory is served as what it contains, never more: a path that does not decode, that
 * holds a NUL or a control character, or that climbs with `..` is refused before the file system
 * is asked; a symbolic link is followed only when its real path stays inside the data directory's
 * real path; only regular files (and folders, as listings) are served. Answers are short plain
 * text: no stack trace and no absolute path ever reaches the client, since the demo server is a
 * dev server that may listen beyond localhost.
 */
import { constants, realpathSync } from 'node:fs';
import { open, readdir, realpath, stat, type FileHandle } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { isAbsolute, join, relative, sep } from 'node:path';

/** URL prefix of the route; anything else is passed on to the next middleware. */
export const DATA_PREFIX = '/data/';

/** A connect-style middleware (vite's `Connect.NextHandleFunction` without depending on vite). */
export type DataRoute = (req: IncomingMessage, res: ServerResponse, next: () => void) => void;

/** Ends a response with a short plain-text message (never a path or a stack). */
function reply(res: ServerResponse, status: number, message: string, headers: Readonly<Record<string, string>> = {}): void {
  if (res.headersSent) {
    // A failure after the body started (a read error mid-file): all that is left is to cut it.
    res.destroy();
    return;
  }
  res.statusCode = status;
  for (const [name, value] of Object.entries(headers)) res.setHeader(name, value);
  res.setHeader('Content-Type', 'text/plain; charset=utf-8');
  res.setHeader('X-Content-Type-Options', 'nosniff');
  res.end(`${message}\n`);
}

/** Whether `path` is `root` or below it (both absolute and normalised; no prefix tricks like /data2). */
function isInside(root: string, path: string): boolean {
  const rel = relative(root, path);
  return rel === '' || (rel !== '..' && !rel.startsWith(`..${sep}`) && !isAbsolute(rel));
}

/**
 * The path segments of a request under /data/, or a reason to refuse it. Splitting before
 * joining matters: `/data//etc/passwd` must not resolve to the absolute `/etc/passwd`.
 */
function parseSegments(rawPath: string): { segments: string[] } | { status: number; message: string } {
  const segments: string[] = [];
  for (const encoded of rawPath.slice(DATA_PREFIX.length).split('/')) {
    let segment: string;
    try {
      segment = decodeURIComponent(encoded);
    } catch {
      return { status: 400, message: 'bad request: malformed percent-encoding in the URL' };
    }
    // NUL makes node's fs throw (a 500 before); other control characters name no data file.
    // eslint-disable-next-line no-control-regex
    if (/[\x00-\x1f\x7f]/.test(segment)) return { status: 400, message: 'bad request: control character in the URL' };
    // An encoded slash (%2F) would smuggle a separator, and with it `..`, into one segment.
    if (segment.includes('/') || segment.includes('\\')) return { status: 400, message: 'bad request: encoded path separator in the URL' };
    if (segment === '..') return { status: 403, message: 'forbidden: the path leaves the data directory' };
    if (segment !== '' && segment !== '.') segments.push(segment);
  }
  return { segments };
}

/** Names of the regular files of a folder whose real paths lie inside the data directory, sorted. */
async function listFiles(dir: string, realRoot: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true });
  const names = await Promise.all(entries.map(async (entry) => {
    if (entry.isFile()) return entry.name;
    if (!entry.isSymbolicLink()) return null;
    try {
      const real = await realpath(join(dir, entry.name));
      return isInside(realRoot, real) && (await stat(real)).isFile() ? entry.name : null;
    } catch {
      return null; // a dangling or looping link lists as nothing
    }
  }));
  return names.filter((n): n is string => n !== null).sort();
}

/**
 * The /data/ middleware for the data directory `root` (which must exist: its real path is taken
 * now, so a link swapped in for the directory itself later changes nothing).
 */
export function dataRoute(root: string): DataRoute {
  const realRoot = realpathSync(root);

  const handle = async (req: IncomingMessage, res: ServerResponse, next: () => void): Promise<void> => {
    // The raw request target, not a parsed URL: `new URL('//x/..', base)` would read a host out of
    // the path. An absolute-form target (proxies) or any other path is not ours.
    const target = req.url ?? '';
    const rawPath = target.split(/[?#]/, 1)[0];
    if (!rawPath.startsWith(DATA_PREFIX)) return next();
    if (req.method !== 'GET' && req.method !== 'HEAD') return reply(res, 405, 'method not allowed', { Allow: 'GET, HEAD' });

    const parsed = parseSegments(rawPath);
    if ('status' in parsed) return reply(res, parsed.status, parsed.message);
    const path = join(realRoot, ...parsed.segments);
    if (!isInside(realRoot, path)) return reply(res, 403, 'forbidden: the path leaves the data directory');

    let real: string;
    try {
      real = await realpath(path);
    } catch {
      // ENOENT, ENOTDIR, ELOOP, EACCES: to the client all are "nothing to serve here".
      return reply(res, 404, 'not found in the data directory');
    }
    // A symbolic link (this entry or a folder on its way) that leads out of the data directory.
    if (!isInside(realRoot, real)) return reply(res, 403, 'forbidden: the path leaves the data directory');

    // Opened without following a link in the last component: `real` has none, so a link swapped
    // in after realpath fails here instead of being followed; fstat then describes what is open.
    let file: FileHandle;
    try {
      file = await open(real, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
    } catch {
      return reply(res, 404, 'not found in the data directory');
    }
    let streamed = false;
    try {
      const info = await file.stat();
      if (info.isDirectory()) {
        const body = JSON.stringify(await listFiles(real, realRoot));
        res.setHeader('Content-Type', 'application/json');
        res.setHeader('Content-Length', String(Buffer.byteLength(body)));
        res.end(req.method === 'HEAD' ? undefined : body);
        return;
      }
      // FIFOs, sockets, devices: reading them could block or never end.
      if (!info.isFile()) return reply(res, 403, 'forbidden: not a regular file');
      res.setHeader('Content-Type', 'application/octet-stream');
      res.setHeader('Content-Length', String(info.size));
      if (req.method === 'HEAD') {
        res.end();
        return;
      }
      // The stream owns the file handle from here on: it closes it at the end or on error.
      const stream = file.createReadStream({ start: 0 });
      streamed = true;
      stream.on('error', () => reply(res, 500, 'internal error reading the file'));
      res.on('close', () => stream.destroy());
      stream.pipe(res);
    } finally {
      if (!streamed) await file.close();
    }
  };

  return (req, res, next) => {
    handle(req, res, next).catch(() => reply(res, 500, 'internal error'));
  };
}
