// Addresses of this host's interfaces, for what clients should be told to connect to.
import { execFileSync } from 'node:child_process';
import { networkInterfaces } from 'node:os';

/** The first IPv4 address of the named interface, or null if it has none (or does not exist). */
export function interfaceIpv4(name: string): { address: string; netmask: string } | null {
  const info = networkInterfaces()[name]?.find((i) => i.family === 'IPv4');
  if (info !== undefined) return { address: info.address, netmask: info.netmask };
  // libuv lists only interfaces that are up with a carrier; a bridge whose machines have not
  // been switched on yet has none. iproute2 reports its address regardless.
  return interfaceIpv4FromIproute(name);
}

function interfaceIpv4FromIproute(name: string): { address: string; netmask: string } | null {
  let output: string;
  try {
    output = execFileSync('ip', ['-j', '-4', 'addr', 'show', 'dev', name], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
  } catch {
    return null;
  }
  const parsed = JSON.parse(output) as Array<{ addr_info?: Array<{ local?: string; prefixlen?: number }> }>;
  const first = parsed[0]?.addr_info?.find((a) => a.local !== undefined && a.prefixlen !== undefined);
  if (first?.local === undefined || first.prefixlen === undefined) return null;
  const bits = first.prefixlen === 0 ? 0 : (0xffffffff << (32 - first.prefixlen)) >>> 0;
  const netmask = [24, 16, 8, 0].map((shift) => (bits >>> shift) & 0xff).join('.');
  return { address: first.local, netmask };
}

export function firstExternalIpv4(): string | null {
  for (const list of Object.values(networkInterfaces())) {
    for (const info of list ?? []) if (!info.internal && info.family === 'IPv4') return info.address;
  }
  return null;
}

const WILDCARDS = new Set(['0.0.0.0', '::', '']);

/** The address to advertise: explicit, else the DHCP interface's, else the listen address, else any. */
export function advertisedAddress(opts: { advertise?: string | undefined; interface?: string | undefined; listen: string }): string | null {
  if (opts.advertise !== undefined) return opts.advertise;
  if (opts.interface !== undefined) {
    const own = interfaceIpv4(opts.interface);
    if (own !== null) return own.address;
  }
  if (!WILDCARDS.has(opts.listen)) return opts.listen;
  return firstExternalIpv4();
}
