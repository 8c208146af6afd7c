// The DHCP responder, pure: (request, context) → a reply and where to send it, or a reason to
// stay silent, plus the lease changes to apply. No sockets, no clock: the server passes `nowMs`.
// Dispatch is a table keyed by mode, arrival port and message type (STYLE: rules as data).
import { DecodeError } from '../lib/errors.ts';
import type { BootDecision, BootPolicy, PxeClient } from '../boot/types.ts';
import type { DhcpMessage } from './wire/packet.ts';
import { clientMac, DhcpEncodeError, encodeDhcpMessage, readMessageType } from './wire/packet.ts';
import { BootpOp, DhcpOption, MessageType } from './wire/option-codes.ts';
import type { DhcpOptionEntry, DhcpOptions } from './wire/options.ts';
import { ipBytes, readIpOption, readStringOption, readU16Option } from './wire/options.ts';
import type { Destination, Ports, SubnetConfig } from './addressing.ts';
import { addressPlan, broadcastAddress, inSubnet, replyDestination, replyFlags, selectSubnet, subnetMask } from './addressing.ts';
import type { Lease, LeaseChange, LeaseView } from './leases.ts';
import { chooseAddress, isAvailableFor, reservationFor } from './leases.ts';
import type { Candidate } from './reply-options.ts';
import { bootFields, echoCandidates, leaseTimeCandidates, networkCandidates, selectOptions } from './reply-options.ts';
import { classifyPxeClient } from './pxe.ts';

export type DhcpMode = 'full' | 'proxy';
/** 'dhcp': port 67; 'pxe': the PXE boot server port 4011 (proxy mode). */
export type ArrivalPort = 'dhcp' | 'pxe';

export interface Arrival {
  readonly port: ArrivalPort;
  /** The datagram's source, for port 4011 replies (PXE 2.1: answer the client where it asked from). */
  readonly address: string;
  readonly sourcePort: number;
}

export interface ResponderContext {
  readonly mode: DhcpMode;
  /** This server's address on the client's interface: option 54 and the boot server. */
  readonly serverAddress: string;
  /** Full mode: the networks served (the local one holds serverAddress; others via relays). */
  readonly subnets: readonly SubnetConfig[];
  readonly leases: LeaseView;
  readonly policy: BootPolicy;
  readonly nowMs: number;
  readonly arrival: Arrival;
  readonly ports: Ports;
  /** How long an offered address is held for the client (default 30 s). */
  readonly offerHoldMs?: number;
  /** How long a declined address stays out of the pool (default 10 min). */
  readonly declineHoldMs?: number;
  /**
   * RFC 2131 4.3.2 INIT-REBOOT: a server with no record of the client stays silent. As the only
   * server on its network (the usual full mode), diskless instead ACKs a valid address or NAKs.
   */
  readonly authoritative?: boolean;
}

interface Outcome {
  readonly leaseChanges: readonly LeaseChange[];
  readonly client: PxeClient | null;
  readonly decision: BootDecision | null;
}

export type Response =
  | (Outcome & {
      readonly kind: 'reply';
      readonly reply: DhcpMessage;
      /** `reply` encoded for the wire, within maxLength (encoded once, while fitting it). */
      readonly bytes: Buffer;
      readonly destination: Destination;
      /** The largest message the client accepts (option 57, RFC 2132 section 9.10). */
      readonly maxLength: number;
    })
  | (Outcome & { readonly kind: 'ignore'; readonly reason: string });

const DEFAULT_OFFER_HOLD_MS = 30_000;
const DEFAULT_DECLINE_HOLD_MS = 10 * 60_000;
const ZERO = '0.0.0.0';

interface Exchange {
  readonly request: DhcpMessage;
  readonly ctx: ResponderContext;
  readonly mac: string;
  readonly client: PxeClient | null;
}

type Handler = (x: Exchange) => Response;

const ignore = (x: Exchange, reason: string, leaseChanges: readonly LeaseChange[] = []): Response => ({
  kind: 'ignore', reason, leaseChanges, client: x.client, decision: null,
});

