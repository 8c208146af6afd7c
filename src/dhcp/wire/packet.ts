// The BOOTP/DHCP message (RFC 2131 section 2, figure 1): a 236-byte fixed header, the magic
// cookie, then options. Option overload (52, RFC 2132 section 9.3) and long options (RFC 3396)
// are layout matters: the decoder folds them away, the encoder applies them when a size limit
// asks for it. decodeDhcpMessage throws only DecodeError.
import { DecodeError, DisklessError } from '../../lib/errors.ts';
import { DhcpOption } from './option-codes.ts';
import type { DhcpOptionEntry, DhcpOptions } from './options.ts';
import { formatIp, ipToNumber, mergeFragments, readU8Option, scanOptionArea } from './options.ts';

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

export function decodeDhcpMessage(input: Buffer): DhcpMessage {
  if (input.length < Offset.options) throw new DecodeError('DHCP_TRUNCATED', `${input.length} bytes, a DHCP message has at least ${Offset.options}`);
  const cookie = input.readUInt32BE(Offset.cookie);
  // Plain BOOTP (RFC 951) has no cookie; diskless serves DHCP clients only.
  if (cookie !== MAGIC_COOKIE) throw new DecodeError('DHCP_NO_COOKIE', `magic cookie 0x${cookie.toString(16)}`);
  const hlen = input.readUInt8(Offset.hlen);
  if (hlen > CHADDR_LENGTH) throw new DecodeError('DHCP_BAD_HLEN', `hlen ${hlen} exceeds the 16-byte chaddr field`);
  // One copy of the whole datagram, so that the message never aliases the caller's buffer; the
  // option values, chaddr and padding are views of that copy (one allocation, not one per option).
  const b = Buffer.allocUnsafe(input.length);
  input.copy(b);

  const main = scanOptionArea(b.subarray(Offset.options), 'options');
  let overload: number | null = null;
  if (main.fragments.some((f) => f.code === DhcpOption.OptionOverload)) {
    overload = readU8Option(mergeFragments(main.fragments.filter((f) => f.code === DhcpOption.OptionOverload)), DhcpOption.OptionOverload);
    if (overload !== null && (overload < Overload.File || overload > Overload.Both)) {
      throw new DecodeError('DHCP_BAD_OVERLOAD', `option 52 value ${overload}`);
    }
  }
  const fileArea = b.subarray(Offset.file, Offset.file + FILE_LENGTH);
  const snameArea = b.subarray(Offset.sname, Offset.sname + SNAME_LENGTH);
  const fileHoldsOptions = overload !== null && (overload & Overload.File) !== 0;
  const snameHoldsOptions = overload !== null && (overload & Overload.Sname) !== 0;
  let options: DhcpOptionEntry[];
  if (overload === null) {
    options = foldFragments(main.fragments);
  } else {
    const fragments: DhcpOptionEntry[] = [...main.fragments];
    // RFC 3396 section 7: options field, then file, then sname.
    if (fileHoldsOptions) fragments.push(...scanOptionArea(fileArea, 'file').fragments);
    if (snameHoldsOptions) fragments.push(...scanOptionArea(snameArea, 'sname').fragments);
    options = mergeFragments(fragments.filter((f) => f.code !== DhcpOption.OptionOverload));
  }

  const padding = main.endAt === null ? Buffer.alloc(0) : b.subarray(Offset.options + main.endAt);
  // Plain byte reads: the length was checked above.
  return {
    op: b[Offset.op] ?? 0,
    htype: b[Offset.htype] ?? 0,
    hlen,
    hops: b[Offset.hops] ?? 0,
    xid: get32(b, Offset.xid),
    secs: ((b[Offset.secs] ?? 0) << 8) | (b[Offset.secs + 1] ?? 0),
    flags: ((b[Offset.flags] ?? 0) << 8) | (b[Offset.flags + 1] ?? 0),
    ciaddr: formatIp(b, Offset.ciaddr),
    yiaddr: formatIp(b, Offset.yiaddr),
    siaddr: formatIp(b, Offset.siaddr),
    giaddr: formatIp(b, Offset.giaddr),
    chaddr: b.subarray(Offset.chaddr, Offset.chaddr + CHADDR_LENGTH),
    sname: snameHoldsOptions ? '' : cString(snameArea),
    file: fileHoldsOptions ? '' : cString(fileArea),
    options,
    padding,
  };
}

/**
 * The options field's fragments as options: as they are when every code appears once (the usual
 * case), else merged (RFC 3396 section 7).
 */
function foldFragments(fragments: DhcpOptionEntry[]): DhcpOptionEntry[] {
  // Codes seen in this call are marked with this call's stamp: no array to allocate or clear.
  foldStamp = foldStamp >= 0xfffffffe ? 1 : foldStamp + 1;
  if (foldStamp === 1) seenStamp.fill(0);
  for (const f of fragments) {
    if (seenStamp[f.code] === foldStamp) return mergeFragments(fragments);
    seenStamp[f.code] = foldStamp;
  }
  return fragments;
}
const seenStamp = new Uint32Array(256);
let foldStamp = 0;

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

