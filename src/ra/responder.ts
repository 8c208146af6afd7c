// Which Router Solicitations get a Router Advertisement, to whom, and when. Pure: the caller
// passes the time and does the sending (server.ts).
//
// Rules (docs/ROUTER-ADVERTISEMENTS.md):
// - Validation, RFC 4861 section 6.1.1: hop limit 255 (the solicitation came from this link),
//   the message decodes (codec.ts), and no source link-layer address option when the source is
//   the unspecified address.
// - A solicitation from an address is answered at once by unicast to that address: RFC 4861
//   section 6.2.6 allows it ("A router MAY choose to unicast the response directly to the
//   soliciting host's address"); only the asking host hears it, and there is no random delay
//   (the 0..MAX_RA_DELAY_TIME delay spreads the answers of several routers to a multicast; a
//   booting iPXE waits for ours). At most one per host per HOST_INTERVAL_MS (1 s: a boot script's
//   `dhcp` a second or two after the ROM's configuration is answered too; iPXE resends its
//   solicitation within 1/8 s, and answering each resend would be pointless), and at most
//   MAX_ANSWERS_PER_SECOND in all, so spoofed solicitations cannot turn us into a flood.
// - A solicitation from the unspecified address (a host before it has an address) is answered
//   to all-nodes, ff02::1 (section 6.2.6), and multicast answers keep section 6.2.6's limit: one
//   per MIN_DELAY_BETWEEN_RAS (3 s, section 10); one asked for sooner is sent when the 3 s are
//   up (one pending at most: it answers every host that asked meanwhile).
// - Nothing unsolicited: we are not a router (router lifetime 0) and a host that does not
//   solicit does not wait for us.
import { DecodeError } from '../lib/errors.ts';
import type { RouterSolicitation } from './codec.ts';
import { decodeRouterSolicitation } from './codec.ts';

/** RFC 4861 section 10: between two multicast RAs. */
export const MIN_DELAY_BETWEEN_RAS_MS = 3000;
/** Between two unicast RAs to one host (ours, see above). */
export const HOST_INTERVAL_MS = 1000;
/** Unicast RAs per second, all hosts together. */
export const MAX_ANSWERS_PER_SECOND = 100;
export const ALL_NODES = 'ff02::1';
export const UNSPECIFIED = '::';
/** RFC 4861 section 6.1.1: "The IP Hop Limit field has a value of 255". */
export const ND_HOP_LIMIT = 255;

export interface Solicitation {
  /** The IPv6 source address (no zone). */
  readonly source: string;
  /** The received IPv6 hop limit; -1 if unknown. */
  readonly hopLimit: number;
  /** The ICMPv6 message. */
  readonly bytes: Uint8Array;
}

export type Verdict =
  | { readonly kind: 'answer'; readonly to: string; readonly rs: RouterSolicitation }
  | { readonly kind: 'later'; readonly to: string; readonly atMs: number; readonly rs: RouterSolicitation }
  | { readonly kind: 'drop'; readonly reason: string; readonly rs: RouterSolicitation | null }
  | { readonly kind: 'malformed'; readonly reason: string };

export interface ResponderLimits {
  readonly hostIntervalMs?: number;
  readonly maxAnswersPerSecond?: number;
  readonly multicastIntervalMs?: number;
}

export class RaResponder {
  readonly #hostIntervalMs: number;
  readonly #maxPerSecond: number;
  readonly #multicastIntervalMs: number;
  /** Last unicast answer per host; pruned of entries older than the host interval. */
  readonly #answered = new Map<string, number>();
  #windowStartMs = -Infinity;
  #inWindow = 0;
  #lastMulticastMs = -Infinity;
  #multicastPending = false;

  constructor(limits: ResponderLimits = {}) {
    this.#hostIntervalMs = limits.hostIntervalMs ?? HOST_INTERVAL_MS;
    this.#maxPerSecond = limits.maxAnswersPerSecond ?? MAX_ANSWERS_PER_SECOND;
    this.#multicastIntervalMs = limits.multicastIntervalMs ?? MIN_DELAY_BETWEEN_RAS_MS;
  }

  /** What to do with one solicitation received at nowMs. */
  onSolicitation(s: Solicitation, nowMs: number): Verdict {
    if (s.hopLimit !== ND_HOP_LIMIT) {
      return { kind: 'malformed', reason: s.hopLimit < 0 ? 'hop limit unknown' : `hop limit ${s.hopLimit}, not 255: not from this link (RFC 4861 section 6.1.1)` };
    }
    let rs: RouterSolicitation;
    try {
      rs = decodeRouterSolicitation(s.bytes);
    } catch (err) {
      if (err instanceof DecodeError) return { kind: 'malformed', reason: err.message };
      throw err;
    }
    if (s.source === UNSPECIFIED) {
      if (rs.sourceLinkLayer !== null) return { kind: 'malformed', reason: 'source link-layer address option from the unspecified address (RFC 4861 section 6.1.1)' };
      if (this.#multicastPending) return { kind: 'drop', reason: 'a multicast advertisement is already scheduled', rs };
      const dueMs = this.#lastMulticastMs + this.#multicastIntervalMs;
      if (nowMs >= dueMs) return { kind: 'answer', to: ALL_NODES, rs };
      this.#multicastPending = true;
      return { kind: 'later', to: ALL_NODES, atMs: dueMs, rs };
    }
    const last = this.#answered.get(s.source);
    if (last !== undefined && nowMs - last < this.#hostIntervalMs) return { kind: 'drop', reason: `answered ${nowMs - last} ms ago`, rs };
    if (nowMs - this.#windowStartMs >= 1000) {
      this.#windowStartMs = nowMs;
      this.#inWindow = 0;
    }
    if (this.#inWindow >= this.#maxPerSecond) return { kind: 'drop', reason: `over ${this.#maxPerSecond} advertisements this second`, rs };
    this.#inWindow += 1;
    if (this.#answered.size >= 256) this.#prune(nowMs);
    this.#answered.set(s.source, nowMs);
    return { kind: 'answer', to: s.source, rs };
  }

  /** The caller sent (or gave up sending) a multicast advertisement at nowMs. */
  multicastSent(nowMs: number): void {
    this.#lastMulticastMs = nowMs;
    this.#multicastPending = false;
  }

  /** Hosts remembered for the per-host limit (bounded: at most maxAnswersPerSecond per second live). */
  get rememberedHosts(): number {
    return this.#answered.size;
  }

  #prune(nowMs: number): void {
    for (const [host, at] of this.#answered) if (nowMs - at >= this.#hostIntervalMs) this.#answered.delete(host);
  }
}
