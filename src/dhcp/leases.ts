// Address allocation, pure: which address a client may have, given the lease table and the pool.
// The table itself (LeaseTable) is a plain in-memory index the server owns and mutates only by
// applying the LeaseChange values that responder.ts returns.
//
// Leases are keyed by hardware address, not by client identifier (option 61): a network-booted
// machine's PXE ROM, iPXE and operating system send different identifiers but should keep one
// address, which the OS also learns from iBFT.
import { ipToNumber, numberToIp, parseIpv4 } from './wire/options.ts';

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
  /** The lease at an address given as a number (ipToNumber): the pool scan's lookup, with no string per address. */
  byIpNumber?(n: number): Lease | undefined;
  /** Where to start looking for a free address (just after the last address that got its first record). */
  scanHint?(): number;
}

export interface Reservation {
  readonly mac: string;
  readonly ip: string;
  readonly hostname?: string;
}

/** Treated as immutable: its numeric form is computed once per plan object and kept. */
export interface AddressPlan {
  /** Dynamic range, inclusive; null: reservations only. */
  readonly pool: { readonly first: string; readonly last: string } | null;
  readonly reservations: readonly Reservation[];
  /** Addresses never handed out (this server, routers). */
  readonly excluded: readonly string[];
}

/** An AddressPlan as numbers and hashed sets: what every availability check reads. */
interface CompiledPlan {
  /** The pool as numbers; first > last when there is no pool. */
  readonly first: number;
  readonly last: number;
  readonly excluded: ReadonlySet<number>;
  readonly reservedIps: ReadonlySet<number>;
  /** The first reservation of each MAC, with its address as a number. */
  readonly reservationByMac: ReadonlyMap<string, { readonly reservation: Reservation; readonly ip: number }>;
}

const compiledPlans = new WeakMap<AddressPlan, CompiledPlan>();

function compile(plan: AddressPlan): CompiledPlan {
  let c = compiledPlans.get(plan);
  if (c !== undefined) return c;
  const reservationByMac = new Map<string, { reservation: Reservation; ip: number }>();
  for (const r of plan.reservations) if (!reservationByMac.has(r.mac)) reservationByMac.set(r.mac, { reservation: r, ip: ipToNumber(r.ip) });
  c = {
    first: plan.pool === null ? 1 : ipToNumber(plan.pool.first),
    last: plan.pool === null ? 0 : ipToNumber(plan.pool.last),
    excluded: new Set(plan.excluded.map(ipToNumber)),
    reservedIps: new Set(plan.reservations.map((r) => ipToNumber(r.ip))),
    reservationByMac,
  };
  compiledPlans.set(plan, c);
  return c;
}

/** True when the lease no longer holds its address against other clients. */
function isLapsed(lease: Lease, nowMs: number): boolean {
  return lease.state === 'released' || lease.expiresAtMs <= nowMs;
}

function leaseAt(view: LeaseView, n: number): Lease | undefined {
  return view.byIpNumber !== undefined ? view.byIpNumber(n) : view.byIp(numberToIp(n));
}

/** May `mac` take an address that holds `lease` (or none)? The lease half of isAvailableFor. */
function leaseAllows(lease: Lease | undefined, mac: string, nowMs: number): boolean {
  if (lease === undefined) return true;
  if (lease.state === 'declined') return lease.expiresAtMs <= nowMs;
  return lease.mac === mac || isLapsed(lease, nowMs);
}

function availableAt(view: LeaseView, c: CompiledPlan, mac: string, n: number, nowMs: number): boolean {
  const own = c.reservationByMac.get(mac);
  if (own !== undefined) {
    if (own.ip !== n) return false;
  } else {
    if (n < c.first || n > c.last) return false;
    if (c.reservedIps.has(n)) return false;
  }
  if (c.excluded.has(n)) return false;
  return leaseAllows(leaseAt(view, n), mac, nowMs);
}

export function inPool(plan: AddressPlan, ip: string): boolean {
  const c = compile(plan);
  const n = parseIpv4(ip);
  return n >= c.first && n <= c.last;
}

