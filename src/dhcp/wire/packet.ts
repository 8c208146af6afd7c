// The BOOTP/DHCP message (RFC 2131 section 2, figure 1): a 236-byte fixed header, the magic
// cookie, then options. Option overload (52, RFC 2132 section 9.3) and long options (RFC 3396)
// are layout matters: the decoder folds them away, the encoder applies them when a size limit
// asks for it. decodeDhcpMessage throws only DecodeError.
import { DecodeError, DisklessError } from '../../lib/errors.ts';
import { DhcpOption } from './option-codes.ts';
import type { DhcpOptionEntry, DhcpOptions } from './options.ts';
import { encodeOptionTlv, formatIp, ipBytes, mergeFragments, readU8Option, scanOptionArea } from './options.ts';

/** Byte offsets of the fixed header (RFC 2131 figure 1). */
const Offset = {
  op: 0, htype: 1, hlen: 2, hops: 3, xid: 4, secs: 8, flags: 10,
  ciaddr: 12, yiaddr: 16, siaddr: 20, giaddr: 24, chaddr: 28, sname: 44, file: 108, cookie: 236, options: 240,
} as const;
const CHADDR_LENGTH = 16;
const SNAME_LENGTH = 64;
const FILE_LENGTH = 128;
export const MAGIC_COOKIE = 0x63825363; // RFC 2131 section 3, "99.130.83.99"
/** RFC 1542 section 2.1: BOOTP relays and old clients drop messages shorter than 300 bytes. */
export const MIN_BOOTP_LENGTH = 300;

/** Option 52 values: which fixed fields carry options. */
const Overload = { File: 1, Sname: 2, Both: 3 } as const;

export interface DhcpMessage {
  /** 1 BOOTREQUEST, 2 BOOTREPLY. */
  readonly op: number;
  /** Hardware type (1 Ethernet) and address length (6). */
  readonly htype: number;
  readonly hlen: number;
  /** Relay hops. */
  readonly hops: number;
  readonly xid: number;
  readonly secs: number;
  /** Bit 15 is the broadcast flag (BROADCAST_FLAG). */
  readonly flags: number;
  readonly ciaddr: string;
  readonly yiaddr: string;
  /** Next server (TFTP) address. */
  readonly siaddr: string;
  /** Relay agent address. */
  readonly giaddr: string;
  /** The 16-byte chaddr field as on the wire (the first hlen bytes are the hardware address). */
  readonly chaddr: Buffer;
  /** Server host name, up to the first NUL; '' when the field carried options. */
  readonly sname: string;
  /** Boot file name, up to the first NUL; '' when the field carried options. */
  readonly file: string;
  /** Options in wire order, long options concatenated, without 52 (a layout matter). */
  readonly options: DhcpOptions;
  /**
   * Bytes after the End option, as received (zero padding up to the BOOTP minimum, usually).
   * When absent the encoder pads the message to 300 bytes.
   */
  readonly padding?: Buffer;
}

