// RFC 1982 serial number arithmetic on 32 bits, as iSCSI uses it for CmdSN, StatSN and
// DataSN comparisons (RFC 7143 section 4.2.2.1): the sequence numbers wrap at 2^32.

export function serialAdd(a: number, n: number): number {
  return (a + n) >>> 0;
}

/** a < b in serial arithmetic (undefined for a distance of exactly 2^31; treated as false). */
export function serialLt(a: number, b: number): boolean {
  const diff = (b - a) >>> 0;
  return diff !== 0 && diff < 0x80000000;
}

export function serialLte(a: number, b: number): boolean {
  return a === b || serialLt(a, b);
}

/** True when lo <= x <= hi in serial arithmetic. */
export function serialInWindow(x: number, lo: number, hi: number): boolean {
  return serialLte(lo, x) && serialLte(x, hi);
}