export function respond(request: DhcpMessage, ctx: ResponderContext): Response {
  const base: Exchange = { request, ctx, mac: clientMac(request), client: null };
  if (request.op !== BootpOp.BootRequest) return ignore(base, 'not a BOOTREQUEST');
  const type = readMessageType(request);
  if (type === null) return ignore(base, 'no option 53 (plain BOOTP is not served)');
  const handler = HANDLERS[ctx.mode][ctx.arrival.port][type];
  if (handler === undefined) return ignore(base, `message type ${type} is not answered in ${ctx.mode} mode on the ${ctx.arrival.port} port`);
  return handler({ ...base, client: classifyPxeClient(request) });
}

// --- full mode -------------------------------------------------------------------------------

function offerHold(ctx: ResponderContext): number {
  return ctx.offerHoldMs ?? DEFAULT_OFFER_HOLD_MS;
}

function onDiscoverFull(x: Exchange): Response {
  const subnet = selectSubnet(x.ctx.subnets, x.request, x.ctx.serverAddress);
  if (subnet === null) return ignore(x, `no subnet for ${x.request.giaddr === ZERO ? 'this interface' : `relay ${x.request.giaddr}`}`);
  const plan = addressPlan(subnet, x.ctx.serverAddress);
  const requested = safeIp(x.request, DhcpOption.RequestedIpAddress);
  const ip = chooseAddress(x.ctx.leases, plan, x.mac, requested, x.ctx.nowMs);
  if (ip === null) return ignore(x, 'no free address in the pool');
  const current = x.ctx.leases.byIp(ip);
  const stillBound = current?.mac === x.mac && current.state === 'bound' && current.expiresAtMs > x.ctx.nowMs;
  const hold: Lease = { ip, mac: x.mac, state: 'offered', expiresAtMs: x.ctx.nowMs + offerHold(x.ctx) };
  const changes: LeaseChange[] = stillBound ? [] : [{ op: 'put', lease: hold }];
  return addressReply(x, subnet, MessageType.Offer, ip, changes);
}

type RequestState = 'selecting' | 'init-reboot' | 'renewing';

function onRequestFull(x: Exchange): Response {
  const { request, ctx, mac } = x;
  const serverId = safeIp(request, DhcpOption.ServerIdentifier);
  const requested = safeIp(request, DhcpOption.RequestedIpAddress);
  // RFC 2131 4.3.2 tells the client states apart by which of 54, 50 and ciaddr are present.
  const state: RequestState | null = serverId !== null ? 'selecting' : requested !== null ? 'init-reboot' : request.ciaddr !== ZERO ? 'renewing' : null;
  if (state === null) return ignore(x, 'REQUEST with no server id, requested address or ciaddr');
  if (state === 'selecting' && serverId !== ctx.serverAddress) {
    // The client took another server's offer: release what we held for it.
    const held = ctx.leases.byMac(mac);
    const release: LeaseChange[] = held?.state === 'offered' ? [{ op: 'delete', ip: held.ip }] : [];
    return ignore(x, `client chose server ${serverId ?? '?'}`, release);
  }
  const ip = state === 'renewing' ? request.ciaddr : requested;
  if (ip === null) return ignore(x, 'SELECTING REQUEST without option 50');
  const subnet = selectSubnet(ctx.subnets, request, ctx.serverAddress);
  if (subnet === null) return ignore(x, 'no subnet for this request');
  if (!inSubnet(subnet, ip)) return nak(x, `${ip} is not on network ${subnet.network}/${subnet.prefixLength}`);
  const plan = addressPlan(subnet, ctx.serverAddress);
  const known = ctx.leases.byMac(mac) !== undefined || reservationFor(plan, mac) !== undefined;
  if (state === 'init-reboot' && !known && ctx.authoritative === false) return ignore(x, 'INIT-REBOOT from a client we have no record of');
  if (!isAvailableFor(ctx.leases, plan, mac, ip, ctx.nowMs)) return nak(x, `${ip} is not available to ${mac}`);
  const hostname = reservationFor(plan, mac)?.hostname;
  const lease: Lease = {
    ip, mac, state: 'bound', expiresAtMs: ctx.nowMs + subnet.leaseTimeSeconds * 1000,
    ...(hostname !== undefined ? { hostname } : {}),
  };
  return addressReply(x, subnet, MessageType.Ack, ip, [{ op: 'put', lease }]);
}

