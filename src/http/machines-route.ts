// /api/machines: the machines in the store. Reads are open; every change needs the API token
// (Authorization: Bearer ...). Store validation errors become 400 with the store's message,
// which names the field; duplicates 409; unknown machines 404. Secrets never leave redacted.
// A body with "disks" instead of "boot" gives the machine a target of its own (provision.ts).
import type { FastifyInstance } from 'fastify';
import type { DiskControl } from '../targets/live-targets.ts';
import type { Store } from '../store/open-store.ts';
import type { MachinePatch, NewMachine } from '../store/repositories/machines.ts';
import { machinePatch, newMachine, toPublicMachine } from '../store/repositories/machines.ts';
import { addMachineWithDisks, addMachineWithImage, removeMachine, updateMachine, type NewMachineWithDisks, type NewMachineWithImage } from '../targets/provision.ts';
import { stripUndefined } from '../store/repositories/validate.ts';
import { requireToken, sendApiError } from './api-common.ts';
import { machineWithDisks, machineWithImage, parseBody } from './api-schemas.ts';

export interface InventoryRouteOptions {
  readonly store: Store;
  readonly apiToken: string;
  /** Called after every change, so the running services see it. */
  readonly changed: () => Promise<void>;
  /** Where new disk files go (DATA_DIR). */
  readonly dataDir: string;
  /** Reads of /api/ need the token too. */
  readonly protectReads?: boolean;
  /** The live targets: snapshots freeze a disk, rollbacks detach it (absent: refused). */
  readonly diskControl?: DiskControl;
}

export function registerMachinesRoutes(app: FastifyInstance, options: InventoryRouteOptions): void {
  const { store } = options;
  const guard = requireToken(options.apiToken);

  app.get('/api/machines', async () => (await store.machines.list()).map(toPublicMachine));

  app.get<{ Params: { ref: string } }>('/api/machines/:ref', async (request, reply) => {
    const machine = await store.machines.get(request.params.ref);
    if (machine === undefined) return reply.code(404).send({ error: `no machine with MAC or name ${request.params.ref}` });
    return toPublicMachine(machine);
  });

  app.post<{ Body: unknown }>('/api/machines', { preHandler: guard }, async (request, reply) => {
    try {
      const body = request.body;
      const has = (key: string): boolean => typeof body === 'object' && body !== null && key in body && !('boot' in body);
      const machine = has('image')
        ? await addMachineWithImage(store, options.dataDir, stripUndefined(parseBody(machineWithImage, body, 'machine')) as NewMachineWithImage)
        : has('disks')
          ? await addMachineWithDisks(store, stripUndefined(parseBody(machineWithDisks, body, 'machine')) as NewMachineWithDisks)
          : await store.machines.add(parseBody(newMachine, body, 'machine') as NewMachine);
      await options.changed();
      return reply.code(201).send(toPublicMachine(machine));
    } catch (err) {
      return sendApiError(reply, err);
    }
  });

  app.patch<{ Params: { ref: string }; Body: unknown }>('/api/machines/:ref', { preHandler: guard }, async (request, reply) => {
    try {
      const machine = await updateMachine(store, request.params.ref, parseBody(machinePatch, request.body, 'machine change') as MachinePatch);
      await options.changed();
      return toPublicMachine(machine);
    } catch (err) {
      return sendApiError(reply, err);
    }
  });

  app.delete<{ Params: { ref: string } }>('/api/machines/:ref', { preHandler: guard }, async (request, reply) => {
    try {
      const machine = await removeMachine(store, request.params.ref);
      await options.changed();
      return toPublicMachine(machine);
    } catch (err) {
      return sendApiError(reply, err);
    }
  });
}
