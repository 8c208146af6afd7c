// The raw ICMPv6 socket of native/ (package diskless-icmpv6, a Node-API addon built by npm's
// node-gyp at `npm ci`): typed, and loaded lazily so that a missing build is a warning, not a crash.
import { createRequire } from 'node:module';

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

export const ADDON_PACKAGE = 'diskless-icmpv6';

function isNative(value: unknown): value is Icmpv6Native {
  if (typeof value !== 'object' || value === null) return false;
  return ['open', 'send', 'close'].every((name) => typeof (value as Record<string, unknown>)[name] === 'function');
}

let cached: { readonly native: Icmpv6Native } | { readonly error: string } | null = null;

/** The addon, or why it cannot be had (in words for a log line). */
export function loadIcmpv6(): { readonly native: Icmpv6Native } | { readonly error: string } {
  if (cached !== null) return cached;
  try {
    const loaded: unknown = createRequire(import.meta.url)(ADDON_PACKAGE);
    cached = isNative(loaded) ? { native: loaded } : { error: `${ADDON_PACKAGE} does not export open/send/close` };
  } catch (err) {
    const code = (err as { code?: unknown }).code;
    cached = {
      error:
        code === 'MODULE_NOT_FOUND'
          ? `the native helper is not built (native/, package ${ADDON_PACKAGE}; \`npm rebuild ${ADDON_PACKAGE}\` builds it with g++, make and python3)`
          : `the native helper did not load: ${err instanceof Error ? err.message : String(err)}`,
    };
  }
  return cached;
}
