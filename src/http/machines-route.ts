// /api/machines: the machines in the store. Reads are open; every change needs the API token
// (Authorization: Bearer ...). Store validation errors become 400 with the store's message,
// which names the field; duplicates 409; unknown machines 404. Secrets never leave redacted.
import { timingSafeEqual } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { StoreError, StoreErrorCode } from '../store/errors.ts';
import type { MachineRepository, NewMachine } from '../store/repositories/machines.ts';
import { toPublicMachine } from '../store/repositories/machines.ts';

export interface MachinesRouteOptions {
  readonly machines: MachineRepository;
  readonly apiToken: string;
  /** Called after every change, so the running services see it. */
  readonly changed: () => Promise<void>;
}

const STATUS_BY_CODE: Readonly<Record<string, number>> = {
  [StoreErrorCode.Invalid]: 400,
  [StoreErrorCode.DuplicateMac]: 409,
  [StoreErrorCode.DuplicateName]: 409,
  [StoreErrorCode.NotFound]: 404,
  [StoreErrorCode.InUse]: 409,
};

function sendStoreError(reply: FastifyReply, err: unknown): FastifyReply {
  if (err instanceof StoreError) return reply.code(STATUS_BY_CODE[err.code] ?? 500).send({ error: err.message, code: err.code });
  throw err;
}

export function tokenMatches(request: FastifyRequest, token: string): boolean {
  const header = request.headers.authorization ?? '';
  const given = Buffer.from(header.startsWith('Bearer ') ? header.slice(7) : '');
  const expected = Buffer.from(token);
  return given.length === expected.length && timingSafeEqual(given, expected);
}

export function registerMachinesRoutes(app: FastifyInstance, options: MachinesRouteOptions): void {
  const { machines } = options;
  const guard = async (request: FastifyRequest, reply: FastifyReply): Promise<void> => {
    if (!tokenMatches(request, options.apiToken)) {
      await reply.code(401).send({ error: 'this change needs the API token: Authorization: Bearer <token> (the token is in DATA_DIR/api-token)' });
    }
  };

  app.get('/api/machines', async () => (await machines.list()).map(toPublicMachine));

  app.get<{ Params: { ref: string } }>('/api/machines/:ref', async (request, reply) => {
    const machine = await machines.get(request.params.ref);
    if (machine === undefined) return reply.code(404).send({ error: `no machine with MAC or name ${request.params.ref}` });
    return toPublicMachine(machine);
  });

  app.post<{ Body: unknown }>('/api/machines', { preHandler: guard }, async (request, reply) => {
    try {
      const machine = await machines.add(request.body as NewMachine);
      await options.changed();
      return reply.code(201).send(toPublicMachine(machine));
    } catch (err) {
      return sendStoreError(reply, err);
    }
  });

  app.delete<{ Params: { ref: string } }>('/api/machines/:ref', { preHandler: guard }, async (request, reply) => {
    try {
      const machine = await machines.remove(request.params.ref);
      await options.changed();
      return toPublicMachine(machine);
    } catch (err) {
      return sendStoreError(reply, err);
    }
  });
}
