// Composition root: validated config in, running services out. Nothing else wires modules.
import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import type { Config } from './config/schema.ts';
import { buildHttpServer } from './http/server.ts';
import { join } from 'node:path';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { openStore, type Store } from './store/open-store.ts';
import { bootFileRoots, createBootFileProvider } from './boot/boot-files.ts';
import { Inventory, type BootContext } from './boot/inventory.ts';
import { advertisedAddress, interfaceIpv4 } from './lib/net.ts';
import { startTftpServer } from './tftp/server.ts';
import { startDhcpServer, type DhcpServer } from './dhcp/server.ts';
import { subnetFromConfig } from './dhcp/subnet-from-config.ts';
import { routerAdvertisementsWanted, startRouterAdvertiser } from './ra/server.ts';
import { createBootPolicy } from './boot/policy.ts';
import { DisklessError } from './lib/errors.ts';
import { BootEventLog, type BootEventKind } from './events/boot-events.ts';
import { persistBootEvents } from './events/persist-events.ts';
import { doctorIscsiHost } from './doctor/doctor-deps.ts';
import { ObservedTargetDirectory } from './doctor/scsi-observer.ts';
import { LiveWarnings } from './doctor/live-warnings.ts';
import { warningContext } from './doctor/warning-context.ts';
import { CaptureService } from './capture/capture-service.ts';
import { interfaceOf } from './capture/link-layer.ts';

const DHCP_EVENT_KINDS: Readonly<Record<string, BootEventKind>> = {
  discover: 'dhcp-discover',
  offer: 'dhcp-offer',
  request: 'dhcp-request',
  ack: 'dhcp-ack',
  nak: 'dhcp-nak',
};
import { IscsiServer } from './iscsi/server.ts';
import type { TargetDirectory } from './iscsi/target-directory.ts';
import { openFileDevice } from './storage/file-device.ts';
import { openOverlayDevice, resetOverlay } from './storage/overlay/index.ts';
import { pageCacheWrites } from './storage/page-cache-writes.ts';
import { LiveTargets, type SyncReport } from './targets/live-targets.ts';
import { desiredTargets } from './targets/desired-targets.ts';

export interface RunningServer {
  readonly iscsi: IscsiServer;
  readonly http: FastifyInstance;
  readonly iscsiPort: number;
  readonly httpPort: number;
  readonly tftpPort: number | null;
  readonly dhcp: DhcpServer | null;
  readonly events: BootEventLog;
  readonly store: Store;
  readonly targets: TargetDirectory;
  close(): Promise<void>;
}