export function decodeDhcpMessage(b: Buffer): DhcpMessage {
  if (b.length < Offset.options) throw new DecodeError('DHCP_TRUNCATED', `${b.length} bytes, a DHCP message has at least ${Offset.options}`);
  const cookie = b.readUInt32BE(Offset.cookie);
  // Plain BOOTP (RFC 951) has no cookie; diskless serves DHCP clients only.
  if (cookie !== MAGIC_COOKIE) throw new DecodeError('DHCP_NO_COOKIE', `magic cookie 0x${cookie.toString(16)}`);
  const hlen = b.readUInt8(Offset.hlen);
  if (hlen > CHADDR_LENGTH) throw new DecodeError('DHCP_BAD_HLEN', `hlen ${hlen} exceeds the 16-byte chaddr field`);

  const main = scanOptionArea(b.subarray(Offset.options), 'options');
  const fragments: DhcpOptionEntry[] = [...main.fragments];
  const overload = readU8Option(mergeFragments(main.fragments.filter((f) => f.code === DhcpOption.OptionOverload)), DhcpOption.OptionOverload);
  if (overload !== null && (overload < Overload.File || overload > Overload.Both)) {
    throw new DecodeError('DHCP_BAD_OVERLOAD', `option 52 value ${overload}`);
  }
  const fileArea = b.subarray(Offset.file, Offset.file + FILE_LENGTH);
  const snameArea = b.subarray(Offset.sname, Offset.sname + SNAME_LENGTH);
  const fileHoldsOptions = overload !== null && (overload & Overload.File) !== 0;
  const snameHoldsOptions = overload !== null && (overload & Overload.Sname) !== 0;
  // RFC 3396 section 7: options field, then file, then sname.
  if (fileHoldsOptions) fragments.push(...scanOptionArea(fileArea, 'file').fragments);
  if (snameHoldsOptions) fragments.push(...scanOptionArea(snameArea, 'sname').fragments);

  const padding = main.endAt === null ? Buffer.alloc(0) : Buffer.from(b.subarray(Offset.options + main.endAt));
  return {
    op: b.readUInt8(Offset.op),
    htype: b.readUInt8(Offset.htype),
    hlen,
    hops: b.readUInt8(Offset.hops),
    xid: b.readUInt32BE(Offset.xid),
    secs: b.readUInt16BE(Offset.secs),
    flags: b.readUInt16BE(Offset.flags),
    ciaddr: formatIp(b, Offset.ciaddr),
    yiaddr: formatIp(b, Offset.yiaddr),
    siaddr: formatIp(b, Offset.siaddr),
    giaddr: formatIp(b, Offset.giaddr),
    chaddr: Buffer.from(b.subarray(Offset.chaddr, Offset.chaddr + CHADDR_LENGTH)),
    sname: snameHoldsOptions ? '' : cString(snameArea),
    file: fileHoldsOptions ? '' : cString(fileArea),
    options: mergeFragments(fragments.filter((f) => f.code !== DhcpOption.OptionOverload)),
    padding,
  };
}

function cString(area: Buffer): string {
  const end = area.indexOf(0);
  return area.toString('latin1', 0, end === -1 ? area.length : end);
}

export interface EncodeOptions {
  /**
   * Largest DHCP message (UDP payload) the receiver takes. Options that do not fit in the
   * options field go to an empty file and then sname field (option 52).
   */
  readonly maxLength?: number;
}

/** A reply that cannot be fit into the receiver's limit: a program/config error, not a wire one. */
export class DhcpEncodeError extends DisklessError {
  constructor(message: string) {
    super('DHCP_REPLY_TOO_LARGE', message);
    this.name = 'DhcpEncodeError';
  }
}

export function encodeDhcpMessage(m: DhcpMessage, opts: EncodeOptions = {}): Buffer {
  const header = Buffer.alloc(Offset.options);
  header.writeUInt8(m.op, Offset.op);
  header.writeUInt8(m.htype, Offset.htype);
  header.writeUInt8(m.hlen, Offset.hlen);
  header.writeUInt8(m.hops, Offset.hops);
  header.writeUInt32BE(m.xid >>> 0, Offset.xid);
  header.writeUInt16BE(m.secs, Offset.secs);
  header.writeUInt16BE(m.flags, Offset.flags);
  ipBytes(m.ciaddr).copy(header, Offset.ciaddr);
  ipBytes(m.yiaddr).copy(header, Offset.yiaddr);
  ipBytes(m.siaddr).copy(header, Offset.siaddr);
  ipBytes(m.giaddr).copy(header, Offset.giaddr);
  m.chaddr.copy(header, Offset.chaddr, 0, CHADDR_LENGTH);
  writeField(header, Offset.sname, SNAME_LENGTH, m.sname, 'sname');
  writeField(header, Offset.file, FILE_LENGTH, m.file, 'file');
  header.writeUInt32BE(MAGIC_COOKIE, Offset.cookie);

  const entries = m.options.filter((o) => o.code !== DhcpOption.OptionOverload && o.code !== DhcpOption.Pad && o.code !== DhcpOption.End);
  const tlvs = entries.map(encodeOptionTlv);
  const needed = tlvs.reduce((n, t) => n + t.length, 0) + 1;
  const room = (opts.maxLength ?? Number.POSITIVE_INFINITY) - Offset.options;
  if (needed <= room) {
    const body = Buffer.concat([...tlvs, Buffer.from([DhcpOption.End])]);
    const padding = m.padding ?? Buffer.alloc(Math.max(0, MIN_BOOTP_LENGTH - Offset.options - body.length));
    return Buffer.concat([header, body, padding.subarray(0, Math.max(0, room - body.length))]);
  }
  return encodeOverloaded(header, m, entries, room);
}

