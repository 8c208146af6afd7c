// HTTP: the boot script iPXE fetches and a small read API (sessions). Tested with inject().
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import { renderSanbootScript, type SanbootScript } from './boot-script.ts';

export interface HttpDeps {
  /** The sanboot script for a client that reached us at `hostSeen` (the Host header's name). */
  bootScript(hostSeen: string): SanbootScript | null;
  sessions(): unknown[];
  readonly log: Logger;
}

export function buildHttpServer(deps: HttpDeps): FastifyInstance {
  const app = Fastify({
    loggerInstance: deps.log.child({ proto: 'http' }) as FastifyBaseLogger,
    // Boot script fetches are logged by the route itself, with what matters (client, target).
    logController: new LogController({ disableRequestLogging: true }),
  });

  app.get('/boot.ipxe', async (request, reply) => {
    const script = deps.bootScript(hostnameOf(request.headers.host, request.socket.localAddress));
    reply.type('text/plain; charset=utf-8');
    if (script === null) {
      // Still a valid iPXE script, so the client shows the reason instead of a bare error code.
      return '#!ipxe\necho diskless: no disk is configured to boot from; add a target to the configuration\nshell\n';
    }
    request.log.info({ client: request.ip, target: script.disk.target }, 'boot script served');
    return renderSanbootScript(script);
  });

  app.get('/api/sessions', async () => deps.sessions());
  app.get('/healthz', async () => ({ ok: true }));
  return app;
}

/** The host name the client used, without the port: what the client can reach us at. */
export function hostnameOf(hostHeader: string | undefined, fallback: string | undefined): string {
  const fromHeader = hostHeader?.trim() ?? '';
  if (fromHeader !== '') {
    if (fromHeader.startsWith('[')) return fromHeader.slice(1, fromHeader.indexOf(']'));
    const colon = fromHeader.lastIndexOf(':');
    return colon > 0 && fromHeader.indexOf(':') === colon ? fromHeader.slice(0, colon) : fromHeader;
  }
  const local = fallback ?? '127.0.0.1';
  return local.startsWith('::ffff:') ? local.slice(7) : local;
}
