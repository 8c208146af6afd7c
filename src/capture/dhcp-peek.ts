// The three fields of a DHCP/BOOTP message a capture needs to tell whose it is and which
// address the machine gets (RFC 2131 section 2): op, chaddr, ciaddr and yiaddr. Fixed offsets,
// no option parsing. Pure.

export interface DhcpPeek {
  /** 1 BOOTREQUEST (client to server), 2 BOOTREPLY. */
  readonly op: number;
  /** The client's MAC, lower-case colon form. */
  readonly mac: string;
  readonly ciaddr: string;
  readonly yiaddr: string;
}

const MAGIC_COOKIE = 0x63825363;
const ETHERNET = 1;

const ipAt = (b: Buffer, at: number): string => `${b[at] ?? 0}.${b[at + 1] ?? 0}.${b[at + 2] ?? 0}.${b[at + 3] ?? 0}`;

export function peekDhcp(bytes: Buffer): DhcpPeek | null {
  if (bytes.length < 240 || bytes.readUInt32BE(236) !== MAGIC_COOKIE) return null;
  const op = bytes[0] ?? 0;
  if ((op !== 1 && op !== 2) || bytes[1] !== ETHERNET || bytes[2] !== 6) return null;
  const mac = [...bytes.subarray(28, 34)].map((b) => b.toString(16).padStart(2, '0')).join(':');
  return { op, mac, ciaddr: ipAt(bytes, 12), yiaddr: ipAt(bytes, 16) };
}
