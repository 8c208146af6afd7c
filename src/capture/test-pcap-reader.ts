// Test support only: imported by *.test.ts files and interop tests.
// Reads back the pcap files the captures write: the records, and each frame's Ethernet, IPv4
// or IPv6, UDP or TCP fields with the payload, and whether every checksum adds up.
import { internetChecksum } from './packet-frames.ts';

export interface PcapPacket {
  readonly atMicros: number;
  readonly etherType: number;
  readonly srcMac: string;
  readonly dstMac: string;
  readonly srcIp: string;
  readonly dstIp: string;
  readonly protocol: 'tcp' | 'udp' | 'other';
  readonly srcPort: number;
  readonly dstPort: number;
  /** TCP only. */
  readonly seq: number;
  readonly ack: number;
  readonly flags: number;
  readonly payload: Buffer;
  readonly checksumsOk: boolean;
}

export function readPcap(file: Buffer): { linkType: number; packets: PcapPacket[] } {
  if (file.readUInt32LE(0) !== 0xa1b2c3d4) throw new Error('not a little-endian microsecond pcap file');
  const linkType = file.readUInt32LE(20);
  const packets: PcapPacket[] = [];
  for (let at = 24; at < file.length; ) {
    const captured = file.readUInt32LE(at + 8);
    const atMicros = file.readUInt32LE(at) * 1e6 + file.readUInt32LE(at + 4);
    packets.push(decodeFrame(file.subarray(at + 16, at + 16 + captured), atMicros));
    at += 16 + captured;
  }
  return { linkType, packets };
}

const mac = (b: Buffer): string => [...b].map((x) => x.toString(16).padStart(2, '0')).join(':');

function decodeFrame(frame: Buffer, atMicros: number): PcapPacket {
  const etherType = frame.readUInt16BE(12);
  const ip = frame.subarray(14);
  const v6 = etherType === 0x86dd;
  const headerLength = v6 ? 40 : ((ip[0] ?? 0) & 0x0f) * 4;
  const proto = v6 ? (ip[6] ?? 0) : (ip[9] ?? 0);
  const src = v6 ? ip.subarray(8, 24) : ip.subarray(12, 16);
  const dst = v6 ? ip.subarray(24, 40) : ip.subarray(16, 20);
  const text = (b: Buffer): string => (v6 ? (b.toString('hex').match(/..../g) ?? []).join(':') : [...b].join('.'));
  const transport = ip.subarray(headerLength);
  const pseudo = v6
    ? Buffer.concat([src, dst, Buffer.from([0, 0, transport.length >> 8, transport.length & 255, 0, 0, 0, proto])])
    : Buffer.concat([src, dst, Buffer.from([0, proto, transport.length >> 8, transport.length & 255])]);
  const transportOk = internetChecksum([pseudo, transport]) === 0;
  const ipOk = v6 || internetChecksum([ip.subarray(0, headerLength)]) === 0;
  const tcp = proto === 6;
  const payloadAt = tcp ? ((transport[12] ?? 0) >> 4) * 4 : 8;
  return {
    atMicros,
    etherType,
    dstMac: mac(frame.subarray(0, 6)),
    srcMac: mac(frame.subarray(6, 12)),
    srcIp: text(src),
    dstIp: text(dst),
    protocol: tcp ? 'tcp' : proto === 17 ? 'udp' : 'other',
    srcPort: transport.readUInt16BE(0),
    dstPort: transport.readUInt16BE(2),
    seq: tcp ? transport.readUInt32BE(4) : 0,
    ack: tcp ? transport.readUInt32BE(8) : 0,
    flags: tcp ? (transport[13] ?? 0) : 0,
    payload: transport.subarray(payloadAt),
    checksumsOk: ipOk && transportOk,
  };
}
