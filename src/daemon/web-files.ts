/**
 * Serves the built web page (index.html and a few hashed assets) on the local API.
 *
 *   serveWebFiles(app, webRoot());   // GET / → index.html, GET /assets/… → the file, else 404
 *
 * A plain route instead of @fastify/static: the page is a handful of files, and the plugin with its
 * dependencies (send, mime, glob…) cost the daemon ~4 MB of memory and ~50 ms of start-up.
 */
import { createReadStream, statSync } from 'node:fs';
import { extname, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FastifyInstance } from 'fastify';

/**
 * Absolute path of the built page (dist/page at the package root). This file runs as
 * src/daemon/web-files.ts (tests, via tsx) and as dist/daemon/web-files.js (the built package): both
 * sit two folders below the package root, so one relative path reaches the root from either.
 */
export function webRoot(): string {
  return fileURLToPath(new URL('../../dist/page/', import.meta.url));
}

/** Content types of the files Vite emits for the page. */
const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.webmanifest': 'application/manifest+json',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.woff2': 'font/woff2',
  '.txt': 'text/plain; charset=utf-8',
};

/** The file under `root` for a URL path, or null (outside root, malformed, missing, not a file). */
function fileFor(root: string, url: string): string | null {
  let path: string;
  try {
    path = decodeURIComponent(url.split('?')[0]);
  } catch {
    return null;
  }
  if (path.endsWith('/')) path += 'index.html';
  const file = resolve(root, `.${path}`);
  if (!file.startsWith(root + sep)) return null; // `..` must not climb out of the page
  try {
    return statSync(file).isFile() ? file : null;
  } catch {
    return null;
  }
}

/** Adds GET (and HEAD) for every file under `dir`; anything else goes to the app's not-found handler. */
export function serveWebFiles(app: FastifyInstance, dir: string): void {
  const root = resolve(dir);
  app.get('/*', async (req, reply) => {
    const file = fileFor(root, req.url);
    if (!file) return reply.callNotFound();
    return reply
      .type(TYPES[extname(file)] ?? 'application/octet-stream')
      .header('cache-control', 'no-cache')
      .send(createReadStream(file));
  });
}
