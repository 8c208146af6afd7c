// Composition root: validated config in, running services out. Nothing else wires modules.
import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import type { Config } from './config/schema.ts';
import { buildHttpServer } from './http/server.ts';
import { Inventory } from './boot/inventory.ts';
import { IscsiServer } from './iscsi/server.ts';
import { TargetDirectory, type ExportedTarget } from './iscsi/target-directory.ts';
import { BlockLogicalUnit } from './scsi/logical-unit.ts';
import { LunTable } from './scsi/target-device.ts';
import type { BlockDevice } from './storage/block-device.ts';
import { openFileDevice } from './storage/file-device.ts';

export interface RunningServer {
  readonly iscsi: IscsiServer;
  readonly http: FastifyInstance;
  readonly iscsiPort: number;
  readonly httpPort: number;
  readonly targets: TargetDirectory;
  close(): Promise<void>;
}

export async function startServer(config: Readonly<Config>, log: Logger): Promise<RunningServer> {
  const devices: BlockDevice[] = [];
  const exported: ExportedTarget[] = [];
  try {
    for (const target of config.targets) {
      const units = new Map<number, BlockLogicalUnit>();
      for (const lun of target.luns) {
        const device = await openFileDevice(lun.path, { readOnly: lun.readOnly });
        devices.push(device);
        units.set(lun.lun, new BlockLogicalUnit(device, { productId: target.alias ?? 'disk' }));
      }
      exported.push({
        name: target.iqn,
        alias: target.alias ?? null,
        device: new LunTable(units),
        chap: target.chap ?? null,
        mutualChap: target.mutualChap ?? null,
        allowedInitiators: target.initiators ?? null,
      });
    }
  } catch (err) {
    await Promise.all(devices.map((d) => new Promise((resolve) => d.close(resolve))));
    throw err;
  }
  const targets = new TargetDirectory(exported);
  const iscsi = new IscsiServer({
    targets,
    portalGroupTag: config.iscsi.portalGroupTag,
    discoveryAuth: config.iscsi.discoveryAuth ?? null,
    nopIntervalMs: config.iscsi.nopIntervalMs,
    nopTimeoutMs: config.iscsi.nopTimeoutMs,
    maxConnections: config.iscsi.maxConnections,
    advertise: config.advertise === undefined ? [] : [config.advertise],
    listen: config.listen,
    log: log.child({ proto: 'iscsi' }),
  });
  const iscsiPort = await iscsi.listen(config.iscsi.port, config.listen);

  const inventory = new Inventory(config.machines, config.targets, config.unknownMachines);
  let httpPort = config.http.port;
  const http = buildHttpServer({
    log,
    inventory,
    sessions: () => iscsi.sessions(),
    context: (hostSeen) => ({ server: config.advertise ?? hostSeen, iscsiPort, httpPort }),
  });
  await http.listen({ port: config.http.port, host: config.listen });
  const address = http.server.address();
  httpPort = typeof address === 'object' && address !== null ? address.port : config.http.port;

  return {
    iscsi,
    http,
    iscsiPort,
    httpPort,
    targets,
    async close() {
      await http.close();
      await iscsi.close();
      await Promise.all(devices.map((d) => new Promise((resolve) => d.close(resolve))));
    },
  };
}
