// The DHCP server: sockets, the lease table and the journal around the pure responder.
// Node's dgram has no IP_PKTINFO and no SO_BINDTODEVICE, so:
//   - one socket bound to 0.0.0.0:67 receives broadcasts (from any interface: run one server
//     per network, or in a namespace/host where only the served interface carries DHCP);
//   - one socket bound to serverAddress:67 receives unicasts (renewals, relays) and sends every
//     reply, so that replies carry our address as source and a 255.255.255.255 broadcast leaves
//     through the interface holding serverAddress (the kernel routes limited broadcasts from a
//     bound source address by that address's device, with no default route needed).
// Proxy mode adds 0.0.0.0:4011 for PXE boot server requests (PXE 2.1 section 2.2.2).
import dgram from 'node:dgram';
import type { Logger } from 'pino';
import type { BootPolicy } from '../boot/types.ts';
import { DecodeError } from '../lib/errors.ts';
import { Histogram } from '../lib/histogram.ts';
import { interfaceIpv4 } from '../lib/net.ts';
import { bindUdp } from '../lib/udp.ts';
import type { SubnetConfig } from './addressing.ts';
import type { Lease } from './leases.ts';
import { LeaseTable } from './leases.ts';
import type { LeaseStore } from './lease-store.ts';
import { JournalLeaseStore } from './lease-store.ts';
import type { ArrivalPort, DhcpMode, Response } from './responder.ts';
import { respond } from './responder.ts';
import type { DhcpMessage } from './wire/packet.ts';
import { clientMac, decodeDhcpMessage, encodeDhcpMessage, readMessageType } from './wire/packet.ts';
import { MESSAGE_TYPE_NAMES, MessageType } from './wire/option-codes.ts';

export interface DhcpPorts {
  /** Server port (67); relays are answered on it too. */
  readonly dhcp?: number;
  /** PXE boot server port (4011), proxy mode only. */
  readonly pxe?: number;
  /** Client port replies go to (68). */
  readonly client?: number;
}

export type DhcpEventKind = 'discover' | 'offer' | 'request' | 'ack' | 'nak' | 'decline' | 'release' | 'inform' | 'ignore';

/** One step of a machine's boot, for the boot timeline (netboot's machineEvent). */
export interface DhcpBootEvent {
  readonly mac: string;
  readonly kind: DhcpEventKind;
  readonly arch: number | null;
  readonly userClass: string | null;
  readonly firmware: string | null;
  readonly ip: string | null;
  readonly bootFile: string | null;
  readonly reason?: string;
  readonly atMs: number;
}

export interface DhcpServerOptions {
  readonly mode: DhcpMode;
  /** The served interface: gives serverAddress when that is absent (and names it in logs). */
  readonly interface?: string;
  /** Our address on the served network (option 54, next-server). */
  readonly serverAddress?: string;
  /** Full mode: the local network (holding serverAddress) and any reached through relays. */
  readonly subnets?: readonly SubnetConfig[];
  readonly policy: BootPolicy;
  /** Full mode: where the lease journal lives; without it (and without leaseStore) leases live in memory. */
  readonly leaseDir?: string;
  readonly leaseStore?: LeaseStore;
  readonly log: Logger;
  readonly ports?: DhcpPorts;
  readonly offerHoldMs?: number;
  readonly declineHoldMs?: number;
  readonly authoritative?: boolean;
  readonly onEvent?: (event: DhcpBootEvent) => void;
  /** Clock, for tests. */
  readonly now?: () => number;
}

export interface DhcpStats {
  received: number;
  malformed: number;
  replies: number;
  ignored: number;
  errors: number;
  readonly byType: Record<string, number>;
  /** Request received to reply sent, by reply type (OFFER, ACK, NAK, ...): diskless_dhcp_reply_seconds. */
  readonly replySeconds: Record<string, Histogram>;
}

/**
 * Upper bounds of diskless_dhcp_reply_seconds: an OFFER takes well under a millisecond; an ACK
 * waits for the lease journal's fdatasync (milliseconds, more on a slow or busy disk).
 */
export const REPLY_SECONDS_BOUNDS = [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5] as const;

export interface DhcpServer {
  readonly serverAddress: string;
  readonly stats: Readonly<DhcpStats>;
  leases(): readonly Lease[];
  close(): Promise<void>;
}

