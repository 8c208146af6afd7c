// The DHCP server: sockets, the lease table and the journal around the pure responder.
// The sockets (sockets.ts: native batch receive where the helper is built, else Node's dgram)
// have no IP_PKTINFO and no SO_BINDTODEVICE, so:
//   - one socket bound to 0.0.0.0:67 receives broadcasts (from any interface: run one server
//     per network, or in a namespace/host where only the served interface carries DHCP);
//   - one socket bound to serverAddress:67 receives unicasts (renewals, relays) and sends every
//     reply, so that replies carry our address as source and a 255.255.255.255 broadcast leaves
//     through the interface holding serverAddress (the kernel routes limited broadcasts from a
//     bound source address by that address's device, with no default route needed).
// Proxy mode adds 0.0.0.0:4011 for PXE boot server requests (PXE 2.1 section 2.2.2).
// Replies go through a per-socket outbox (reply-batch.ts): a turn's replies leave in one
// sendmmsg at the end of the turn, the ACKs of one journal sync right after their batch.
import type { Logger } from 'pino';
import type { BootPolicy, PxeClient } from '../boot/types.ts';
import { DecodeError } from '../lib/errors.ts';
import { AdmissionControl } from './admission.ts';
import { Histogram } from '../lib/histogram.ts';
import { interfaceIpv4 } from '../lib/net.ts';
import type { Destination, SubnetConfig } from './addressing.ts';
import type { Lease } from './leases.ts';
import { LeaseTable } from './leases.ts';
import type { LeaseStore } from './lease-store.ts';
import { isPersisted, JournalLeaseStore } from './lease-store.ts';
import { loadReplyBatch, ReplyOutbox } from './reply-batch.ts';
import { openDhcpSocket, type DhcpSocket } from './sockets.ts';
import type { ArrivalPort, DhcpMode, Response } from './responder.ts';
import { respond } from './responder.ts';
import type { DhcpMessage } from './wire/packet.ts';
import { clientMac, decodeDhcpMessage, readMessageType } from './wire/packet.ts';
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
  /** 'native' (the default): batch receive where the helper is built; 'node': Node's dgram (tests). */
  readonly sockets?: 'native' | 'node';
}

export interface DhcpStats {
  received: number;
  malformed: number;
  replies: number;
  ignored: number;
  /** DISCOVERs dropped unanswered while the server was behind (counted in received and ignored too). */
  shed: number;
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
  /** Which sockets it receives on (sockets.ts). */
  readonly sockets: 'native' | 'node';
  readonly stats: Readonly<DhcpStats>;
  leases(): readonly Lease[];
  /**
   * The address bound to this MAC now (acknowledged, not expired, not released), or null.
   * Read-only: for HTTP, which gives a script with CHAP secrets only to that address.
   */
  boundAddress(mac: string): string | null;
  close(): Promise<void>;
}

const EVENT_KINDS: Readonly<Record<number, DhcpEventKind>> = {
  [MessageType.Discover]: 'discover', [MessageType.Offer]: 'offer', [MessageType.Request]: 'request',
  [MessageType.Decline]: 'decline', [MessageType.Ack]: 'ack', [MessageType.Nak]: 'nak',
  [MessageType.Release]: 'release', [MessageType.Inform]: 'inform',
};

/**
 * Per-packet lines go out at info only for network-boot clients (a machine's boot is a handful of
 * packets) and NAKs; a network's ordinary DHCP clients are logged at debug, or a busy subnet
 * would write a line per packet at the default level (their steps still reach the boot events).
 */
function packetLogLevel(bootClient: boolean, replyType: number | null): 'info' | 'debug' {
  return bootClient || replyType === MessageType.Nak ? 'info' : 'debug';
}

interface Who {
  readonly mac: string;
  readonly arch: number | null;
  readonly userClass: string | null;
  readonly firmware: string | null;
}

/** A reply on its way out, with what its log line and boot event need. */
interface PendingReply {
  readonly bytes: Buffer;
  readonly destination: Destination;
  /** The outbox of the socket it leaves from (the bound one, or 4011's in proxy mode). */
  readonly outbox: ReplyOutbox<PendingReply>;
  readonly receivedMs: number;
  readonly arrival: ArrivalPort;
  readonly requestName: string;
  readonly replyType: number;
  readonly replyName: string;
  readonly who: Who;
  readonly client: PxeClient | null;
  readonly ip: string | null;
  readonly bootFile: string | null;
}

/** At most one "overloaded" warning this often. */
const SHED_WARNING_INTERVAL_MS = 10_000;
/** Event-loop utilization above which a full turn counts as overload (sampled per window). */
const BUSY_UTILIZATION = 0.75;
const BUSY_WINDOW_MS = 20;

