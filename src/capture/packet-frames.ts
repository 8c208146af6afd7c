// Ethernet frames around what diskless sent and received, for its packet captures: the
// payload is the real datagram or TCP stream bytes; the Ethernet, IPv4/IPv6, UDP and TCP headers
// are made up from the socket's addresses and ports (with correct lengths and checksums, so
// Wireshark shows no errors). Pure.
import { isIPv4, isIPv6 } from 'node:net';

export interface Endpoint {
  /** Colon MAC; the server's side uses its interface's MAC when it knows it. */
  readonly mac: string;
  readonly ip: string;
  readonly port: number;
}

export const TcpFlag = { FIN: 0x01, SYN: 0x02, PSH: 0x08, ACK: 0x10 } as const;

export interface TcpSegment {
  readonly seq: number;
  readonly ack: number;
  readonly flags: number;
}

const ETHERTYPE_IPV4 = 0x0800;
const ETHERTYPE_IPV6 = 0x86dd;
const PROTO_TCP = 6;
const PROTO_UDP = 17;

export function macBytes(mac: string): Buffer {
  const hex = mac.replace(/[^0-9a-fA-F]/g, '');
  return hex.length === 12 ? Buffer.from(hex, 'hex') : Buffer.alloc(6);
}

function ipv6Bytes(ip: string): Buffer {
  const zone = ip.indexOf('%');
  const text = zone >= 0 ? ip.slice(0, zone) : ip;
  const out = Buffer.alloc(16);
  // A dotted IPv4 tail (::ffff:1.2.3.4) is two groups.
  const dotted = /(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  const groupsText = dotted !== null ? text.slice(0, -(dotted[1] ?? '').length) + '0:0' : text;
  const [head = '', tail = ''] = groupsText.includes('::') ? groupsText.split('::') : [groupsText, ''];
  const headGroups = head === '' ? [] : head.split(':');
  const tailGroups = tail === '' ? [] : tail.split(':');
  const groups = [...headGroups, ...Array<string>(8 - headGroups.length - tailGroups.length).fill('0'), ...tailGroups];
  groups.slice(0, 8).forEach((g, i) => out.writeUInt16BE(Number.parseInt(g, 16) || 0, i * 2));
  if (dotted !== null) ipv4Bytes(dotted[1] ?? '').copy(out, 12);
  return out;
}

function ipv4Bytes(ip: string): Buffer {
  return Buffer.from(ip.split('.').map((p) => Number(p) & 0xff));
}

/** Both addresses in one family: an IPv4 address beside an IPv6 one becomes ::ffff:a.b.c.d. */
function addressPair(src: string, dst: string): { v6: boolean; src: Buffer; dst: Buffer } {
  if (isIPv4(src) && isIPv4(dst)) return { v6: false, src: ipv4Bytes(src), dst: ipv4Bytes(dst) };
  const six = (ip: string) => (isIPv6(ip) ? ipv6Bytes(ip) : ipv6Bytes(`::ffff:${isIPv4(ip) ? ip : '0.0.0.0'}`));
  return { v6: true, src: six(src), dst: six(dst) };
}

/** The Internet checksum (RFC 1071) over several buffers, as if concatenated. */
export function internetChecksum(parts: readonly Buffer[]): number {
  let sum = 0;
  let odd: number | null = null;
  for (const part of parts) {
    for (const byte of part) {
      if (odd === null) odd = byte;
      else {
        sum += (odd << 8) | byte;
        odd = null;
      }
    }
  }
  if (odd !== null) sum += odd << 8;
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  return ~sum & 0xffff;
}

function pseudoHeader(pair: { v6: boolean; src: Buffer; dst: Buffer }, protocol: number, length: number): Buffer {
  if (!pair.v6) {
    const tail = Buffer.alloc(4);
    tail[1] = protocol;
    tail.writeUInt16BE(length, 2);
    return Buffer.concat([pair.src, pair.dst, tail]);
  }
  const tail = Buffer.alloc(8);
  tail.writeUInt32BE(length, 0);
  tail[7] = protocol;
  return Buffer.concat([pair.src, pair.dst, tail]);
}

/** Ethernet + IP around a transport header and payload whose checksum is at `checksumAt`. */
function frame(src: Endpoint, dst: Endpoint, protocol: number, transport: Buffer, checksumAt: number, ipId: number): Buffer {
  const pair = addressPair(src.ip, dst.ip);
  let checksum = internetChecksum([pseudoHeader(pair, protocol, transport.length), transport]);
  if (protocol === PROTO_UDP && checksum === 0) checksum = 0xffff; // 0 means "none" for UDP
  transport.writeUInt16BE(checksum, checksumAt);
  const ethernet = Buffer.alloc(14);
  macBytes(dst.mac).copy(ethernet, 0);
  macBytes(src.mac).copy(ethernet, 6);
  ethernet.writeUInt16BE(pair.v6 ? ETHERTYPE_IPV6 : ETHERTYPE_IPV4, 12);
  let ip: Buffer;
  if (pair.v6) {
    ip = Buffer.alloc(40);
    ip.writeUInt32BE(0x60000000, 0);
    ip.writeUInt16BE(transport.length, 4);
    ip[6] = protocol;
    ip[7] = 64;
    pair.src.copy(ip, 8);
    pair.dst.copy(ip, 24);
  } else {
    ip = Buffer.alloc(20);
    ip[0] = 0x45;
    ip.writeUInt16BE(20 + transport.length, 2);
    ip.writeUInt16BE(ipId & 0xffff, 4);
    ip.writeUInt16BE(0x4000, 6); // don't fragment
    ip[8] = 64;
    ip[9] = protocol;
    pair.src.copy(ip, 12);
    pair.dst.copy(ip, 16);
    ip.writeUInt16BE(internetChecksum([ip]), 10);
  }
  return Buffer.concat([ethernet, ip, transport]);
}

export function udpFrame(src: Endpoint, dst: Endpoint, payload: Buffer, ipId = 0): Buffer {
  const udp = Buffer.alloc(8 + payload.length);
  udp.writeUInt16BE(src.port, 0);
  udp.writeUInt16BE(dst.port, 2);
  udp.writeUInt16BE(udp.length & 0xffff, 4);
  payload.copy(udp, 8);
  return frame(src, dst, PROTO_UDP, udp, 6, ipId);
}

export function tcpFrame(src: Endpoint, dst: Endpoint, segment: TcpSegment, payload: Buffer, ipId = 0): Buffer {
  const tcp = Buffer.alloc(20 + payload.length);
  tcp.writeUInt16BE(src.port, 0);
  tcp.writeUInt16BE(dst.port, 2);
  tcp.writeUInt32BE(segment.seq >>> 0, 4);
  tcp.writeUInt32BE(segment.ack >>> 0, 8);
  tcp[12] = 5 << 4;
  tcp[13] = segment.flags;
  tcp.writeUInt16BE(0xffff, 14);
  payload.copy(tcp, 20);
  return frame(src, dst, PROTO_TCP, tcp, 16, ipId);
}
