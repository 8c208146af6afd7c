// HTTP: the per-machine iPXE scripts and a small read API (sessions). Tested with inject().
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import type { BootContext, Inventory } from '../boot/inventory.ts';
import { hostForUrl, normalizeMac } from '../boot/inventory.ts';
import { renderIdentifyScript, renderMachineScript, renderNotRegisteredScript } from '../boot/ipxe-script.ts';
import type { TftpFileProvider } from '../tftp/files.ts';
import { registerFilesRoute } from './files-route.ts';
import type { BootEventLog } from '../events/boot-events.ts';
import { registerEventRoutes } from './events-route.ts';
import { renderMetrics, type MetricsSource } from './metrics.ts';
import { registerMachinesRoutes, type InventoryRouteOptions } from './machines-route.ts';
import { registerDiskRoutes } from './disks-route.ts';
import { registerImageRoutes } from './images-route.ts';
import { openApiDocument } from './openapi.ts';
import { registerConsoleRoutes } from './console-route.ts';
import { requireTokenForReads } from './api-common.ts';
import { registerDoctorRoutes } from './doctor-route.ts';
import type { DoctorDeps } from '../doctor/doctor-deps.ts';
import type { LiveWarnings } from '../doctor/live-warnings.ts';
import { resolveMachineRef } from '../doctor/machine-ref.ts';
import type { CaptureService } from '../capture/capture-service.ts';
import { registerWarningsRoute } from './warnings-route.ts';
import { registerExplainRoute } from './explain-route.ts';
import { registerCaptureRoutes } from './capture-route.ts';
import { VERSION } from '../version.ts';
import { scriptAccess, type ScriptSecretsTo } from './script-access.ts';

export interface HttpDeps {
  readonly inventory: Inventory;
  /** Ports and this server's address as a client reaching us at `hostSeen` sees it. */
  context(hostSeen: string): BootContext;
  sessions(): unknown[];
  readonly log: Logger;
  /** Boot files under /files/ (the same ones TFTP serves). */
  readonly files?: TftpFileProvider;
  /** The store's machines, disks and targets, editable with the API token. */
  readonly api?: InventoryRouteOptions;
  /** What /metrics reports. */
  readonly metrics?: MetricsSource;
  /** What the boot doctor needs to walk a machine's boot chain. */
  readonly doctor?: DoctorDeps;
  /** DHCP leases (full mode), for /api/leases. */
  leases?(): readonly unknown[];
  /** The boot timeline, for /api/events. */
  readonly events?: BootEventLog;
  /** Boot events for the timeline (script fetched). */
  onEvent?(event: { mac: string; kind: 'script'; client: string; outcome: string }): void;
  /** Warnings raised from live traffic, for /api/warnings. */
  readonly warnings?: LiveWarnings;
  /** Per-machine packet captures, for /api/machines/:ref/capture. */
  readonly capture?: CaptureService;
  /** Who gets a script that carries CHAP secrets (http.scriptSecretsTo); default lease-holder. */
  readonly scriptSecretsTo?: ScriptSecretsTo;
  /** The address this server's DHCP has bound to the MAC now, or null (no DHCP, proxy mode, no lease). */
  boundAddress?(mac: string): string | null;
}