export async function startServer(config: Readonly<Config>, log: Logger): Promise<RunningServer> {
  const store = await openStore(config.store ?? join(config.dataDir, 'diskless.db'));
  // Every exported device is observed for the live warnings (a missing LUN, LBA 0, writes).
  const targets = new ObservedTargetDirectory();
  const events = new BootEventLog();
  // The last week of boots, so the console's timelines survive a restart.
  const stopPersisting = await persistBootEvents(events, store.events, log, { sinceMs: Date.now() - 7 * 24 * 3600_000, limit: 20_000 });
  // Overlay writes run on the event loop while they only fill the page cache; say when one did not.
  pageCacheWrites.onSlow = (ms, pauseMs) =>
    log.warn({ ms: Math.round(ms), pauseMs }, 'a disk write waited (the kernel is throttling dirty pages): overlay writes go through the thread pool for a while');
  // Assigned below; dropSessions is only called after the first sync, when it exists.
  let iscsiServer: IscsiServer | null = null;
  const live = new LiveTargets({
    directory: targets,
    openDevice: (path, options) => (options.basePath !== undefined ? openOverlayDevice(path, options.basePath, { readOnly: options.readOnly }) : openFileDevice(path, options)),
    resetOverlay: async (path) => void (await resetOverlay(path)),
    dropSessions: (name, reason) => iscsiServer?.dropSessions(name, reason),
    log: log.child({ proto: 'iscsi' }),
  });
  const inventory = new Inventory(config.machines, config.targets, config.unknownMachines);
  // The configuration file's machines and targets first; the store's (added through the API,
  // the CLI or the console) after. Runs at start and after every change.
  const refresh = async (): Promise<SyncReport> => {
    const [machines, storedTargets, disks, images] = await Promise.all([store.machines.list(), store.targets.list(), store.disks.list(), store.images.list()]);
    inventory.setMachines([...config.machines, ...machines.map((m) => ({ mac: m.mac, name: m.name, boot: m.boot, ...(m.initiatorIqn !== null ? { initiatorIqn: m.initiatorIqn } : {}) }))]);
    const desired = desiredTargets(config.targets, storedTargets, disks, images);
    for (const problem of desired.problems) log.warn(problem);
    inventory.setTargets(desired.targets.map((t) => ({ iqn: t.name, ...(t.chap !== null ? { chap: t.chap } : {}), ...(t.mutualChap !== null ? { mutualChap: t.mutualChap } : {}) })));
    const report = await live.sync(desired.targets);
    if (report.added.length + report.changed.length + report.removed.length > 0) log.info({ added: report.added, changed: report.changed, removed: report.removed }, 'targets updated');
    return report;
  };
  const first = await refresh().catch(async (err: unknown) => {
    await store.close();
    throw err;
  });
  // A target of the configuration file that cannot be opened is a mistake to fix now.
  const broken = first.failed.filter((f) => config.targets.some((t) => t.iqn.toLowerCase() === f.name.toLowerCase()));
  if (broken.length > 0) {
    await live.close();
    await store.close();
    throw new DisklessError('TARGET_OPEN_FAILED', broken.map((f) => `target ${f.name}: ${f.error}`).join('; '));
  }
  const iscsi = new IscsiServer({
    targets,
    portalGroupTag: config.iscsi.portalGroupTag,
    discoveryAuth: config.iscsi.discoveryAuth ?? null,
    nopIntervalMs: config.iscsi.nopIntervalMs,
    nopTimeoutMs: config.iscsi.nopTimeoutMs,
    maxConnections: config.iscsi.maxConnections,
    dataInBudgetBytes: config.iscsi.dataInBudgetBytes,
    advertise: config.advertise === undefined ? [] : [config.advertise],
    listen: config.listen,
    log: log.child({ proto: 'iscsi' }),
    onEvent: (e) =>
      events.record({
        ip: e.ip,
        kind: e.kind === 'login' ? 'iscsi-login' : e.kind === 'login-failed' ? 'iscsi-login-failed' : e.kind === 'first-read' ? 'iscsi-first-read' : 'iscsi-logout',
        outcome: e.reason,
        detail: { initiator: e.initiator, target: e.target },
      }),
  });
  iscsiServer = iscsi;
  const iscsiPort = await iscsi.listen(config.iscsi.port, config.listen);

  let httpPort = config.http.port;
  const advertised = advertisedAddress({ advertise: config.advertise, interface: config.dhcp.interface, listen: config.listen }) ?? '127.0.0.1';
  // What TFTP-served files (pxelinux.cfg) point at; the HTTP port is known once it listens.
  const bootContext: BootContext = {
    server: advertised,
    iscsiPort,
    get httpPort() {
      return httpPort;
    },
  };
  const files = createBootFileProvider({ inventory, context: bootContext, roots: bootFileRoots(config.tftp.root ?? join(config.dataDir, 'boot')) });
  // Issue 7: warnings raised from live traffic, and per-machine packet captures on demand.
  const warnings = new LiveWarnings({ events, scsi: targets, log: log.child({ proto: 'doctor' }), context: warningContext({ inventory, targets, events, bootContext }) });
  const captures = new CaptureService({ dir: join(config.dataDir, 'captures'), events, dhcpPorts: [config.dhcp.port, config.dhcp.proxyPort], serverAddress: advertised, iscsi: { port: iscsiPort, interface: interfaceOf(config.listen) }, log: log.child({ proto: 'capture' }) });
  // Started after HTTP listens; /metrics reads them through these.
  let dhcp: DhcpServer | null = null;
  let tftp: Awaited<ReturnType<typeof startTftpServer>> | null = null;
  const http = buildHttpServer({
    log,
    inventory,
    files,
    api: { store, dataDir: config.dataDir, protectReads: config.http.protectReads, apiToken: config.http.apiToken ?? ensureApiToken(config.dataDir), changed: async () => void (await refresh()), diskControl: live },
    metrics: {
      iscsiTargets: () => iscsi.targetTotals(),
      dhcp: () => dhcp?.stats ?? { received: 0, malformed: 0, replies: 0, ignored: 0, errors: 0, byType: {} },
      tftp: () => tftp?.stats ?? { active: 0, started: 0, completed: 0, failed: 0, refused: 0, malformed: 0, bytes: 0 },
    },
    sessions: () => iscsi.sessions(),
    doctor: {
      inventory,
      configMachines: config.machines,
      store,
      context: bootContext,
      dhcpMode: config.dhcp.mode,
      tftpEnabled: config.tftp.enabled ?? config.dhcp.mode !== 'off',
      files,
      bootFolder: config.tftp.root ?? join(config.dataDir, 'boot'),
      targets,
      iscsiHost: doctorIscsiHost(config.listen),
      discoveryAuth: config.iscsi.discoveryAuth ?? null,
      events,
    },
    leases: () => dhcp?.leases() ?? [],
    scriptSecretsTo: config.http.scriptSecretsTo,
    boundAddress: (mac) => dhcp?.boundAddress(mac) ?? null,
    events,
    onEvent: (e) => events.record({ mac: e.mac, ip: e.client, kind: 'script', outcome: e.outcome, detail: {} }),
    context: (hostSeen) => ({ server: config.advertise ?? hostSeen, iscsiPort, httpPort }),
    warnings,
    capture: captures,
  });
  await http.listen({ port: config.http.port, host: config.listen });
  const address = http.server.address();
  httpPort = typeof address === 'object' && address !== null ? address.port : config.http.port;

  dhcp = config.dhcp.mode === 'off' ? null : await startDhcp(config, inventory, advertised, { iscsiPort, httpPort }, log, events);
  // IPv6 router advertisements (docs/ROUTER-ADVERTISEMENTS.md): spare iPXE its ~10 s IPv6 wait.
  // Never stops the server: without the addon, root or IPv6 it is one warning.
  const raWanted = routerAdvertisementsWanted(config.dhcp);
  if (!raWanted.on && raWanted.why !== null) log.warn(raWanted.why);
  const ra = raWanted.on ? startRouterAdvertiser({ interface: raWanted.interface, log }) : null;

  // Discard-on-reboot disks go back to their image when the machine starts a boot: at a
  // DHCPDISCOVER from its boot firmware or iPXE (firmware known). An operating system's own
  // DHCP client (no PXE options) never resets a disk under it.
  events.subscribe((event) => {
    if (event.kind !== 'dhcp-discover' || event.mac === null || event.detail.firmware === null || event.detail.firmware === undefined) return;
    const mac = event.mac;
    const disks = inventory.bootDisks(mac, bootContext)?.disks ?? [];
    for (const target of new Set(disks.map((d) => d.target))) {
      live.resetForBoot(target).then(
        (luns) => {
          if (luns.length === 0) return;
          log.info({ mac, target, luns }, 'machine is booting: its discard-on-reboot disk is back to its image');
          events.record({ mac, ip: null, kind: 'disk-reset', outcome: 'ok', detail: { target, luns: luns.join(',') } });
        },
        (err: unknown) => log.error({ err, mac, target }, 'could not reset a discard-on-reboot disk'),
      );
    }
  });

  const tftpEnabled = config.tftp.enabled ?? config.dhcp.mode !== 'off';
  tftp = tftpEnabled
    ? await startTftpServer({
        address: config.listen,
        port: config.tftp.port,
        provider: files,
        log: log.child({ proto: 'tftp' }),
        onEvent: (e) => {
          if (e.kind === 'tftp-start') return;
          events.record({ ip: e.peer.address, kind: 'tftp', outcome: e.kind === 'tftp-done' ? 'ok' : (e.message ?? 'failed'), detail: { path: e.path, bytes: e.bytes, ms: e.ms, probe: e.probe ?? false } });
        },
      })
    : null;

  return {
    iscsi,
    http,
    iscsiPort,
    httpPort,
    tftpPort: tftp?.port ?? null,
    store,
    events,
    dhcp,
    targets,
    async close() {
      await captures.close();
      warnings.close();
      ra?.close();
      await dhcp?.close();
      await tftp?.close();
      await http.close();
      await iscsi.close();
      await live.close();
      stopPersisting();
      await store.close();
    },
  };
}