export async function startDhcpServer(opts: DhcpServerOptions): Promise<DhcpServer> {
  const found = opts.serverAddress ?? (opts.interface === undefined ? null : interfaceIpv4(opts.interface)?.address ?? null);
  if (found === null) throw new Error(`DHCP: no serverAddress and no IPv4 address on interface ${opts.interface ?? '(none given)'}`);
  const serverAddress: string = found;
  const log = opts.log.child({ proto: 'dhcp', mode: opts.mode, ...(opts.interface !== undefined ? { iface: opts.interface } : {}) });
  const now = opts.now ?? Date.now;
  const ports = { dhcp: opts.ports?.dhcp ?? 67, pxe: opts.ports?.pxe ?? 4011, client: opts.ports?.client ?? 68 };
  const store = opts.mode === 'full' ? opts.leaseStore ?? (opts.leaseDir !== undefined ? await JournalLeaseStore.open(opts.leaseDir, now()) : null) : null;
  const table = new LeaseTable(store === null ? [] : await store.load());
  const stats: DhcpStats = { received: 0, malformed: 0, replies: 0, ignored: 0, shed: 0, errors: 0, byType: {}, replySeconds: {} };

  const subnets = opts.subnets ?? [];
  const replyPorts = { server: ports.dhcp, client: ports.client };
  const tunables = {
    ...(opts.offerHoldMs !== undefined ? { offerHoldMs: opts.offerHoldMs } : {}),
    ...(opts.declineHoldMs !== undefined ? { declineHoldMs: opts.declineHoldMs } : {}),
    ...(opts.authoritative !== undefined ? { authoritative: opts.authoritative } : {}),
  };

  const onEvent = opts.onEvent;
  /** Tells onEvent, if any, of one step; every event is built here, as one literal (one shape). */
  const emit = (who: Who, kind: DhcpEventKind, ip: string | null, bootFile: string | null, reason?: string): void => {
    if (onEvent === undefined) return;
    const event: DhcpBootEvent = reason === undefined
      ? { mac: who.mac, kind, arch: who.arch, userClass: who.userClass, firmware: who.firmware, ip, bootFile, atMs: now() }
      : { mac: who.mac, kind, arch: who.arch, userClass: who.userClass, firmware: who.firmware, ip, bootFile, reason, atMs: now() };
    try {
      onEvent(event);
    } catch (err) {
      log.error({ err }, 'onEvent callback threw');
    }
  };

  let closing = false;
  const journalFailed = (err: unknown): void => log.error({ err }, 'lease journal write failed');

  // One callback for every failed send (no closure or promise per reply): counted and logged.
  const sendFailed = (err: Error): void => {
    stats.errors += 1;
    log.warn({ err }, 'DHCP reply not sent');
  };

  // Every reply leaves from `local` (or 4011's socket in proxy mode), so only those have
  // outboxes; they are made once the sockets are open.
  const batching = loadReplyBatch();
  const native = 'native' in batching ? batching.native : null;
  if ('error' in batching) log.debug({ reason: batching.error }, 'DHCP replies sent one system call each');
  let localOutbox: ReplyOutbox<PendingReply> | null = null;
  let pxeOutbox: ReplyOutbox<PendingReply> | null = null;
  const flushReplies = (): void => {
    localOutbox?.flush();
    pxeOutbox?.flush();
  };

  /** Queues a reply on its socket's outbox; sent() does the rest once it has left. */
  function send(pending: PendingReply): void {
    pending.outbox.push(pending.bytes, pending.destination.address, pending.destination.port, pending);
  }

  /**
   * The bookkeeping of one reply, called by the outbox as the reply is handed to the kernel (the
   * histogram so includes the wait for the end of the turn). Runs from a setImmediate or the ACK
   * loop, where nothing catches: a throw here is counted as the exchange's failure, as before.
   */
  function sent(pending: PendingReply): void {
    try {
      recordSent(pending);
    } catch (err) {
      stats.errors += 1;
      log.error({ err, to: `${pending.destination.address}:${pending.destination.port}` }, 'DHCP exchange failed');
    }
  }

  function recordSent(pending: PendingReply): void {
    if (log.isLevelEnabled('trace')) log.trace({ to: pending.destination, hex: pending.bytes.toString('hex') }, 'tx');
    (stats.replySeconds[pending.replyName] ??= new Histogram(REPLY_SECONDS_BOUNDS)).observe((performance.now() - pending.receivedMs) / 1000);
    stats.replies += 1;
    const { who } = pending;
    const level = packetLogLevel(pending.client !== null, pending.replyType);
    if (log.isLevelEnabled(level)) {
      log[level](
        { mac: who.mac, arch: who.arch, userClass: who.userClass, firmware: who.firmware, type: pending.requestName, port: pending.arrival, reply: pending.replyName, ip: pending.ip, bootFile: pending.bootFile, to: `${pending.destination.address}:${pending.destination.port}` },
        `${pending.requestName} from ${who.mac} (${who.firmware ?? 'no PXE'}${who.userClass !== null ? ` ${who.userClass}` : ''}) → ${pending.replyName}${pending.ip !== null ? ` ${pending.ip}` : ''}${pending.bootFile !== null ? ` ${pending.bootFile}` : ''}`,
      );
    }
    emit(who, EVENT_KINDS[pending.replyType] ?? 'ignore', pending.ip, pending.bootFile);
  }

  // RFC 2131 4.3.1: the binding is committed before the client hears the ACK. The journal gives
  // every record() of one group commit the same promise, so the ACKs waiting for one fdatasync
  // wait as one batch: one callback per sync, not one promise per ACK.
  let waitingOn: Promise<void> | null = null;
  let waiting: PendingReply[] = [];
  function sendWhenDurable(durable: Promise<void>, pending: PendingReply): void {
    if (durable !== waitingOn) {
      const batch: PendingReply[] = [];
      waitingOn = durable;
      waiting = batch;
      durable.then(
        () => {
          // Shutting down: the leases are recorded, the sockets are gone; the clients will ask again.
          if (closing) return;
          for (const p of batch) send(p);
          flushReplies(); // the batch leaves now, in one sendmmsg, not at the end of the turn
        },
        (err: unknown) => {
          stats.errors += batch.length;
          log.error({ err, replies: batch.length }, 'lease journal write failed: ACKs not sent');
        },
      );
    }
    waiting.push(pending);
  }

  function onDatagram(bytes: Buffer, address: string, port: number, arrival: ArrivalPort, outbox: ReplyOutbox<PendingReply>): void {
    const receivedMs = performance.now();
    stats.received += 1;
    if (log.isLevelEnabled('trace')) log.trace({ from: `${address}:${port}`, hex: bytes.toString('hex') }, 'rx');
    let request: DhcpMessage;
    let response: Response;
    try {
      request = decodeDhcpMessage(bytes);
      response = respond(request, {
        mode: opts.mode, serverAddress, subnets, leases: table, policy: opts.policy, nowMs: now(),
        arrival: { port: arrival, address, sourcePort: port },
        ports: replyPorts, ...tunables,
      });
    } catch (err) {
      if (!(err instanceof DecodeError)) throw err;
      stats.malformed += 1;
      log.warn({ from: `${address}:${port}`, code: err.code, length: bytes.length }, `malformed DHCP datagram dropped: ${err.message}`);
      return;
    }
    const changes = response.leaseChanges;
    table.apply(changes);
    const mac = clientMac(request);
    const requestType = readMessageType(request) ?? 0;
    const requestName = MESSAGE_TYPE_NAMES[requestType] ?? 'BOOTP';
    stats.byType[requestName] = (stats.byType[requestName] ?? 0) + 1;
    const client = response.client;
    const who: Who = { mac, arch: client?.arch ?? null, userClass: client?.userClass ?? null, firmware: client?.firmware ?? null };
    emit(who, EVENT_KINDS[requestType] ?? 'ignore', request.ciaddr === '0.0.0.0' ? null : request.ciaddr, null);
    const durable = store !== null && changes.some(isPersisted) ? store.record(changes) : null;
    if (response.kind === 'ignore') {
      stats.ignored += 1;
      durable?.catch(journalFailed);
      const level = packetLogLevel(client !== null, null);
      if (log.isLevelEnabled(level)) log[level]({ ...who, type: requestName, port: arrival }, `${requestName} from ${mac}: no reply (${response.reason})`);
      emit(who, 'ignore', null, null, response.reason);
      return;
    }
    const replyType = readMessageType(response.reply) ?? 0;
    const pending: PendingReply = {
      bytes: response.bytes,
      destination: response.destination,
      outbox,
      receivedMs,
      arrival,
      requestName,
      replyType,
      replyName: MESSAGE_TYPE_NAMES[replyType] ?? '?',
      who,
      client,
      ip: response.reply.yiaddr === '0.0.0.0' ? null : response.reply.yiaddr,
      bootFile: response.decision?.bootFile ?? null,
    };
    if (durable === null) send(pending);
    else if (replyType === MessageType.Ack) sendWhenDurable(durable, pending);
    else {
      durable.catch(journalFailed);
      send(pending);
    }
  }


  let shedWarnedMs = -Infinity;
  // How busy the event loop has been, over windows of BUSY_WINDOW_MS (admission.ts: a full turn
  // only means "behind" when the loop has little time to spare).
  let eluMark = performance.eventLoopUtilization();
  let eluMarkMs = performance.now();
  let loopBusy = false;
  const loopIsBusy = (): boolean => {
    const nowMs = performance.now();
    if (nowMs - eluMarkMs >= BUSY_WINDOW_MS) {
      loopBusy = performance.eventLoopUtilization(eluMark).utilization >= BUSY_UTILIZATION;
      eluMark = performance.eventLoopUtilization();
      eluMarkMs = nowMs;
    }
    return loopBusy;
  };
  /**
   * The receive handler of one socket, replying through the outbox `replies()` gives (the
   * local one: every reply leaves from our own address, or 4011's socket in proxy mode).
   */
  const receiver = (arrival: ArrivalPort, readsPerTurn: () => number, replies: () => ReplyOutbox<PendingReply> | null) => {
    // Under overload, REQUESTs first (admission.ts). The read limit per turn is per socket, so
    // each socket has its own; it learns of each turn's end from a setImmediate (the check
    // phase comes right after the poll phase that delivered the turn's datagrams).
    let admission: AdmissionControl | null = null;
    let turnEndScheduled = false;
    const endTurn = (): void => {
      turnEndScheduled = false;
      admission?.endTurn(loopIsBusy());
    };
    return (bytes: Buffer, address: string, port: number): void => {
      const outbox = replies();
      if (outbox === null) return; // before the sockets are all open: the client retransmits
      admission ??= new AdmissionControl({ backlogAt: readsPerTurn() });
      if (!turnEndScheduled) {
        turnEndScheduled = true;
        setImmediate(endTurn);
      }
      if (!admission.admit(bytes)) {
        stats.received += 1;
        stats.ignored += 1;
        stats.shed += 1;
        stats.byType.DISCOVER = (stats.byType.DISCOVER ?? 0) + 1;
        const nowMs = performance.now();
        if (nowMs - shedWarnedMs >= SHED_WARNING_INTERVAL_MS) {
          shedWarnedMs = nowMs;
          log.warn({ shed: stats.shed }, 'DHCP overloaded: answering REQUESTs first, dropping some DISCOVERs (their clients retransmit)');
        }
        return;
      }
      try {
        onDatagram(bytes, address, port, arrival, outbox);
      } catch (err) {
        stats.errors += 1;
        log.error({ err, from: `${address}:${port}` }, 'DHCP exchange failed');
      }
    };
  };
  const socketError = (err: Error): void => {
    stats.errors += 1;
    log.error({ err }, 'DHCP socket error');
  };

  const sockets: DhcpSocket[] = [];
  const preferNative = opts.sockets !== 'node';
  const open = async (address: string, port: number, arrival: ArrivalPort, replies: () => ReplyOutbox<PendingReply> | null): Promise<DhcpSocket> => {
    let readsPerTurn = 0;
    const socket = await openDhcpSocket(address, port, log, receiver(arrival, () => readsPerTurn, replies), socketError, preferNative);
    readsPerTurn = socket.readsPerTurn;
    sockets.push(socket);
    return socket;
  };
  try {
    await open('0.0.0.0', ports.dhcp, 'dhcp', () => localOutbox);
    const local = await open(serverAddress, ports.dhcp, 'dhcp', () => localOutbox);
    localOutbox = new ReplyOutbox<PendingReply>(local.outbox, { sent, failed: sendFailed }, native);
    if (opts.mode === 'proxy') {
      const pxe = await open('0.0.0.0', ports.pxe, 'pxe', () => pxeOutbox);
      pxeOutbox = new ReplyOutbox<PendingReply>(pxe.outbox, { sent, failed: sendFailed }, native);
    }
  } catch (err) {
    await Promise.all(sockets.map((s) => s.close()));
    await store?.close();
    throw err;
  }
  log.info({ serverAddress, ports: opts.mode === 'proxy' ? [ports.dhcp, ports.pxe] : [ports.dhcp], leases: table.size, sockets: sockets[0]?.kind }, `DHCP (${opts.mode}) listening`);

  return {
    serverAddress,
    sockets: sockets[0]?.kind ?? 'node',
    stats,
    leases: () => table.all(),
    boundAddress: (mac) => {
      const lease = table.byMac(mac);
      return lease !== undefined && lease.state === 'bound' && lease.expiresAtMs > now() ? lease.ip : null;
    },
    async close(): Promise<void> {
      closing = true;
      flushReplies(); // replies of this turn still queued leave before their socket closes
      await Promise.all(sockets.map((s) => s.close()));
      await store?.close();
    },
  };
}
