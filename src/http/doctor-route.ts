// GET /api/machines/:ref/doctor: the boot doctor's checklist for one machine (src/doctor/), as
// JSON; GET /api/ipxe-errors/:code: an iPXE error code explained (what `diskless explain`
// prints), for the console and for boot events that carry a code. Reads, like the other GETs:
// they change nothing (the doctor's test login only reads LBA 0 and the GPT). Both routes are
// always there, so the API table is the same for every server; one built without the doctor's
// dependencies (some HTTP tests) answers the doctor route with 503.
import type { FastifyInstance } from 'fastify';
import type { DoctorDeps } from '../doctor/doctor-deps.ts';
import { explainIpxeError, renderExplanation } from '../doctor/explain.ts';
import { parseIpxeCode } from '../doctor/ipxe-error-code.ts';
import { runDoctor } from '../doctor/run-doctor.ts';

const FIRMWARES = new Set(['bios', 'uefi']);

export function registerDoctorRoutes(app: FastifyInstance, deps: DoctorDeps | null): void {
  app.get<{ Params: { ref: string }; Querystring: { firmware?: string } }>('/api/machines/:ref/doctor', async (request, reply) => {
    if (deps === null) return reply.code(503).send({ error: 'this server was built without the boot doctor' });
    const firmware = request.query.firmware;
    if (firmware !== undefined && !FIRMWARES.has(firmware)) {
      return reply.code(400).send({ error: `firmware must be bios or uefi, not "${firmware}"` });
    }
    const report = await runDoctor(deps, request.params.ref, firmware === 'bios' || firmware === 'uefi' ? { firmware } : {});
    if (report === null) return reply.code(404).send({ error: `no machine with MAC or name ${request.params.ref}` });
    return report;
  });

  app.get<{ Params: { code: string } }>('/api/ipxe-errors/:code', async (request, reply) => {
    const code = parseIpxeCode(request.params.code);
    if (code === null) return reply.code(400).send({ error: `${request.params.code} is not an iPXE error code (iPXE prints eight hex digits, e.g. 0x1d704039)` });
    const explanation = explainIpxeError(code);
    return { code: explanation.decoded.hex, decoded: explanation.decoded, rule: explanation.rule, url: explanation.url, text: renderExplanation(explanation) };
  });
}