async function startDhcp(
  config: Readonly<Config>,
  inventory: Inventory,
  serverAddress: string,
  ports: { iscsiPort: number; httpPort: number },
  log: Logger,
  events: BootEventLog,
): Promise<DhcpServer> {
  const mode = config.dhcp.mode === 'proxy' ? 'proxy' : 'full';
  const own = config.dhcp.interface !== undefined ? interfaceIpv4(config.dhcp.interface) : null;
  if (config.dhcp.interface !== undefined && own === null) {
    throw new DisklessError('DHCP_NO_INTERFACE', `interface ${config.dhcp.interface} has no IPv4 address; give it one, or name another with --interface`);
  }
  const netmask = config.dhcp.subnetMask ?? own?.netmask;
  if (mode === 'full' && netmask === undefined) {
    throw new DisklessError('DHCP_NO_SUBNET', 'full DHCP needs to know its network: pass --interface IFACE (or dhcp.subnetMask in the config)');
  }
  const dhcpLog = log.child({ proto: 'dhcp' });
  return startDhcpServer({
    mode,
    ...(config.dhcp.interface !== undefined ? { interface: config.dhcp.interface } : {}),
    serverAddress,
    subnets:
      netmask === undefined
        ? []
        : [subnetFromConfig({ serverAddress, netmask, pool: config.dhcp.pool, router: config.dhcp.router, dns: config.dhcp.dns, leaseSeconds: config.dhcp.leaseSeconds })],
    policy: createBootPolicy(inventory, {
      ...ports,
      dhcpMode: mode,
      onRefuse: (client, reason) => dhcpLog.warn({ mac: client.mac, platform: client.platform, firmware: client.firmware }, `no boot answer: ${reason}`),
    }),
    leaseDir: join(config.dataDir, 'dhcp'),
    log: dhcpLog,
    ports: { dhcp: config.dhcp.port, pxe: config.dhcp.proxyPort },
    onEvent: (e) => {
      // The timeline is about booting: DHCP from boot firmware and iPXE, NAKs, and machines
      // this server knows. A whole office's laptops renewing their leases stay out of it (and
      // out of the store: recording every plain DHCP exchange cost most of the server's CPU).
      if (e.firmware === null && e.kind !== 'nak' && inventory.machine(e.mac) === null && !events.knows(e.mac)) return;
      events.record({
        mac: e.mac,
        ip: e.ip,
        kind: DHCP_EVENT_KINDS[e.kind] ?? 'dhcp-other',
        outcome: e.reason ?? 'ok',
        detail: { arch: e.arch, userClass: e.userClass, firmware: e.firmware, bootFile: e.bootFile },
      });
    },
  });
}

/** The API token: DATA_DIR/api-token, created (readable by the owner only) on first start. */
export function ensureApiToken(dataDir: string): string {
  const path = join(dataDir, 'api-token');
  if (existsSync(path)) return readFileSync(path, 'utf8').trim();
  mkdirSync(dataDir, { recursive: true });
  const token = randomBytes(24).toString('base64url');
  writeFileSync(path, token + '\n', { mode: 0o600 });
  return token;
}
