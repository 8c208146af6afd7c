// The web console: static files from src/console (plain ES modules, no build step) under
// /console/, and / redirected there. Only files with a known asset extension are served, so
// the folder's tsconfig.json and tests stay private, and nothing outside the folder is reachable.
// Files are read per request (they are a few KiB) so an edit shows on reload; each answer
// carries a content ETag and `no-cache`, so browsers revalidate and get 304 when nothing changed.
import { createHash } from 'node:crypto';
import { readFile, realpath, stat } from 'node:fs/promises';
import { extname, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FastifyInstance, FastifyReply } from 'fastify';

/** Where the console's files live: src/console, next to this folder. */
export const CONSOLE_ROOT = fileURLToPath(new URL('../console/', import.meta.url));

/** Served extensions and their types; anything else is a 404. */
export const CONSOLE_CONTENT_TYPES: Readonly<Record<string, string>> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
};

export interface ConsoleRouteOptions {
  /** The folder to serve; tests point it elsewhere. Default: CONSOLE_ROOT. */
  readonly root?: string;
}

/**
 * The file a request path names inside `root`, or null when it must not be served: an escape
 * (`..`, an absolute path, a backslash, NUL), a hidden file, or an extension not in the table.
 * Pure, so the rules are tested without a file system.
 */
export function consoleFilePath(root: string, requested: string): string | null {
  const relative = requested === '' || requested.endsWith('/') ? `${requested}index.html` : requested;
  if (relative.includes('\0') || relative.includes('\\') || relative.startsWith('/')) return null;
  const segments = relative.split('/');
  if (segments.some((s) => s === '' || s === '.' || s === '..' || s.startsWith('.'))) return null;
  if (CONSOLE_CONTENT_TYPES[extname(relative)] === undefined) return null;
  const base = resolve(root);
  const full = resolve(base, relative);
  return full.startsWith(base + sep) ? full : null;
}

function notFound(reply: FastifyReply): FastifyReply {
  return reply.code(404).type('text/plain; charset=utf-8').send('not found\n');
}

export function registerConsoleRoutes(app: FastifyInstance, options: ConsoleRouteOptions = {}): void {
  const root = resolve(options.root ?? CONSOLE_ROOT);
  // Resolved once: a symlink inside the folder must still land inside the real folder.
  const realRoot = realpath(root).catch(() => root);

  app.get('/', async (_request, reply) => reply.redirect('/console/', 302));
  app.get('/console', async (_request, reply) => reply.redirect('/console/', 301));

  app.get<{ Params: { '*': string } }>('/console/*', async (request, reply) => {
    const path = consoleFilePath(root, request.params['*']);
    if (path === null) return notFound(reply);
    let body: Buffer;
    try {
      const real = await realpath(path);
      if (!real.startsWith((await realRoot) + sep) || !(await stat(real)).isFile()) return notFound(reply);
      body = await readFile(real);
    } catch {
      return notFound(reply);
    }
    const etag = `"${createHash('sha1').update(body).digest('base64url')}"`;
    reply.header('etag', etag).header('cache-control', 'no-cache').header('x-content-type-options', 'nosniff');
    // The console has no inline script or style and talks only to this origin (no CDNs: the
    // server often sits on an isolated network), so the strictest policy costs nothing.
    reply.header('content-security-policy', "default-src 'self'; img-src 'self' data:; frame-ancestors 'none'; base-uri 'none'; form-action 'self'");
    if (request.headers['if-none-match'] === etag) return reply.code(304).send();
    return reply.type(CONSOLE_CONTENT_TYPES[extname(path)] ?? 'application/octet-stream').send(body);
  });
}
