// The DHCP option list codec (RFC 2132 section 2, RFC 3396 long options). The same TLV walk
// serves the options field, the overloaded file/sname fields and encapsulated option spaces
// (43 PXE vendor options, 175 iPXE). Decoders throw only DecodeError.
import { DecodeError } from '../../lib/errors.ts';
import { DhcpOption } from './option-codes.ts';

export interface DhcpOptionEntry {
  readonly code: number;
  /** The value; for a long option (RFC 3396) the concatenation of every fragment, in order. */
  readonly data: Buffer;
}
export type DhcpOptions = readonly DhcpOptionEntry[];

interface AreaScan {
  readonly fragments: DhcpOptionEntry[];
  /** Offset just after the End option, or null when the area ran out without one. */
  readonly endAt: number | null;
}

/** Walks one TLV area. Pad (0) is skipped; End (255) stops the walk. */
export function scanOptionArea(area: Buffer, where: string): AreaScan {
  const fragments: DhcpOptionEntry[] = [];
  let i = 0;
  while (i < area.length) {
    const code = area[i] ?? DhcpOption.End;
    if (code === DhcpOption.Pad) {
      i += 1;
      continue;
    }
    if (code === DhcpOption.End) return { fragments, endAt: i + 1 };
    const length = area[i + 1];
    if (length === undefined) throw new DecodeError('DHCP_OPTION_TRUNCATED', `${where}: option ${code} at ${i} has no length byte`);
    if (i + 2 + length > area.length) {
      throw new DecodeError('DHCP_OPTION_TRUNCATED', `${where}: option ${code} at ${i} needs ${length} bytes, ${area.length - i - 2} left`);
    }
    fragments.push({ code, data: area.subarray(i + 2, i + 2 + length) });
    i += 2 + length;
  }
  return { fragments, endAt: null };
}

/**
 * RFC 3396 section 7: all instances of one code, in the order met (options field, then file,
 * then sname), form one value. The result keeps the order of first appearance.
 */
export function mergeFragments(fragments: readonly DhcpOptionEntry[]): DhcpOptionEntry[] {
  const parts = new Map<number, Buffer[]>();
  for (const f of fragments) {
    const list = parts.get(f.code);
    if (list === undefined) parts.set(f.code, [f.data]);
    else list.push(f.data);
  }
  return [...parts].map(([code, list]) => ({ code, data: list.length === 1 ? Buffer.from(list[0] ?? []) : Buffer.concat(list) }));
}

/** TLV bytes for one option, split into 255-byte fragments when longer (RFC 3396 section 6). */
export function encodeOptionTlv(entry: DhcpOptionEntry): Buffer {
  const chunks: Buffer[] = [];
  let offset = 0;
  do {
    const piece = entry.data.subarray(offset, offset + 255);
    chunks.push(Buffer.from([entry.code, piece.length]), piece);
    offset += 255;
  } while (offset < entry.data.length);
  return Buffer.concat(chunks);
}

/** Encapsulated options (43, 175): a TLV list of their own, with pad/end like the outer list. */
export function decodeEncapsulated(data: Buffer, where: string): DhcpOptionEntry[] {
  return mergeFragments(scanOptionArea(data, where).fragments);
}

/** PXE 2.1 terminates the option 43 list with End; iPXE's 175 carries none. */
export function encodeEncapsulated(entries: DhcpOptions, opts: { end: boolean }): Buffer {
  const parts = entries.map(encodeOptionTlv);
  if (opts.end) parts.push(Buffer.from([DhcpOption.End]));
  return Buffer.concat(parts);
}

export function findOption(options: DhcpOptions, code: number): Buffer | null {
  return options.find((o) => o.code === code)?.data ?? null;
}

// Typed readers: a value of the wrong length is a malformed packet, hence a DecodeError.

function fixed(options: DhcpOptions, code: number, length: number): Buffer | null {
  const data = findOption(options, code);
  if (data === null) return null;
  if (data.length !== length) throw new DecodeError('DHCP_OPTION_LENGTH', `option ${code} has ${data.length} bytes, expected ${length}`);
  return data;
}

export function readU8Option(options: DhcpOptions, code: number): number | null {
  return fixed(options, code, 1)?.readUInt8(0) ?? null;
}

export function readU16Option(options: DhcpOptions, code: number): number | null {
  return fixed(options, code, 2)?.readUInt16BE(0) ?? null;
}

export function readU32Option(options: DhcpOptions, code: number): number | null {
  return fixed(options, code, 4)?.readUInt32BE(0) ?? null;
}