/** TLV bytes an option takes, split into 255-byte fragments when longer (RFC 3396 section 6). */
function tlvLength(dataLength: number): number {
  return dataLength === 0 ? 2 : dataLength + 2 * Math.ceil(dataLength / 255);
}

function isLayoutOption(code: number): boolean {
  return code === DhcpOption.OptionOverload || code === DhcpOption.Pad || code === DhcpOption.End;
}

export function encodeDhcpMessage(m: DhcpMessage, opts: EncodeOptions = {}): Buffer {
  let needed = 1; // End
  for (const o of m.options) if (!isLayoutOption(o.code)) needed += tlvLength(o.data.length);
  const room = (opts.maxLength ?? Number.POSITIVE_INFINITY) - Offset.options;
  if (needed > room) {
    const header = Buffer.alloc(Offset.options);
    writeHeader(header, m);
    return encodeOverloaded(header, m, m.options.filter((o) => !isLayoutOption(o.code)), room);
  }
  // The common case: everything fits the options field. One buffer, written in place.
  const padding = m.padding;
  const paddingLength = Math.min(padding?.length ?? Math.max(0, MIN_BOOTP_LENGTH - Offset.options - needed), Math.max(0, room - needed));
  const out = Buffer.allocUnsafe(Offset.options + needed + paddingLength).fill(0);
  writeHeader(out, m);
  let at = Offset.options;
  for (const o of m.options) {
    if (isLayoutOption(o.code)) continue;
    const data = o.data;
    let offset = 0;
    do {
      const take = Math.min(255, data.length - offset);
      out[at] = o.code;
      out[at + 1] = take;
      // Most options are a few bytes: a loop beats a native copy call for those.
      if (take <= 16) for (let i = 0; i < take; i++) out[at + 2 + i] = data[offset + i] ?? 0;
      else data.copy(out, at + 2, offset, offset + take);
      at += 2 + take;
      offset += 255;
    } while (offset < data.length);
  }
  out[at] = DhcpOption.End;
  if (padding !== undefined) padding.copy(out, at + 1, 0, paddingLength);
  return out;
}

function writeHeader(header: Buffer, m: DhcpMessage): void {
  // Plain byte stores: this runs for every reply, and Buffer's checked writers cost more than
  // the whole rest of the header.
  header[Offset.op] = m.op;
  header[Offset.htype] = m.htype;
  header[Offset.hlen] = m.hlen;
  header[Offset.hops] = m.hops;
  put32(header, Offset.xid, m.xid);
  header[Offset.secs] = m.secs >>> 8;
  header[Offset.secs + 1] = m.secs;
  header[Offset.flags] = m.flags >>> 8;
  header[Offset.flags + 1] = m.flags;
  put32(header, Offset.ciaddr, ipToNumber(m.ciaddr));
  put32(header, Offset.yiaddr, ipToNumber(m.yiaddr));
  put32(header, Offset.siaddr, ipToNumber(m.siaddr));
  put32(header, Offset.giaddr, ipToNumber(m.giaddr));
  const chaddr = m.chaddr;
  const length = Math.min(chaddr.length, CHADDR_LENGTH);
  for (let i = 0; i < length; i++) header[Offset.chaddr + i] = chaddr[i] ?? 0;
  writeField(header, Offset.sname, SNAME_LENGTH, m.sname, 'sname');
  writeField(header, Offset.file, FILE_LENGTH, m.file, 'file');
  put32(header, Offset.cookie, MAGIC_COOKIE);
}

function get32(b: Buffer, offset: number): number {
  return (((b[offset] ?? 0) << 24) | ((b[offset + 1] ?? 0) << 16) | ((b[offset + 2] ?? 0) << 8) | (b[offset + 3] ?? 0)) >>> 0;
}

function put32(b: Buffer, offset: number, value: number): void {
  b[offset] = value >>> 24;
  b[offset + 1] = value >>> 16;
  b[offset + 2] = value >>> 8;
  b[offset + 3] = value;
}

function writeField(header: Buffer, offset: number, length: number, text: string, name: string): void {
  // Latin-1: one byte per character, as Buffer.from(text, 'latin1') would give.
  if (text.length > length) throw new DhcpEncodeError(`${name} is ${text.length} bytes, the field holds ${length}`);
  if (text.length > 0) header.write(text, offset, length, 'latin1');
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

const HEX_BYTE = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));

/** The client hardware address as lower-case colon-separated hex (first hlen bytes of chaddr). */
export function clientMac(m: DhcpMessage): string {
  const length = Math.min(m.hlen, m.chaddr.length);
  let out = '';
  for (let i = 0; i < length; i++) out += i === 0 ? HEX_BYTE[m.chaddr[i] ?? 0] : `:${HEX_BYTE[m.chaddr[i] ?? 0]}`;
  return out;
}
