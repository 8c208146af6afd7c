// Addresses of this host's interfaces, for what clients should be told to connect to.
import { networkInterfaces } from 'node:os';

/** The first IPv4 address of the named interface, or null if it has none (or does not exist). */
export function interfaceIpv4(name: string): { address: string; netmask: string } | null {
  const info = networkInterfaces()[name]?.find((i) => i.family === 'IPv4');
  return info === undefined ? null : { address: info.address, netmask: info.netmask };
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
