// The raw ICMPv6 socket of native/ (package diskless-icmpv6, a Node-API addon built by npm's
// node-gyp at `npm ci`): typed, and loaded lazily so that a missing build is a warning, not a crash.
import { loadAddon, type Loaded } from '../lib/native-addon.ts';

declare const handleBrand: unique symbol;
/** An open socket (an external value owned by the addon). */
export interface Icmpv6Handle {
  readonly [handleBrand]: true;
}

export type PacketCallback = (err: (Error & { code?: string }) | null, bytes?: Buffer, source?: string, hopLimit?: number) => void;

export interface Icmpv6Native {
  /** A raw ICMPv6 socket on ifname hearing only `types`, member of `groups`, sending with hop limit 255. */
  open(ifname: string, types: readonly number[], groups: readonly string[], onPacket: PacketCallback): Icmpv6Handle;
  /** Sends one ICMPv6 message (checksum filled in by the kernel); throws with err.code on failure. */
  send(handle: Icmpv6Handle, bytes: Buffer, destination: string, source: string | null): void;
  close(handle: Icmpv6Handle): void;
}

/** The addon, or why it cannot be had (in words for a log line). */
export function loadIcmpv6(): Loaded<Icmpv6Native> {
  return loadAddon<Icmpv6Native>(null, ['open', 'send', 'close']);
}
