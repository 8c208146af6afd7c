// Address allocation, pure: which address a client may have, given the lease table and the pool.
// The table itself (LeaseTable) is a plain in-memory index the server owns and mutates only by
// applying the LeaseChange values that responder.ts returns.
//
// Leases are keyed by hardware address, not by client identifier (option 61): a network-booted
// machine's PXE ROM, iPXE and operating system send different identifiers but should keep one
// address, which the OS also learns from iBFT.
import { ipToNumber, numberToIp } from './wire/options.ts';

export type LeaseState =
  /** Offered and held for the client until expiresAtMs (RFC 2131 4.3.1: avoid double offers). */
  | 'offered'
  /** Acknowledged: the client owns the address until expiresAtMs. */
  | 'bound'
  /** The client found the address in use (DECLINE): quarantined until expiresAtMs. */
  | 'declined'
  /** Given back (RELEASE) or expired; remembered so the same client gets it again. */
  | 'released';

export interface Lease {
  readonly ip: string;
  readonly mac: string;
  readonly state: LeaseState;
  readonly expiresAtMs: number;
  readonly hostname?: string;
}

export type LeaseChange = { readonly op: 'put'; readonly lease: Lease } | { readonly op: 'delete'; readonly ip: string };

export interface LeaseView {
  byIp(ip: string): Lease | undefined;
  /** The client's most recently recorded lease. */
  byMac(mac: string): Lease | undefined;
  /** Where to start looking for a free address (just after the last one recorded). */
  scanHint?(): number;
}

export interface Reservation {
  readonly mac: string;
  readonly ip: string;
  readonly hostname?: string;
}

export interface AddressPlan {
  /** Dynamic range, inclusive; null: reservations only. */
  readonly pool: { readonly first: string; readonly last: string } | null;
  readonly reservations: readonly Reservation[];
  /** Addresses never handed out (this server, routers). */
  readonly excluded: readonly string[];
}

/** True when the lease no longer holds its address against other clients. */
function isLapsed(lease: Lease, nowMs: number): boolean {
  return lease.state === 'released' || lease.expiresAtMs <= nowMs;
}

export function inPool(plan: AddressPlan, ip: string): boolean {
  if (plan.pool === null) return false;
  const n = ipToNumber(ip);
  return n >= ipToNumber(plan.pool.first) && n <= ipToNumber(plan.pool.last);
}

export function reservationFor(plan: AddressPlan, mac: string): Reservation | undefined {
  return plan.reservations.find((r) => r.mac === mac);
}

/** May `mac` have `ip` now? The RFC 2131 4.3.2 check behind every ACK and NAK. */
export function isAvailableFor(view: LeaseView, plan: AddressPlan, mac: string, ip: string, nowMs: number): boolean {
  const own = reservationFor(plan, mac);
  if (own !== undefined) {
    if (own.ip !== ip) return false;
  } else {
    if (!inPool(plan, ip)) return false;
    if (plan.reservations.some((r) => r.ip === ip)) return false;
  }
  if (plan.excluded.includes(ip)) return false;
  const lease = view.byIp(ip);
  if (lease === undefined) return true;
  if (lease.state === 'declined') return lease.expiresAtMs <= nowMs;
  return lease.mac === mac || isLapsed(lease, nowMs);
}

/**
 * The address to offer: the reservation; else the client's previous address; else the one it
 * asked for (option 50); else a never-used pool address; else the longest-lapsed one. Null when
 * the pool is exhausted.
 */
export function chooseAddress(view: LeaseView, plan: AddressPlan, mac: string, requested: string | null, nowMs: number): string | null {
  const own = reservationFor(plan, mac);
  if (own !== undefined) return isAvailableFor(view, plan, mac, own.ip, nowMs) ? own.ip : null;
  const previous = view.byMac(mac);
  if (previous !== undefined && previous.state !== 'declined' && isAvailableFor(view, plan, mac, previous.ip, nowMs)) return previous.ip;
  if (requested !== null && isAvailableFor(view, plan, mac, requested, nowMs)) return requested;
  if (plan.pool === null) return null;
  // Start after the address handed out last, so a stream of new clients finds a never-used
  // address at once instead of walking every lease from the start of the pool each time.
  const first = ipToNumber(plan.pool.first);
  const size = ipToNumber(plan.pool.last) - first + 1;
  const hint = view.scanHint?.() ?? first;
  const start = hint >= first && hint < first + size ? hint - first : 0;
  let oldest: { ip: string; since: number } | null = null;
  for (let i = 0; i < size; i++) {
    const ip = numberToIp(first + ((start + i) % size));
    const lease = view.byIp(ip);
    if (lease === undefined) {
      if (plan.excluded.includes(ip) || plan.reservations.some((r) => r.ip === ip)) continue;
      return ip;
    }
    if (!isAvailableFor(view, plan, mac, ip, nowMs)) continue;
    if (oldest === null || lease.expiresAtMs < oldest.since) oldest = { ip, since: lease.expiresAtMs };
  }
  return oldest?.ip ?? null;
}

/** The in-memory lease index. Mutated only through apply(). */
export class LeaseTable implements LeaseView {
  readonly #byIp = new Map<string, Lease>();
  readonly #byMac = new Map<string, string>();
  #hint = 0;

  constructor(initial: Iterable<Lease> = []) {
    for (const lease of initial) this.#put(lease);
  }

  byIp(ip: string): Lease | undefined {
    return this.#byIp.get(ip);
  }

  scanHint(): number {
    return this.#hint;
  }

  byMac(mac: string): Lease | undefined {
    const ip = this.#byMac.get(mac);
    const lease = ip === undefined ? undefined : this.#byIp.get(ip);
    return lease?.mac === mac ? lease : undefined;
  }

  apply(changes: readonly LeaseChange[]): void {
    for (const change of changes) {
      if (change.op === 'put') this.#put(change.lease);
      else this.#delete(change.ip);
    }
  }

  all(): Lease[] {
    return [...this.#byIp.values()];
  }

  get size(): number {
    return this.#byIp.size;
  }

  #put(lease: Lease): void {
    const before = this.#byIp.get(lease.ip);
    if (before !== undefined && before.mac !== lease.mac && this.#byMac.get(before.mac) === lease.ip) this.#byMac.delete(before.mac);
    this.#byIp.set(lease.ip, lease);
    this.#hint = ipToNumber(lease.ip) + 1;
    // A declined address is the decliner's bad luck, not its address.
    if (lease.state !== 'declined') this.#byMac.set(lease.mac, lease.ip);
    else if (this.#byMac.get(lease.mac) === lease.ip) this.#byMac.delete(lease.mac);
  }

  #delete(ip: string): void {
    const lease = this.#byIp.get(ip);
    this.#byIp.delete(ip);
    if (lease !== undefined && this.#byMac.get(lease.mac) === ip) this.#byMac.delete(lease.mac);
  }
}
