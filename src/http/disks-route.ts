// /api/disks and /api/targets: the disks (backing files) and the targets that export them.
// POST /api/disks with sizeBytes makes a new sparse disk in DATA_DIR/disks/; with path it
// registers a file or block device the user already has (the server stats it).
import type { FastifyInstance } from 'fastify';
import { rm } from 'node:fs/promises';
import type { Disk } from '../store/repositories/disks.ts';
import { newTarget, targetPatch, toPublicTarget, type NewLun, type NewTarget, type TargetPatch } from '../store/repositories/targets.ts';
import { diskFileInfo, newDiskPath, newOverlayPath } from '../targets/disk-files.ts';
import { requireToken, sendApiError } from './api-common.ts';
import { diskPatchBody, lunBody, newDiskBody, parseBody, rollbackBody, snapshotBody } from './api-schemas.ts';
import { changeDisk, createDisk } from '../targets/disk-service.ts';
import { removeSnapshot, removeSnapshotFiles, rollbackDisk, takeSnapshot } from '../targets/disk-snapshots.ts';
import { StoreError, StoreErrorCode } from '../store/errors.ts';
import type { DiskControl } from '../targets/live-targets.ts';
import type { InventoryRouteOptions } from './machines-route.ts';

export interface PublicDisk extends Disk {
  /** Bytes the file really occupies (sparse files grow as machines write). */
  readonly usedBytes: number;
  /** The LUNs that export it. */
  readonly usedBy: readonly { readonly target: string; readonly lun: number }[];
}