export function readIpOption(options: DhcpOptions, code: number): string | null {
  const data = fixed(options, code, 4);
  return data === null ? null : formatIp(data, 0);
}

/** Text options (60, 66, 67, ...): bytes as Latin-1, a trailing NUL that some clients add removed. */
export function readStringOption(options: DhcpOptions, code: number): string | null {
  const data = findOption(options, code);
  if (data === null) return null;
  const end = data.indexOf(0);
  return data.toString('latin1', 0, end === -1 ? data.length : end);
}

/** Option 55: the codes the client asked for, in its order. */
export function readParameterRequestList(options: DhcpOptions): readonly number[] | null {
  const data = findOption(options, DhcpOption.ParameterRequestList);
  return data === null ? null : [...data];
}

/** Option 93 (RFC 4578 section 2.1): a list of 16-bit architecture types; the first one counts. */
export function readClientArch(options: DhcpOptions): number | null {
  const data = findOption(options, DhcpOption.ClientSystemArchitecture);
  if (data === null) return null;
  if (data.length < 2 || data.length % 2 !== 0) throw new DecodeError('DHCP_OPTION_LENGTH', `option 93 has ${data.length} bytes, expected a multiple of 2`);
  return data.readUInt16BE(0);
}

/**
 * Option 77. RFC 3004 says a list of length-prefixed classes; iPXE, gPXE and many others send
 * the plain string ("iPXE"). Read it as RFC 3004 when the length bytes tile the value exactly,
 * otherwise as one plain string. "\x04iPXE" and "iPXE" both give ["iPXE"].
 */
export function decodeUserClass(data: Buffer): string[] {
  const classes: string[] = [];
  let i = 0;
  while (i < data.length) {
    const length = data[i] ?? 0;
    if (length === 0 || i + 1 + length > data.length) return [data.toString('latin1')];
    classes.push(data.toString('latin1', i + 1, i + 1 + length));
    i += 1 + length;
  }
  return classes.length === 0 ? [data.toString('latin1')] : classes;
}

/** RFC 3004 form: each class as a length byte then its bytes. */
export function encodeUserClass(classes: readonly string[]): Buffer {
  return Buffer.concat(classes.map((c) => {
    const text = Buffer.from(c, 'latin1');
    if (text.length === 0 || text.length > 255) throw new RangeError(`user class length ${text.length} not in 1..255`);
    return Buffer.concat([Buffer.from([text.length]), text]);
  }));
}

/**
 * Option 97 (RFC 4578 section 2.3): type 0 then a 16-byte UUID, returned as lower-case hex.
 * Some ROMs send other lengths or types; the identifier is informational, so such a value reads
 * as null rather than failing the whole request.
 */
export function readClientMachineId(options: DhcpOptions): string | null {
  const data = findOption(options, DhcpOption.ClientMachineId);
  if (data === null || data.length !== 17 || data[0] !== 0) return null;
  return data.toString('hex', 1);
}

export function formatIp(b: Buffer, offset: number): string {
  return `${b[offset] ?? 0}.${b[offset + 1] ?? 0}.${b[offset + 2] ?? 0}.${b[offset + 3] ?? 0}`;
}

/** Dotted quad to a 32-bit number; a program error (not a DecodeError) when malformed. */
export function ipToNumber(ip: string): number {
  const n = parseIpv4(ip);
  if (n < 0) throw new RangeError(`not an IPv4 address: ${ip}`);
  return n;
}

/**
 * Dotted quad to a 32-bit number, or -1 when it is not one. Parsed by hand, not with a regular
 * expression: address checks run several times per packet.
 */
export function parseIpv4(ip: string): number {
  let value = 0;
  let part = 0;
  let digits = 0;
  let dots = 0;
  for (let i = 0; i < ip.length; i++) {
    const c = ip.charCodeAt(i);
    if (c >= 48 && c <= 57) {
      part = part * 10 + (c - 48);
      digits += 1;
      if (digits > 3 || part > 255) return -1;
    } else if (c === 46 && digits > 0 && dots < 3) {
      value = value * 256 + part;
      part = 0;
      digits = 0;
      dots += 1;
    } else {
      return -1;
    }
  }
  if (dots !== 3 || digits === 0) return -1;
  return value * 256 + part;
}

export function numberToIp(n: number): string {
  return `${(n >>> 24) & 255}.${(n >>> 16) & 255}.${(n >>> 8) & 255}.${n & 255}`;
}

export function ipBytes(ip: string): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(ipToNumber(ip), 0);
  return b;
}

export function u32Bytes(n: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(n >>> 0, 0);
  return b;
}
