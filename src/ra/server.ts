// Answers IPv6 Router Solicitations on the DHCP interface with a Router Advertisement that
// routes nothing (router lifetime 0, no prefix, M=0, O=0: codec.ts), so that iPXE's IPv6
// autoconfiguration ends at once instead of timing out after about 10 s at every boot
// (docs/ROUTER-ADVERTISEMENTS.md). The socket is the native addon's (native.ts); what gets
// answered is responder.ts's. Nothing here may stop the server: every failure is a log line.
import { networkInterfaces } from 'node:os';
import type { Logger } from 'pino';
import type { RouterSolicitation } from './codec.ts';
import { disklessRouterAdvertisement, encodeRouterAdvertisement, formatLinkLayer, ICMPV6_ROUTER_SOLICITATION, parseMac } from './codec.ts';
import type { Icmpv6Handle, Icmpv6Native } from './native.ts';
import { loadIcmpv6 } from './native.ts';
import type { ResponderLimits, Verdict } from './responder.ts';
import { ALL_NODES, RaResponder } from './responder.ts';

/** All-routers: where hosts send Router Solicitations (RFC 4861 section 6.3.7). */
export const ALL_ROUTERS = 'ff02::2';
/** What is lost without us, for the one warning when we cannot run. */
export const WITHOUT_RA = 'iPXE will wait about 10 s for IPv6 at each boot (its IPv6 autoconfiguration waits for a router advertisement that never comes)';
/** At most one warning line per kind of trouble this often (malformed packets, send failures). */
const WARN_INTERVAL_MS = 10_000;

export interface RaStats {
  solicitations: number;
  advertisements: number;
  dropped: number;
  malformed: number;
  errors: number;
}

export interface RouterAdvertiser {
  readonly interface: string;
  readonly stats: Readonly<RaStats>;
  close(): void;
}

/** Our link-local address on the interface (RFC 4861 section 6.1.2: RAs come from one) and its MAC. */
export interface LinkAddress {
  readonly address: string;
  readonly mac: Buffer | null;
}

export interface RouterAdvertiserOptions {
  readonly interface: string;
  readonly log: Logger;
  /** Tests: a stand-in for the addon. */
  readonly native?: Icmpv6Native;
  /** Tests: a stand-in for the interface's link-local address lookup. */
  readonly linkAddress?: (iface: string) => LinkAddress | null;
  readonly limits?: ResponderLimits;
  readonly now?: () => number;
}

/** The interface's link-local IPv6 address (fe80::/10) and MAC, from the OS; null without one. */
export function interfaceLinkLocal(iface: string): LinkAddress | null {
  const entry = networkInterfaces()[iface]?.find((i) => i.family === 'IPv6' && /^fe[89ab][0-9a-f]:/i.test(i.address));
  return entry === undefined ? null : { address: entry.address, mac: parseMac(entry.mac) };
}

/** Whether the DHCP section of the config asks for router advertisements, and on which interface. */
export function routerAdvertisementsWanted(dhcp: { readonly mode: string; readonly interface?: string | undefined; readonly routerAdvertisements?: boolean | undefined }): { readonly on: true; readonly interface: string } | { readonly on: false; readonly why: string | null } {
  const wanted = dhcp.routerAdvertisements ?? dhcp.mode === 'full';
  if (!wanted) return { on: false, why: null };
  if (dhcp.interface === undefined) {
    // Full mode without an interface serves relays and a configured subnet: not a link of ours.
    return { on: false, why: dhcp.routerAdvertisements === true ? 'dhcp.routerAdvertisements needs dhcp.interface (the network to answer on)' : null };
  }
  return { on: true, interface: dhcp.interface };
}

/**
 * Starts answering, or logs one warning saying what is lost and returns null (no addon, not
 * root, no IPv6, no such interface). Never throws.
 */
