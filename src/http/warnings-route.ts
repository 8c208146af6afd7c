// GET /api/warnings: what the server warned about by itself from live traffic (src/doctor/
// live-warnings.ts), newest last, each with its machine, code, text, fix and iPXE error; ?mac=
// (any spelling) and ?since= (ms) filter. The route is always there, so
// the API table is the same for every server; one built without the warnings answers [].
import type { FastifyInstance } from 'fastify';
import { normalizeMac } from '../boot/inventory.ts';
import type { LiveWarnings } from '../doctor/live-warnings.ts';

export function registerWarningsRoute(app: FastifyInstance, warnings: LiveWarnings | null): void {
  app.get<{ Querystring: { mac?: string; since?: string } }>('/api/warnings', async (request, reply) => {
    const given = request.query.mac;
    const mac = given === undefined || given === '' ? undefined : normalizeMac(given);
    if (mac === null) return reply.code(400).send({ error: `mac: "${given ?? ''}" is not a MAC address` });
    const since = request.query.since === undefined ? undefined : Number(request.query.since);
    if (since !== undefined && !Number.isFinite(since)) return reply.code(400).send({ error: 'since: milliseconds since the epoch' });
    return warnings?.list({ ...(mac !== undefined ? { mac } : {}), ...(since !== undefined ? { since } : {}) }) ?? [];
  });
}
