// The boot timeline over HTTP: GET /api/events (JSON, filtered by MAC and time) and
// GET /api/events/stream (Server-Sent Events, live).
import type { FastifyInstance } from 'fastify';
import { normalizeMac } from '../boot/inventory.ts';
import type { BootEvent, BootEventLog } from '../events/boot-events.ts';

interface EventQuery {
  mac?: string;
  since?: string;
}

function macFilter(mac: string | undefined): string | undefined | null {
  if (mac === undefined || mac === '') return undefined;
  return normalizeMac(mac);
}

export function registerEventRoutes(app: FastifyInstance, events: BootEventLog): void {
  app.get<{ Querystring: EventQuery }>('/api/events', async (request, reply) => {
    const mac = macFilter(request.query.mac);
    if (mac === null) return reply.code(400).send({ error: `mac: "${request.query.mac}" is not a MAC address` });
    const since = request.query.since === undefined ? undefined : Number(request.query.since);
    if (since !== undefined && !Number.isFinite(since)) return reply.code(400).send({ error: 'since: milliseconds since the epoch' });
    return events.list({ ...(mac !== undefined ? { mac } : {}), ...(since !== undefined ? { since } : {}) });
  });

  app.get<{ Querystring: EventQuery }>('/api/events/stream', (request, reply) => {
    const mac = macFilter(request.query.mac);
    if (mac === null) {
      void reply.code(400).send({ error: `mac: "${request.query.mac}" is not a MAC address` });
      return;
    }
    reply.hijack();
    const out = reply.raw;
    out.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', connection: 'keep-alive' });
    out.write(': diskless boot events\n\n');
    const send = (event: BootEvent): void => {
      if (mac !== undefined && event.mac !== mac) return;
      out.write(`event: boot\ndata: ${JSON.stringify(event)}\n\n`);
    };
    const unsubscribe = events.subscribe(send);
    request.raw.on('close', unsubscribe);
  });
}