export function registerDiskRoutes(app: FastifyInstance, options: InventoryRouteOptions): void {
  const { store } = options;
  const guard = requireToken(options.apiToken);

  const usage = async (): Promise<Map<string, { target: string; lun: number }[]>> => {
    const byDisk = new Map<string, { target: string; lun: number }[]>();
    for (const t of await store.targets.list()) for (const l of t.luns) byDisk.set(l.disk, [...(byDisk.get(l.disk) ?? []), { target: t.iqn, lun: l.lun }]);
    return byDisk;
  };
  const publicDisk = async (disk: Disk, byDisk: Map<string, { target: string; lun: number }[]>): Promise<PublicDisk> => {
    const info = await diskFileInfo(disk.path).catch(() => ({ sizeBytes: disk.sizeBytes, usedBytes: 0 }));
    return { ...disk, usedBytes: info.usedBytes, usedBy: byDisk.get(disk.name) ?? [] };
  };

  app.get('/api/disks', async () => {
    const byDisk = await usage();
    return Promise.all((await store.disks.list()).map((d) => publicDisk(d, byDisk)));
  });

  app.get<{ Params: { name: string } }>('/api/disks/:name', async (request, reply) => {
    const disk = await store.disks.get(request.params.name);
    if (disk === undefined) return reply.code(404).send({ error: `no disk named ${request.params.name}; GET /api/disks lists them` });
    return publicDisk(disk, await usage());
  });

  app.post<{ Body: unknown }>('/api/disks', { preHandler: guard }, async (request, reply) => {
    try {
      const disk = await createDisk(store, options.dataDir, parseBody(newDiskBody, request.body, 'disk'));
      return reply.code(201).send(await publicDisk(disk, await usage()));
    } catch (err) {
      return sendApiError(reply, err);
    }
  });

  app.patch<{ Params: { name: string }; Body: unknown }>('/api/disks/:name', { preHandler: guard }, async (request, reply) => {
    try {
      let disk: Disk;
      try {
        disk = await changeDisk(store, request.params.name, parseBody(diskPatchBody, request.body, 'disk change'), options.diskControl);
      } finally {
        // Targets exporting it reopen it (also after a failed move that had withdrawn them);
        // their sessions log in again and see the change.
        await options.changed();
      }
      return publicDisk(disk, await usage());
    } catch (err) {
      return sendApiError(reply, err);
    }
  });

  app.delete<{ Params: { name: string }; Querystring: { deleteFile?: string } }>('/api/disks/:name', { preHandler: guard }, async (request, reply) => {
    try {
      const snapshots = await store.snapshots.list(request.params.name);
      const disk = await store.disks.remove(request.params.name);
      // Snapshots are files diskless made, useless without their disk.
      await removeSnapshotFiles(snapshots);
      // Only files diskless made itself are deleted, and only when asked.
      const own = [newDiskPath(options.dataDir, disk.name), newOverlayPath(options.dataDir, disk.name)];
      if (request.query.deleteFile === 'true' && own.includes(disk.path)) {
        await rm(disk.path, { force: true });
      }
      return disk;
    } catch (err) {
      return sendApiError(reply, err);
    }
  });

  const control = (): DiskControl => {
    if (options.diskControl === undefined) throw new StoreError(StoreErrorCode.Invalid, 'snapshots and rollbacks need the running server');
    return options.diskControl;
  };
  app.get<{ Params: { name: string } }>('/api/disks/:name/snapshots', async (request, reply) => {
    if ((await store.disks.get(request.params.name)) === undefined) return reply.code(404).send({ error: `no disk named ${request.params.name}; GET /api/disks lists them` });
    return store.snapshots.list(request.params.name);
  });
  app.post<{ Params: { name: string }; Body: unknown }>('/api/disks/:name/snapshots', { preHandler: guard }, async (request, reply) => {
    try {
      const body = parseBody(snapshotBody, request.body, 'snapshot');
      return reply.code(201).send(await takeSnapshot(store, control(), options.dataDir, request.params.name, body.name));
    } catch (err) {
      return sendApiError(reply, err);
    }
  });
  app.delete<{ Params: { name: string; snapshot: string } }>('/api/disks/:name/snapshots/:snapshot', { preHandler: guard }, async (request, reply) => {
    try {
      return await removeSnapshot(store, request.params.name, request.params.snapshot);
    } catch (err) {
      return sendApiError(reply, err);
    }
  });
  app.post<{ Params: { name: string }; Body: unknown }>('/api/disks/:name/rollback', { preHandler: guard }, async (request, reply) => {
    try {
      const body = parseBody(rollbackBody, request.body, 'rollback');
      let disk: Disk;
      try {
        disk = await rollbackDisk(store, control(), request.params.name, body.snapshot);
      } finally {
        // Offers the disk again (it was withdrawn while its file was replaced), also on failure.
        await options.changed();
      }
      return publicDisk(disk, await usage());
    } catch (err) {
      return sendApiError(reply, err);
    }
  });

  app.get('/api/targets', async () => (await store.targets.list()).map(toPublicTarget));

  app.get<{ Params: { iqn: string } }>('/api/targets/:iqn', async (request, reply) => {
    const target = await store.targets.get(request.params.iqn);
    if (target === undefined) return reply.code(404).send({ error: `no target ${request.params.iqn}; GET /api/targets lists them` });
    return toPublicTarget(target);
  });

  const change = async <T>(reply: Parameters<typeof sendApiError>[0], code: number, body: () => Promise<T>) => {
    try {
      const result = await body();
      await options.changed();
      return reply.code(code).send(result);
    } catch (err) {
      return sendApiError(reply, err);
    }
  };

  app.post<{ Body: unknown }>('/api/targets', { preHandler: guard }, (request, reply) =>
    change(reply, 201, async () => toPublicTarget(await store.targets.add(parseBody(newTarget, request.body, 'target') as NewTarget))),
  );
  app.patch<{ Params: { iqn: string }; Body: unknown }>('/api/targets/:iqn', { preHandler: guard }, (request, reply) =>
    change(reply, 200, async () => toPublicTarget(await store.targets.update(request.params.iqn, parseBody(targetPatch, request.body, 'target change') as TargetPatch))),
  );
  app.put<{ Params: { iqn: string; lun: string }; Body: unknown }>('/api/targets/:iqn/luns/:lun', { preHandler: guard }, (request, reply) =>
    change(reply, 200, async () => toPublicTarget(await store.targets.setLun(request.params.iqn, { ...parseBody(lunBody, request.body, 'LUN'), lun: Number(request.params.lun) } as NewLun))),
  );
  app.delete<{ Params: { iqn: string; lun: string } }>('/api/targets/:iqn/luns/:lun', { preHandler: guard }, (request, reply) =>
    change(reply, 200, async () => toPublicTarget(await store.targets.removeLun(request.params.iqn, Number(request.params.lun)))),
  );
  app.delete<{ Params: { iqn: string } }>('/api/targets/:iqn', { preHandler: guard }, (request, reply) =>
    change(reply, 200, async () => toPublicTarget(await store.targets.remove(request.params.iqn))),
  );
}