export function startRouterAdvertiser(opts: RouterAdvertiserOptions): RouterAdvertiser | null {
  const iface = opts.interface;
  const log = opts.log.child({ proto: 'ra', iface });
  const now = opts.now ?? Date.now;
  const linkAddress = opts.linkAddress ?? interfaceLinkLocal;
  let native: Icmpv6Native;
  if (opts.native !== undefined) native = opts.native;
  else {
    const loaded = loadIcmpv6();
    if ('error' in loaded) {
      log.warn(`IPv6 router advertisements are off on ${iface}: ${loaded.error}. ${WITHOUT_RA}`);
      return null;
    }
    native = loaded.native;
  }

  const stats: RaStats = { solicitations: 0, advertisements: 0, dropped: 0, malformed: 0, errors: 0 };
  const responder = new RaResponder(opts.limits);
  let handle: Icmpv6Handle | null = null;
  let closed = false;
  let pending: NodeJS.Timeout | null = null;
  const warnedAt = new Map<string, number>();
  /** A warning of this kind at most once per WARN_INTERVAL_MS; the rest at debug. */
  const warnSometimes = (kind: string, fields: Record<string, unknown>, message: string): void => {
    const t = now();
    if (t - (warnedAt.get(kind) ?? -Infinity) >= WARN_INTERVAL_MS) {
      warnedAt.set(kind, t);
      log.warn(fields, message);
    } else log.debug(fields, message);
  };

  const describe = (source: string, rs: RouterSolicitation | null): string =>
    rs !== null && rs.sourceLinkLayer !== null ? `${source} (${formatLinkLayer(rs.sourceLinkLayer)})` : source;

  /** Sends one advertisement; false (logged) if it could not leave. */
  const advertise = (to: string, why: string): boolean => {
    if (handle === null) return false;
    const own = linkAddress(iface);
    if (own === null) {
      stats.errors += 1;
      warnSometimes('no-link-local', { to }, `no link-local IPv6 address on ${iface} (yet): router advertisement to ${to} not sent (RFC 4861 section 6.1.2: hosts ignore one from any other source)`);
      return false;
    }
    const bytes = encodeRouterAdvertisement(disklessRouterAdvertisement(own.mac));
    try {
      native.send(handle, bytes, to, own.address);
    } catch (err) {
      stats.errors += 1;
      const code = (err as { code?: unknown }).code;
      warnSometimes(`send-${String(code)}`, { err, to, from: own.address }, `router advertisement to ${to} not sent: ${err instanceof Error ? err.message : String(err)}${code === 'EADDRNOTAVAIL' || code === 'EINVAL' ? ` (is ${own.address} still tentative, in duplicate address detection?)` : ''}`);
      return false;
    }
    stats.advertisements += 1;
    log.info({ to, from: own.address }, `${why} → router advertisement to ${to} (router lifetime 0: not a default router)`);
    return true;
  };

  const onVerdict = (verdict: Verdict, source: string): void => {
    switch (verdict.kind) {
      case 'answer':
        advertise(verdict.to, `router solicitation from ${describe(source, verdict.rs)}`);
        if (verdict.to === ALL_NODES) responder.multicastSent(now());
        return;
      case 'later': {
        log.debug({ from: source, atMs: verdict.atMs }, `router solicitation from ${source}: multicast advertisement in ${verdict.atMs - now()} ms (RFC 4861 section 6.2.6)`);
        pending = setTimeout(() => {
          pending = null;
          if (closed) return;
          advertise(verdict.to, `router solicitation(s) from ${UNSPECIFIED_TEXT}`);
          responder.multicastSent(now());
        }, Math.max(0, verdict.atMs - now()));
        pending.unref();
        return;
      }
      case 'drop':
        stats.dropped += 1;
        log.debug({ from: source }, `router solicitation from ${describe(source, verdict.rs)} not answered: ${verdict.reason}`);
        return;
      case 'malformed':
        stats.malformed += 1;
        warnSometimes('malformed', { from: source, malformed: stats.malformed }, `invalid router solicitation from ${source} dropped: ${verdict.reason}`);
        return;
    }
  };

  const onPacket = (err: (Error & { code?: string }) | null, bytes?: Buffer, source?: string, hopLimit?: number): void => {
    if (closed) return;
    if (err !== null) {
      stats.errors += 1;
      // libuv stops a poll handle that reports an error (EBADF): nothing more will arrive.
      if (err.code === 'EBADF') log.error({ err }, `ICMPv6 socket on ${iface} failed: router solicitations are no longer answered. ${WITHOUT_RA}`);
      else warnSometimes(`rx-${String(err.code)}`, { err }, `ICMPv6 receive error on ${iface}: ${err.message}`);
      return;
    }
    if (bytes === undefined || source === undefined) return;
    // The socket's filter passes only type 133; anything else (queued before the filter took hold) is not ours.
    if (bytes[0] !== ICMPV6_ROUTER_SOLICITATION) return;
    stats.solicitations += 1;
    try {
      onVerdict(responder.onSolicitation({ source, hopLimit: hopLimit ?? -1, bytes }, now()), source);
    } catch (e) {
      stats.errors += 1;
      log.error({ err: e, from: source }, 'router solicitation handling failed');
    }
  };

  try {
    handle = native.open(iface, [ICMPV6_ROUTER_SOLICITATION], [ALL_ROUTERS], onPacket);
  } catch (err) {
    log.warn({ err }, `IPv6 router advertisements are off on ${iface}: ${openFailure(err, iface)}. ${WITHOUT_RA}`);
    return null;
  }
  log.info(`answering IPv6 router solicitations on ${iface} (router lifetime 0: no one routes through us; iPXE need not wait for IPv6)`);

  return {
    interface: iface,
    stats,
    close(): void {
      if (closed) return;
      closed = true;
      if (pending !== null) clearTimeout(pending);
      if (handle !== null) native.close(handle);
      handle = null;
    },
  };
}

const UNSPECIFIED_TEXT = 'the unspecified address (::)';

/** Why the socket could not be opened, in words. */
function openFailure(err: unknown, iface: string): string {
  const code = (err as { code?: unknown }).code;
  const detail = err instanceof Error ? err.message : String(err);
  switch (code) {
    case 'EPERM':
    case 'EACCES':
      return `a raw ICMPv6 socket needs root or CAP_NET_RAW (${detail})`;
    case 'EAFNOSUPPORT':
      return `IPv6 is not available on this host (${detail})`;
    case 'ENODEV':
      return `no interface ${iface}, or IPv6 is disabled on it (${detail})`;
    default:
      return `could not open a raw ICMPv6 socket on ${iface} (${detail})`;
  }
}