export function reservationFor(plan: AddressPlan, mac: string): Reservation | undefined {
  return compile(plan).reservationByMac.get(mac)?.reservation;
}

/** May `mac` have `ip` now? The RFC 2131 4.3.2 check behind every ACK and NAK. */
export function isAvailableFor(view: LeaseView, plan: AddressPlan, mac: string, ip: string, nowMs: number): boolean {
  const n = parseIpv4(ip);
  return n >= 0 && availableAt(view, compile(plan), mac, n, nowMs);
}

/**
 * The address to offer: the reservation; else the client's previous address; else the one it
 * asked for (option 50); else a never-used pool address; else the longest-lapsed one. Null when
 * the pool is exhausted.
 */
export function chooseAddress(view: LeaseView, plan: AddressPlan, mac: string, requested: string | null, nowMs: number): string | null {
  const c = compile(plan);
  const own = c.reservationByMac.get(mac);
  if (own !== undefined) return availableAt(view, c, mac, own.ip, nowMs) ? own.reservation.ip : null;
  const previous = view.byMac(mac);
  if (previous !== undefined && previous.state !== 'declined' && isAvailableFor(view, plan, mac, previous.ip, nowMs)) return previous.ip;
  if (requested !== null && isAvailableFor(view, plan, mac, requested, nowMs)) return requested;
  if (c.first > c.last) return null;
  // Start at the table's cursor (just after the last address that got its first record), so a
  // stream of new clients finds a never-used address at once. The cursor does not move back when
  // an older lease is renewed or bound, so the addresses behind it are not walked again and again;
  // only a pool with no never-used address left is walked in full, for the longest-lapsed lease.
  const size = c.last - c.first + 1;
  const hint = view.scanHint?.() ?? c.first;
  const start = hint >= c.first && hint <= c.last ? hint - c.first : 0;
  let oldest = -1;
  let oldestSince = 0;
  for (let i = 0; i < size; i++) {
    let n = c.first + start + i;
    if (n > c.last) n -= size;
    if (c.excluded.has(n) || c.reservedIps.has(n)) continue;
    const lease = leaseAt(view, n);
    if (lease === undefined) return numberToIp(n);
    if (!leaseAllows(lease, mac, nowMs)) continue;
    if (oldest < 0 || lease.expiresAtMs < oldestSince) {
      oldest = n;
      oldestSince = lease.expiresAtMs;
    }
  }
  return oldest < 0 ? null : numberToIp(oldest);
}

/** The in-memory lease index, keyed by the address as a number. Mutated only through apply(). */
export class LeaseTable implements LeaseView {
  readonly #byIp = new Map<number, Lease>();
  readonly #byMac = new Map<string, number>();
  #hint = 0;

  constructor(initial: Iterable<Lease> = []) {
    for (const lease of initial) this.#put(lease);
  }

  byIp(ip: string): Lease | undefined {
    return this.#byIp.get(parseIpv4(ip));
  }

  byIpNumber(n: number): Lease | undefined {
    return this.#byIp.get(n);
  }

  scanHint(): number {
    return this.#hint;
  }

  byMac(mac: string): Lease | undefined {
    const n = this.#byMac.get(mac);
    const lease = n === undefined ? undefined : this.#byIp.get(n);
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
    const n = ipToNumber(lease.ip);
    const before = this.#byIp.get(n);
    if (before !== undefined && before.mac !== lease.mac && this.#byMac.get(before.mac) === n) this.#byMac.delete(before.mac);
    this.#byIp.set(n, lease);
    // The allocation cursor moves only past addresses recorded for the first time: binding or
    // renewing an older lease must not send the next scan back over every lease after it.
    if (before === undefined) this.#hint = n + 1;
    // A declined address is the decliner's bad luck, not its address.
    if (lease.state !== 'declined') this.#byMac.set(lease.mac, n);
    else if (this.#byMac.get(lease.mac) === n) this.#byMac.delete(lease.mac);
  }

  #delete(ip: string): void {
    const n = parseIpv4(ip);
    const lease = this.#byIp.get(n);
    this.#byIp.delete(n);
    if (lease !== undefined && this.#byMac.get(lease.mac) === n) this.#byMac.delete(lease.mac);
  }
}
