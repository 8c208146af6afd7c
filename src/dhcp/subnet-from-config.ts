// The served subnet from the `dhcp:` config and the interface's own address and mask: a user
// who gives only `--dhcp full --interface br0` gets a working pool.
import type { SubnetConfig } from './addressing.ts';
import { ipToNumber, numberToIp } from './wire/options.ts';

export interface SubnetInput {
  readonly serverAddress: string;
  /** Dotted mask of the served interface (config subnetMask wins). */
  readonly netmask: string;
  readonly pool?: { readonly first: string; readonly last: string } | undefined;
  readonly router?: string | undefined;
  readonly dns: readonly string[];
  readonly leaseSeconds: number;
}

function prefixOf(netmask: string): number {
  let bits = ipToNumber(netmask);
  let prefix = 0;
  while (bits & 0x80000000) {
    prefix++;
    bits = (bits << 1) >>> 0;
  }
  return prefix;
}

export function subnetFromConfig(input: SubnetInput): SubnetConfig {
  const prefixLength = prefixOf(input.netmask);
  const mask = ipToNumber(input.netmask);
  const network = (ipToNumber(input.serverAddress) & mask) >>> 0;
  const broadcast = (network | (~mask >>> 0)) >>> 0;
  let pool = input.pool ?? null;
  if (pool === null && broadcast - network > 4) {
    // Default pool: the upper half of the subnet, which home networks rarely hand out statically.
    const size = broadcast - network - 1;
    const first = network + 1 + Math.floor(size / 2);
    pool = { first: numberToIp(first), last: numberToIp(broadcast - 1) };
  }
  return {
    network: numberToIp(network),
    prefixLength,
    ...(input.router !== undefined ? { routers: [input.router] } : {}),
    ...(input.dns.length > 0 ? { dnsServers: input.dns } : {}),
    leaseTimeSeconds: input.leaseSeconds,
    pool,
  };
}