function writeField(header: Buffer, offset: number, length: number, text: string, name: string): void {
  const bytes = Buffer.from(text, 'latin1');
  if (bytes.length > length) throw new DhcpEncodeError(`${name} is ${bytes.length} bytes, the field holds ${length}`);
  bytes.copy(header, offset);
}

interface Area {
  readonly offset: number | null; // null: the options field
  readonly capacity: number; // bytes usable for TLVs, End excluded
  readonly parts: Buffer[];
  used: number;
}

/**
 * Places whole TLVs in order into the options field, then file, then sname (RFC 3396 section 7
 * reading order). Only options longer than 255 bytes are split across areas: RFC 3396 lets a
 * receiver concatenate only what the sender split because it had to.
 */
function encodeOverloaded(header: Buffer, m: DhcpMessage, entries: DhcpOptions, room: number): Buffer {
  const areas: Area[] = [{ offset: null, capacity: room - 3 - 1, parts: [], used: 0 }];
  if (m.file === '') areas.push({ offset: Offset.file, capacity: FILE_LENGTH - 1, parts: [], used: 0 });
  if (m.sname === '') areas.push({ offset: Offset.sname, capacity: SNAME_LENGTH - 1, parts: [], used: 0 });
  let index = 0;
  const tooLarge = (): never => {
    throw new DhcpEncodeError(`options do not fit in ${room + Offset.options} bytes even with overload`);
  };
  for (const entry of entries) {
    const splittable = entry.data.length > 255;
    let offset = 0;
    // Not a do/while: `continue` there would test the exit condition, and an empty option
    // (offset 0 of length 0) that did not fit the current area would be dropped, not moved on.
    for (;;) {
      const area = areas[index] ?? tooLarge();
      const free = area.capacity - area.used;
      const wanted = Math.min(255, entry.data.length - offset);
      const take = splittable ? Math.min(wanted, free - 2) : wanted;
      if (take + 2 > free || (splittable && take < 1)) {
        index += 1;
        continue;
      }
      area.parts.push(Buffer.from([entry.code, take]), entry.data.subarray(offset, offset + take));
      area.used += 2 + take;
      offset += take;
      if (offset >= entry.data.length) break;
    }
  }
  const spill = areas.slice(1).filter((a) => a.used > 0);
  const overload = spill.reduce((v, a) => v | (a.offset === Offset.file ? Overload.File : Overload.Sname), 0);
  const main = areas[0] ?? tooLarge();
  if (overload === 0) return Buffer.concat([header, ...main.parts, Buffer.from([DhcpOption.End])]);
  const out = Buffer.concat([header, Buffer.from([DhcpOption.OptionOverload, 1, overload]), ...main.parts, Buffer.from([DhcpOption.End])]);
  for (const area of spill) {
    if (area.offset === null) continue;
    const bytes = Buffer.concat([...area.parts, Buffer.from([DhcpOption.End])]);
    out.fill(0, area.offset, area.offset + (area.offset === Offset.file ? FILE_LENGTH : SNAME_LENGTH));
    bytes.copy(out, area.offset);
  }
  return out;
}

/** Option 53, or null for a BOOTP-style message without one. */
export function readMessageType(m: DhcpMessage): number | null {
  return readU8Option(m.options, DhcpOption.MessageType);
}

/** The client hardware address as lower-case colon-separated hex (first hlen bytes of chaddr). */
export function clientMac(m: DhcpMessage): string {
  return [...m.chaddr.subarray(0, m.hlen)].map((x) => x.toString(16).padStart(2, '0')).join(':');
}
