// Subnets and reply addressing (RFC 2131 section 4.1), pure.
import type { DhcpMessage } from './wire/packet.ts';
import { BROADCAST_FLAG } from './wire/option-codes.ts';
import { ipToNumber, numberToIp } from './wire/options.ts';
import type { AddressPlan, Reservation } from './leases.ts';

export interface SubnetConfig {
  /** Network address, e.g. "10.0.0.0". */
  readonly network: string;
  readonly prefixLength: number;
  readonly routers?: readonly string[];
  readonly dnsServers?: readonly string[];
  readonly domainName?: string;
  readonly leaseTimeSeconds: number;
  /** Dynamic range (inclusive), or null for reservations only. */
  readonly pool: { readonly first: string; readonly last: string } | null;
  readonly reservations?: readonly Reservation[];
}

function maskOf(prefixLength: number): number {
  return prefixLength === 0 ? 0 : (0xffffffff << (32 - prefixLength)) >>> 0;
}

export function subnetMask(prefixLength: number): string {
  return numberToIp(maskOf(prefixLength));
}

export function inSubnet(subnet: SubnetConfig, ip: string): boolean {
  const mask = maskOf(subnet.prefixLength);
  return ((ipToNumber(ip) & mask) >>> 0) === ((ipToNumber(subnet.network) & mask) >>> 0);
}

export function broadcastAddress(subnet: SubnetConfig): string {
  const mask = maskOf(subnet.prefixLength);
  return numberToIp(((ipToNumber(subnet.network) & mask) | (~mask >>> 0)) >>> 0);
}

/**
 * RFC 2131 section 4.3.1: the client's network is the relay's (giaddr) when relayed, else the
 * network of the interface the request arrived on, which is the one holding our address.
 */
export function selectSubnet(subnets: readonly SubnetConfig[], request: DhcpMessage, serverAddress: string): SubnetConfig | null {
  const anchor = request.giaddr !== '0.0.0.0' ? request.giaddr : serverAddress;
  return subnets.find((s) => inSubnet(s, anchor)) ?? null;
}

/** Plans by subnet object and server address: built once, so the lease code's compiled form of it is kept too. */
const plans = new WeakMap<SubnetConfig, Map<string, AddressPlan>>();

/** The subnet's address plan; the same object for the same (frozen) subnet and server address. */
export function addressPlan(subnet: SubnetConfig, serverAddress: string): AddressPlan {
  let bySubnet = plans.get(subnet);
  if (bySubnet === undefined) {
    bySubnet = new Map();
    plans.set(subnet, bySubnet);
  }
  let plan = bySubnet.get(serverAddress);
  if (plan === undefined) {
    plan = {
      pool: subnet.pool,
      reservations: subnet.reservations ?? [],
      excluded: [serverAddress, subnet.network, broadcastAddress(subnet), ...(subnet.routers ?? [])],
    };
    bySubnet.set(serverAddress, plan);
  }
  return plan;
}

export interface Destination {
  readonly address: string;
  readonly port: number;
  /** Sent to 255.255.255.255: the socket needs SO_BROADCAST. */
  readonly broadcast: boolean;
}

export interface Ports {
  readonly server: number;
  readonly client: number;
}

export const LIMITED_BROADCAST = '255.255.255.255';

/**
 * RFC 2131 section 4.1: relayed → to the relay's server port; NAK → broadcast; ciaddr set → to
 * ciaddr; otherwise broadcast. The RFC's remaining case (broadcast bit clear: unicast to yiaddr
 * and chaddr) needs a raw socket or an ARP-table entry injected for an address the client does
 * not have yet; Node's dgram can do neither, so such replies are broadcast, which every client
 * must accept (RFC 2131 section 4.1 lets a server broadcast whenever it cannot unicast).
 */
export function replyDestination(request: DhcpMessage, isNak: boolean, ports: Ports): Destination {
  if (request.giaddr !== '0.0.0.0') return { address: request.giaddr, port: ports.server, broadcast: false };
  if (!isNak && request.ciaddr !== '0.0.0.0') return { address: request.ciaddr, port: ports.client, broadcast: false };
  return { address: LIMITED_BROADCAST, port: ports.client, broadcast: true };
}

/** RFC 2131 section 4.3.2: a NAK through a relay has the broadcast bit set so the relay broadcasts it. */
export function replyFlags(request: DhcpMessage, isNak: boolean): number {
  return isNak && request.giaddr !== '0.0.0.0' ? request.flags | BROADCAST_FLAG : request.flags;
}