function onDeclineFull(x: Exchange): Response {
  const serverId = safeIp(x.request, DhcpOption.ServerIdentifier);
  if (serverId !== null && serverId !== x.ctx.serverAddress) return ignore(x, `DECLINE for server ${serverId}`);
  const ip = safeIp(x.request, DhcpOption.RequestedIpAddress);
  if (ip === null) return ignore(x, 'DECLINE without option 50');
  const lease = x.ctx.leases.byIp(ip);
  if (lease?.mac !== x.mac) return ignore(x, `DECLINE of ${ip}, which is not this client's`);
  // RFC 2131 4.3.3: mark the address unavailable (someone else answers ARP for it).
  const bad: Lease = { ip, mac: x.mac, state: 'declined', expiresAtMs: x.ctx.nowMs + (x.ctx.declineHoldMs ?? DEFAULT_DECLINE_HOLD_MS) };
  return ignore(x, `declined ${ip}: held out of the pool`, [{ op: 'put', lease: bad }]);
}

function onReleaseFull(x: Exchange): Response {
  const ip = x.request.ciaddr;
  const lease = x.ctx.leases.byIp(ip);
  if (lease?.mac !== x.mac || lease.state !== 'bound') return ignore(x, `RELEASE of ${ip}, not bound to this client`);
  // RFC 2131 4.3.4: keep the binding's record, so the client gets the same address again.
  const released: Lease = { ...lease, state: 'released', expiresAtMs: x.ctx.nowMs };
  return ignore(x, `released ${ip}`, [{ op: 'put', lease: released }]);
}

function onInformFull(x: Exchange): Response {
  // RFC 2131 4.3.5: no yiaddr, no lease time; answer to ciaddr.
  const subnet = x.ctx.subnets.find((s) => inSubnet(s, x.request.ciaddr)) ?? selectSubnet(x.ctx.subnets, x.request, x.ctx.serverAddress);
  if (subnet === null) return ignore(x, `INFORM from ${x.request.ciaddr}, not on a served network`);
  return buildReply(x, MessageType.Ack, ZERO, subnetCandidates(subnet).network, []);
}

function networkOf(subnet: SubnetConfig): Parameters<typeof networkCandidates>[0] {
  return {
    subnetMask: subnetMask(subnet.prefixLength),
    routers: subnet.routers ?? [],
    dnsServers: subnet.dnsServers ?? [],
    domainName: subnet.domainName,
    broadcastAddress: broadcastAddress(subnet),
  };
}

interface SubnetCandidates {
  /** 1, 3, 6, 28, 15: what INFORM gets. */
  readonly network: readonly Candidate[];
  /** 51, 58, 59, then the network ones: what every OFFER and ACK without a reserved hostname gets. */
  readonly lease: readonly Candidate[];
}

/** A subnet's reply options, computed once per (frozen) subnet rather than per packet. */
const subnetCache = new WeakMap<SubnetConfig, SubnetCandidates>();

function subnetCandidates(subnet: SubnetConfig): SubnetCandidates {
  let cached = subnetCache.get(subnet);
  if (cached === undefined) {
    const network = networkCandidates(networkOf(subnet), undefined);
    cached = { network, lease: [...leaseTimeCandidates(subnet.leaseTimeSeconds), ...network] };
    subnetCache.set(subnet, cached);
  }
  return cached;
}

