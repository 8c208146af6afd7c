// Packet captures of one machine's boot (src/capture/): POST /api/machines/:ref/capture starts
// one (or restarts it), DELETE stops it early, GET downloads the pcap file (also while it
// runs: every whole record so far), GET /api/captures lists them. All but the list need the API
// token, the download too: a capture holds the machine's disk blocks and its CHAP exchange.
// The routes are always there (the API table is the same for every server); one built without
// the capture service answers 503.
import { createReadStream } from 'node:fs';
import type { FastifyInstance, FastifyReply } from 'fastify';
import type { CaptureService } from '../capture/capture-service.ts';
import { captureBody } from '../capture/capture-request.ts';
import { requireToken, sendApiError } from './api-common.ts';
import { parseBody } from './api-schemas.ts';

export interface CaptureRouteDeps {
  readonly service: CaptureService | null;
  /** The API token; null: no changes possible (a server built without the store API). */
  readonly apiToken: string | null;
  /** A MAC or a machine's name to its MAC; null when it names nothing. */
  resolveMac(ref: string): Promise<string | null>;
}

type Params = { Params: { ref: string } };

export function registerCaptureRoutes(app: FastifyInstance, deps: CaptureRouteDeps): void {
  const guard = requireToken(deps.apiToken ?? '');
  const tokenRequired = { preHandler: deps.apiToken !== null ? guard : denyAll };

  /** The machine's MAC, or a reply already sent. */
  const machine = async (ref: string, reply: FastifyReply): Promise<{ mac: string; service: CaptureService } | null> => {
    if (deps.service === null) {
      await reply.code(503).send({ error: 'this server was built without packet captures', code: 'CAPTURE_UNAVAILABLE' });
      return null;
    }
    const mac = await deps.resolveMac(ref);
    if (mac === null) {
      await reply.code(404).send({ error: `no machine with MAC or name ${ref}`, code: 'CAPTURE_NO_MACHINE' });
      return null;
    }
    return { mac, service: deps.service };
  };

  app.post<Params & { Body: unknown }>('/api/machines/:ref/capture', tokenRequired, async (request, reply) => {
    try {
      const body = parseBody(captureBody, request.body, 'capture');
      const found = await machine(request.params.ref, reply);
      if (found === null) return reply;
      return reply.code(201).send(await found.service.start(found.mac, body));
    } catch (err) {
      return sendApiError(reply, err);
    }
  });

  app.delete<Params>('/api/machines/:ref/capture', tokenRequired, async (request, reply) => {
    const found = await machine(request.params.ref, reply);
    if (found === null) return reply;
    const status = await found.service.stop(found.mac);
    if (status === null) return reply.code(404).send({ error: `no capture of ${found.mac}`, code: 'CAPTURE_NONE' });
    return status;
  });

  app.get<Params>('/api/machines/:ref/capture', tokenRequired, async (request, reply) => {
    const found = await machine(request.params.ref, reply);
    if (found === null) return reply;
    const file = found.service.file(found.mac);
    if (file === null) return reply.code(404).send({ error: `no capture of ${found.mac}: start one with POST /api/machines/${request.params.ref}/capture`, code: 'CAPTURE_NONE' });
    const stamp = file.status.startedAt.replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z');
    return reply
      .type('application/vnd.tcpdump.pcap')
      .header('content-disposition', `attachment; filename="diskless-${found.mac.replace(/:/g, '')}-${stamp}.pcap"`)
      .header('content-length', file.length)
      .header('x-capture-state', file.status.state)
      .send(createReadStream(file.path, { start: 0, end: file.length - 1 }));
  });

  app.get('/api/captures', async () => deps.service?.list() ?? []);
}

async function denyAll(_request: unknown, reply: FastifyReply): Promise<void> {
  await reply.code(401).send({ error: 'this server has no API token: captures cannot be started or downloaded' });
}