export function buildHttpServer(deps: HttpDeps): FastifyInstance {
  const app = Fastify({
    loggerInstance: deps.log.child({ proto: 'http' }) as FastifyBaseLogger,
    // Script fetches are logged by the route itself, with what matters (client, MAC, outcome).
    logController: new LogController({ disableRequestLogging: true }),
  });

  app.get<{ Querystring: { mac?: string } }>('/boot.ipxe', async (request, reply) => {
    reply.type('text/plain; charset=utf-8');
    const ctx = deps.context(hostnameOf(request.headers.host, request.socket.localAddress));
    const self = `http://${hostForUrl(ctx.server)}:${ctx.httpPort}/boot.ipxe`;
    const given = request.query.mac;
    if (given === undefined || given === '') return renderIdentifyScript(self);
    const mac = normalizeMac(given);
    if (mac === null) {
      reply.code(400);
      return `#!ipxe\necho diskless: "${given.replace(/[^0-9A-Za-z:-]/g, '?')}" is not a MAC address\nshell\n`;
    }
    const script = deps.inventory.script(mac, ctx);
    if (script !== null) {
      // A script with the machine's CHAP secret in it goes, with http.scriptSecretsTo
      // lease-holder, only to the address this server leased to that MAC (script-access.ts).
      const access = scriptAccess({
        policy: deps.scriptSecretsTo ?? 'lease-holder',
        carriesSecret: script.identity.chap !== undefined || script.identity.mutualChap !== undefined,
        leaseAddress: deps.boundAddress?.(mac) ?? null,
        remoteAddress: request.socket.remoteAddress,
        localAddress: request.socket.localAddress,
      });
      if (!access.allowed) {
        request.log.warn({ client: access.client, mac, leaseAddress: access.leaseAddress }, 'boot script refused: it carries a CHAP secret and the request is not from the address leased to this MAC (http.scriptSecretsTo: lease-holder)');
        deps.onEvent?.({ mac, kind: 'script', client: request.ip, outcome: 'refused' });
        reply.code(403);
        return `diskless: the boot script of ${mac} carries its iSCSI CHAP secret, so it is given only to the address this server's DHCP leased to that machine, and this request (from ${access.client}) does not come from it.\nBoot the machine from the network to get its script, or fetch it on the server itself; to give such scripts to anyone who asks, set http.scriptSecretsTo: anyone.\n`;
      }
    }
    const outcome = script !== null ? 'served' : deps.inventory.unknownMachines === 'ignore' ? 'ignored' : 'not-registered';
    request.log.info({ client: request.ip, mac, outcome }, 'boot script');
    deps.onEvent?.({ mac, kind: 'script', client: request.ip, outcome });
    if (script !== null) return renderMachineScript(script);
    if (outcome === 'ignored') return `#!ipxe\necho diskless: ${mac} has no boot configuration here\nexit\n`;
    return renderNotRegisteredScript(mac, `register it: diskless machine add --mac ${mac} --name NAME --disk DISK`, `${self}?mac=${mac.replace(/:/g, '-')}`);
  });

  if (deps.files !== undefined) registerFilesRoute(app, deps.files);
  app.get('/api/sessions', async () => deps.sessions());
  if (deps.api?.protectReads === true) app.addHook('onRequest', requireTokenForReads(deps.api.apiToken));
  if (deps.api !== undefined) {
    registerMachinesRoutes(app, deps.api);
    registerDiskRoutes(app, deps.api);
    registerImageRoutes(app, deps.api);
  }
  app.get('/api/leases', async () => deps.leases?.() ?? []);
  registerDoctorRoutes(app, deps.doctor ?? null);
  app.get('/api/openapi.json', async () => openApiDocument(VERSION));
  const metrics = deps.metrics;
  if (metrics !== undefined) {
    app.get('/metrics', async (_request, reply) => {
      reply.type('text/plain; version=0.0.4; charset=utf-8');
      return renderMetrics(metrics);
    });
  }
  const events = deps.events;
  if (events !== undefined) registerEventRoutes(app, events);
  registerConsoleRoutes(app);
  registerWarningsRoute(app, deps.warnings ?? null);
  registerExplainRoute(app);
  const doctor = deps.doctor;
  registerCaptureRoutes(app, {
    service: deps.capture ?? null,
    apiToken: deps.api?.apiToken ?? null,
    resolveMac: async (ref) => (doctor !== undefined ? resolveMachineRef(ref, doctor) : normalizeMac(ref)),
  });
  app.get('/healthz', async () => ({ ok: true }));
  return app;
}

/** The host name the client used, without the port: what the client can reach us at. */
export function hostnameOf(hostHeader: string | undefined, fallback: string | undefined): string {
  const fromHeader = hostHeader?.trim() ?? '';
  if (fromHeader !== '') {
    if (fromHeader.startsWith('[')) return fromHeader.slice(1, fromHeader.indexOf(']'));
    const colon = fromHeader.lastIndexOf(':');
    return colon > 0 && fromHeader.indexOf(':') === colon ? fromHeader.slice(0, colon) : fromHeader;
  }
  const local = fallback ?? '127.0.0.1';
  return local.startsWith('::ffff:') ? local.slice(7) : local;
}