function addressReply(x: Exchange, subnet: SubnetConfig, type: number, ip: string, changes: readonly LeaseChange[]): Response {
  const hostname = reservationFor(addressPlan(subnet, x.ctx.serverAddress), x.mac)?.hostname;
  const cached = subnetCandidates(subnet).lease;
  // networkCandidates puts the host name last, so the cached list plus it is the same list.
  const candidates = hostname === undefined ? cached : [...leaseTimeCandidates(subnet.leaseTimeSeconds), ...networkCandidates(networkOf(subnet), hostname)];
  return buildReply(x, type, ip, candidates, changes);
}

function nak(x: Exchange, why: string): Response {
  const options: DhcpOptionEntry[] = [
    { code: DhcpOption.MessageType, data: Buffer.from([MessageType.Nak]) },
    { code: DhcpOption.ServerIdentifier, data: ipBytes(x.ctx.serverAddress) },
    { code: DhcpOption.Message, data: Buffer.from(why, 'latin1') },
  ];
  const limit = maxLength(x.request);
  const fitted = fitReply(replyMessage(x.request, true, ZERO, ZERO, '', options), options.length, limit);
  return {
    kind: 'reply', reply: fitted.reply, bytes: fitted.bytes, destination: replyDestination(x.request, true, x.ctx.ports), maxLength: limit,
    leaseChanges: [], client: x.client, decision: null,
  };
}

// --- proxy mode (PXE 2.1 section 2.2.1, "ProxyDHCP") ------------------------------------------

function isPxeVendor(request: DhcpMessage): boolean {
  const vendor = readStringOption(request.options, DhcpOption.VendorClassIdentifier) ?? '';
  return vendor.startsWith('PXEClient') || vendor.startsWith('HTTPClient');
}

/** Port 67 DISCOVER: an OFFER with no address, just the boot server and file. */
function onDiscoverProxy(x: Exchange): Response {
  if (!isPxeVendor(x.request)) return ignore(x, 'proxy mode answers only PXEClient/HTTPClient');
  return buildReply(x, MessageType.Offer, ZERO, [], []);
}

/** Port 4011 REQUEST/INFORM: the client has its address from the real DHCP server. */
function onRequestProxy(x: Exchange): Response {
  if (!isPxeVendor(x.request)) return ignore(x, 'proxy mode answers only PXEClient/HTTPClient');
  return buildReply(x, MessageType.Ack, ZERO, [], []);
}

// --- replies ---------------------------------------------------------------------------------

/**
 * A reply to `request`. Built as one literal, always with the same fields in the same order, so
 * that every reply object has one shape (the encoder reads them all on the hot path).
 */
function replyMessage(request: DhcpMessage, isNak: boolean, yiaddr: string, siaddr: string, file: string, options: DhcpOptions): DhcpMessage {
  return {
    op: BootpOp.BootReply, htype: request.htype, hlen: request.hlen, hops: 0, xid: request.xid, secs: 0,
    flags: replyFlags(request, isNak), ciaddr: isNak ? ZERO : request.ciaddr, yiaddr, siaddr,
    giaddr: request.giaddr, chaddr: request.chaddr, sname: '', file, options,
  };
}

const MESSAGE_TYPE_DATA: readonly Buffer[] = Array.from({ length: 256 }, (_, t) => Buffer.from([t]));
/** Option 54 bytes by server address (a server has one or a few). */
const serverIdData = new Map<string, Buffer>();

function serverIdBytes(serverAddress: string): Buffer {
  let data = serverIdData.get(serverAddress);
  if (data === undefined) {
    data = ipBytes(serverAddress);
    if (serverIdData.size < 64) serverIdData.set(serverAddress, data);
  }
  return data;
}

