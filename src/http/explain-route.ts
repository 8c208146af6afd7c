// GET /api/explain/:code: an iPXE error code (0x2c0d603b, or the ipxe.org link iPXE prints) or a
// live warning's code (no-such-target) explained, for the console's links from a failed boot's
// events and for scripts. A read that changes nothing.
import type { FastifyInstance } from 'fastify';
import { explainCode } from '../doctor/explain-code.ts';

export function registerExplainRoute(app: FastifyInstance): void {
  app.get<{ Params: { code: string } }>('/api/explain/:code', async (request, reply) => {
    const explanation = explainCode(request.params.code);
    if (explanation === null) {
      return reply.code(404).send({ error: `${request.params.code} is neither an iPXE error code (eight hex digits, e.g. 0x1d704039) nor a warning code (GET /api/warnings)`, code: 'EXPLAIN_UNKNOWN_CODE' });
    }
    return explanation;
  });
}
