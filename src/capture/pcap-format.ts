// The classic libpcap file format (https://www.tcpdump.org/manpages/pcap-savefile.5.html):
// a 24-byte file header, then per packet a 16-byte record header and the frame. Little-endian,
// microsecond timestamps, LINKTYPE_ETHERNET. Pure.

export const LINKTYPE_ETHERNET = 1;
/** Frames are at most one TCP segment of packet-frames.ts's size plus headers; tcpdump's default. */
export const PCAP_SNAPLEN = 262144;
const MAGIC_MICROSECONDS = 0xa1b2c3d4;

export function pcapFileHeader(): Buffer {
  const header = Buffer.alloc(24);
  header.writeUInt32LE(MAGIC_MICROSECONDS, 0);
  header.writeUInt16LE(2, 4); // version 2.4
  header.writeUInt16LE(4, 6);
  header.writeInt32LE(0, 8); // timestamps are UTC
  header.writeUInt32LE(0, 12); // accuracy, always 0
  header.writeUInt32LE(PCAP_SNAPLEN, 16);
  header.writeUInt32LE(LINKTYPE_ETHERNET, 20);
  return header;
}

/** One packet record: its header (time in microseconds since the epoch) followed by the frame. */
export function pcapRecord(atMicros: number, frame: Buffer): Buffer {
  const captured = Math.min(frame.length, PCAP_SNAPLEN);
  const record = Buffer.allocUnsafe(16 + captured);
  const seconds = Math.floor(atMicros / 1e6);
  record.writeUInt32LE(seconds >>> 0, 0);
  record.writeUInt32LE(Math.floor(atMicros - seconds * 1e6), 4);
  record.writeUInt32LE(captured, 8);
  record.writeUInt32LE(frame.length, 12);
  frame.copy(record, 16, 0, captured);
  return record;
}