function buildReply(x: Exchange, type: number, yiaddr: string, candidates: readonly Candidate[], changes: readonly LeaseChange[]): Response {
  const { request, ctx, client } = x;
  const decision = client === null ? null : ctx.policy.decide(client, ctx.serverAddress);
  if (ctx.mode === 'proxy' && decision === null) return ignore(x, 'boot policy has nothing for this client');
  const boot = client !== null && decision !== null ? bootFields(request, client, decision, ctx.mode) : null;
  const all: Candidate[] = [
    { code: DhcpOption.MessageType, data: MESSAGE_TYPE_DATA[type] ?? Buffer.from([type]), when: 'always' },
    { code: DhcpOption.ServerIdentifier, data: serverIdBytes(ctx.serverAddress), when: 'always' },
  ];
  let keep = 2;
  for (const list of [candidates, boot?.candidates ?? [], echoCandidates(request)]) {
    for (const c of list) {
      all.push(c);
      if (c.when === 'always') keep += 1;
    }
  }
  const limit = maxLength(request);
  const fitted = fitReply(
    replyMessage(request, false, yiaddr, boot?.siaddr ?? ZERO, boot?.file ?? '', selectOptions(request, all)),
    keep,
    limit,
  );
  const destination = ctx.arrival.port === 'pxe'
    ? { address: ctx.arrival.address, port: ctx.arrival.sourcePort, broadcast: false }
    : replyDestination(request, false, ctx.ports);
  return { kind: 'reply', reply: fitted.reply, bytes: fitted.bytes, destination, maxLength: limit, leaseChanges: changes, client, decision };
}

/**
 * Drops requested options from the end (the last asked for first) until the reply fits the
 * client's limit even with overload; 'always' options (the first `keep`) stay. Returns the
 * reply with its bytes, so that it is encoded once.
 */
function fitReply(reply: DhcpMessage, keep: number, limit: number): { readonly reply: DhcpMessage; readonly bytes: Buffer } {
  let candidate = reply;
  for (;;) {
    try {
      return { reply: candidate, bytes: encodeDhcpMessage(candidate, { maxLength: limit }) };
    } catch (err) {
      if (!(err instanceof DhcpEncodeError) || candidate.options.length <= keep) throw err;
      candidate = replyWithOptions(reply, candidate.options.slice(0, -1));
    }
  }
}

function replyWithOptions(m: DhcpMessage, options: DhcpOptions): DhcpMessage {
  return {
    op: m.op, htype: m.htype, hlen: m.hlen, hops: m.hops, xid: m.xid, secs: m.secs, flags: m.flags, ciaddr: m.ciaddr, yiaddr: m.yiaddr,
    siaddr: m.siaddr, giaddr: m.giaddr, chaddr: m.chaddr, sname: m.sname, file: m.file, options,
  };
}

/**
 * Option 57 counts the whole IP datagram (RFC 2132 section 9.10, minimum 576), so 28 bytes of IP
 * and UDP headers come off; without it RFC 2131 section 2 promises 576. Capped at an Ethernet
 * MTU so that replies are never fragmented.
 */
function maxLength(request: DhcpMessage): number {
  // A malformed option 57 leaves the RFC minimum.
  let mms = 576;
  try {
    mms = readU16Option(request.options, DhcpOption.MaxMessageSize) ?? 576;
  } catch (err) {
    if (!(err instanceof DecodeError)) throw err;
  }
  return Math.min(Math.max(mms, 576), 1500) - 28;
}

/** An address option that is malformed reads as absent: the client gets the RFC's fallback. */
function safeIp(request: DhcpMessage, code: number): string | null {
  try {
    return readIpOption(request.options, code);
  } catch (err) {
    if (err instanceof DecodeError) return null;
    throw err;
  }
}

type HandlerTable = Readonly<Record<DhcpMode, Readonly<Record<ArrivalPort, Partial<Record<number, Handler>>>>>>;

const HANDLERS: HandlerTable = {
  full: {
    dhcp: {
      [MessageType.Discover]: onDiscoverFull,
      [MessageType.Request]: onRequestFull,
      [MessageType.Decline]: onDeclineFull,
      [MessageType.Release]: onReleaseFull,
      [MessageType.Inform]: onInformFull,
    },
    pxe: {},
  },
  proxy: {
    // REQUEST, DECLINE, RELEASE on port 67 belong to the real DHCP server.
    dhcp: { [MessageType.Discover]: onDiscoverProxy },
    pxe: { [MessageType.Request]: onRequestProxy, [MessageType.Inform]: onRequestProxy },
  },
};