const EVENT_KINDS: Readonly<Record<number, DhcpEventKind>> = {
  [MessageType.Discover]: 'discover', [MessageType.Offer]: 'offer', [MessageType.Request]: 'request',
  [MessageType.Decline]: 'decline', [MessageType.Ack]: 'ack', [MessageType.Nak]: 'nak',
  [MessageType.Release]: 'release', [MessageType.Inform]: 'inform',
};

export async function startDhcpServer(opts: DhcpServerOptions): Promise<DhcpServer> {
  const found = opts.serverAddress ?? (opts.interface === undefined ? null : interfaceIpv4(opts.interface)?.address ?? null);
  if (found === null) throw new Error(`DHCP: no serverAddress and no IPv4 address on interface ${opts.interface ?? '(none given)'}`);
  const serverAddress: string = found;
  const log = opts.log.child({ proto: 'dhcp', mode: opts.mode, ...(opts.interface !== undefined ? { iface: opts.interface } : {}) });
  const now = opts.now ?? Date.now;
  const ports = { dhcp: opts.ports?.dhcp ?? 67, pxe: opts.ports?.pxe ?? 4011, client: opts.ports?.client ?? 68 };
  const store = opts.mode === 'full' ? opts.leaseStore ?? (opts.leaseDir !== undefined ? await JournalLeaseStore.open(opts.leaseDir, now()) : null) : null;
  const table = new LeaseTable(store === null ? [] : await store.load());
  const stats: DhcpStats = { received: 0, malformed: 0, replies: 0, ignored: 0, errors: 0, byType: {}, replySeconds: {} };

  const wild = dgram.createSocket({ type: 'udp4', reuseAddr: true });
  const local = dgram.createSocket({ type: 'udp4', reuseAddr: true });
  const pxe = opts.mode === 'proxy' ? dgram.createSocket({ type: 'udp4', reuseAddr: true }) : null;
  const sockets = [wild, local, ...(pxe === null ? [] : [pxe])];

  const emit = (event: Omit<DhcpBootEvent, 'atMs'>): void => {
    try {
      opts.onEvent?.({ ...event, atMs: now() });
    } catch (err) {
      log.error({ err }, 'onEvent callback threw');
    }
  };

  let closing = false;

  /** Resolves true once the reply is sent; false if the server closed first. */
  async function deliver(response: Extract<Response, { kind: 'reply' }>, sender: dgram.Socket): Promise<boolean> {
    const bytes = encodeDhcpMessage(response.reply, { maxLength: response.maxLength });
    const type = readMessageType(response.reply);
    // RFC 2131 4.3.1: the binding is committed before the client hears the ACK.
    if (type === MessageType.Ack) await store?.record(response.leaseChanges);
    else void store?.record(response.leaseChanges).catch((err: unknown) => log.error({ err }, 'lease journal write failed'));
    if (log.isLevelEnabled('trace')) log.trace({ to: response.destination, hex: bytes.toString('hex') }, 'tx');
    // Shutting down: the lease is recorded, the socket is gone; the client will ask again.
    if (closing) return false;
    await new Promise<void>((resolve, reject) => {
      sender.send(bytes, response.destination.port, response.destination.address, (err) => (err ? reject(err) : resolve()));
    });
    return true;
  }

  async function onDatagram(bytes: Buffer, rinfo: dgram.RemoteInfo, arrival: ArrivalPort): Promise<void> {
    const receivedMs = performance.now();
    stats.received += 1;
    if (log.isLevelEnabled('trace')) log.trace({ from: `${rinfo.address}:${rinfo.port}`, hex: bytes.toString('hex') }, 'rx');
    let request: DhcpMessage;
    let response: Response;
    try {
      request = decodeDhcpMessage(bytes);
      response = respond(request, {
        mode: opts.mode, serverAddress, subnets: opts.subnets ?? [], leases: table, policy: opts.policy, nowMs: now(),
        arrival: { port: arrival, address: rinfo.address, sourcePort: rinfo.port },
        ports: { server: ports.dhcp, client: ports.client },
        ...(opts.offerHoldMs !== undefined ? { offerHoldMs: opts.offerHoldMs } : {}),
        ...(opts.declineHoldMs !== undefined ? { declineHoldMs: opts.declineHoldMs } : {}),
        ...(opts.authoritative !== undefined ? { authoritative: opts.authoritative } : {}),
      });
    } catch (err) {
      if (!(err instanceof DecodeError)) throw err;
      stats.malformed += 1;
      log.warn({ from: `${rinfo.address}:${rinfo.port}`, code: err.code, length: bytes.length }, `malformed DHCP datagram dropped: ${err.message}`);
      return;
    }
    table.apply(response.leaseChanges);
    const mac = clientMac(request);
    const typeName = MESSAGE_TYPE_NAMES[readMessageType(request) ?? 0] ?? 'BOOTP';
    stats.byType[typeName] = (stats.byType[typeName] ?? 0) + 1;
    const client = response.client;
    const who = { mac, arch: client?.arch ?? null, userClass: client?.userClass ?? null, firmware: client?.firmware ?? null };
    emit({ ...who, kind: EVENT_KINDS[readMessageType(request) ?? 0] ?? 'ignore', ip: request.ciaddr === '0.0.0.0' ? null : request.ciaddr, bootFile: null });
    if (response.kind === 'ignore') {
      stats.ignored += 1;
      void store?.record(response.leaseChanges).catch((err: unknown) => log.error({ err }, 'lease journal write failed'));
      if (log.isLevelEnabled('info')) log.info({ ...who, type: typeName, port: arrival }, `${typeName} from ${mac}: no reply (${response.reason})`);
      emit({ ...who, kind: 'ignore', ip: null, bootFile: null, reason: response.reason });
      return;
    }
    const replyType = readMessageType(response.reply) ?? 0;
    const replyName = MESSAGE_TYPE_NAMES[replyType] ?? '?';
    const bootFile = response.decision?.bootFile ?? null;
    const ip = response.reply.yiaddr === '0.0.0.0' ? null : response.reply.yiaddr;
    const sent = await deliver(response, arrival === 'pxe' && pxe !== null ? pxe : local);
    if (sent) (stats.replySeconds[replyName] ??= new Histogram(REPLY_SECONDS_BOUNDS)).observe((performance.now() - receivedMs) / 1000);
    stats.replies += 1;
    if (log.isLevelEnabled('info')) log.info(
      { ...who, type: typeName, port: arrival, reply: replyName, ip, bootFile, to: `${response.destination.address}:${response.destination.port}` },
      `${typeName} from ${mac} (${client?.firmware ?? 'no PXE'}${client?.userClass ? ` ${client.userClass}` : ''}) → ${replyName}${ip ? ` ${ip}` : ''}${bootFile ? ` ${bootFile}` : ''}`,
    );
    emit({ ...who, kind: EVENT_KINDS[replyType] ?? 'ignore', ip, bootFile });
  }

  const listen = (socket: dgram.Socket, arrival: ArrivalPort): void => {
    socket.on('message', (bytes, rinfo) => {
      onDatagram(bytes, rinfo, arrival).catch((err: unknown) => {
        stats.errors += 1;
        log.error({ err, from: `${rinfo.address}:${rinfo.port}` }, 'DHCP exchange failed');
      });
    });
    socket.on('error', (err) => log.error({ err }, 'DHCP socket error'));
  };

  try {
    await bindUdp(wild, '0.0.0.0', ports.dhcp);
    await bindUdp(local, serverAddress, ports.dhcp);
    if (pxe !== null) await bindUdp(pxe, '0.0.0.0', ports.pxe);
  } catch (err) {
    for (const s of sockets) s.close();
    await store?.close();
    throw err;
  }
  for (const s of sockets) s.setBroadcast(true);
  listen(wild, 'dhcp');
  listen(local, 'dhcp');
  if (pxe !== null) listen(pxe, 'pxe');
  log.info({ serverAddress, ports: opts.mode === 'proxy' ? [ports.dhcp, ports.pxe] : [ports.dhcp], leases: table.size }, `DHCP (${opts.mode}) listening`);

  return {
    serverAddress,
    stats,
    leases: () => table.all(),
    async close(): Promise<void> {
      closing = true;
      await Promise.all(sockets.map((s) => new Promise<void>((resolve) => s.close(() => resolve()))));
      await store?.close();
    },
  };
}
