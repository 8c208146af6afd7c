// The "key=value\0" text format of Login and Text PDUs (RFC 7143 section 6.1), and the value
// encodings CHAP and the negotiation keys use: decimal, hex "0x..", base64 "0b..".
// Decoders throw only DecodeError; encoders throw DisklessError for values we must never send.
import { DecodeError, DisklessError } from '../lib/errors.ts';

/** A key-name must not exceed 63 characters (RFC 7143 section 6.1, standard-label). */
export const MAX_KEY_LENGTH = 63;
/** An individual value is at most 255 bytes (RFC 7143 section 6.1)... */
export const MAX_VALUE_LENGTH = 255;
/** ...except the authentication keys carrying large binary values (CHAP_C, CHAP_R, SRP, Kerberos, SPKM). */
export const MAX_LONG_VALUE_LENGTH = 8192;

const NUL = 0x00;
const EQUALS = 0x3d;

/** Keys whose values are large-binary-values (RFC 7143 sections 12.1-12.4, RFC 1994 for CHAP). */
export function isLongValueKey(key: string): boolean {
  return key === 'CHAP_C' || key === 'CHAP_R' || key.startsWith('SRP_') || key.startsWith('KRB_') || key.startsWith('SPKM');
}

/**
 * Split a (logical) text data segment into [key, value] pairs, in order and with duplicates
 * kept so the caller can reject a repeated key (RFC 7143 section 6.2). Tolerances for real
 * initiators: the NUL after the last pair may be missing, and empty items (consecutive NULs,
 * NUL padding) are skipped. Errors: ISCSI_TEXT_NO_EQUALS (a pair without '='),
 * ISCSI_TEXT_EMPTY_KEY, ISCSI_TEXT_KEY_TOO_LONG, ISCSI_TEXT_VALUE_TOO_LONG.
 * Keys and values are decoded as UTF-8 (RFC 7143 section 6.1).
 */
export function decodeTextKeys(data: Buffer): Array<[string, string]> {
  const pairs: Array<[string, string]> = [];
  let start = 0;
  while (start < data.length) {
    let end = data.indexOf(NUL, start);
    if (end < 0) end = data.length;
    if (end > start) pairs.push(decodePair(data, start, end));
    start = end + 1;
  }
  return pairs;
}

function decodePair(data: Buffer, start: number, end: number): [string, string] {
  const eq = data.indexOf(EQUALS, start);
  if (eq < 0 || eq >= end) {
    throw new DecodeError('ISCSI_TEXT_NO_EQUALS', `text item at byte ${start} has no '='`);
  }
  const keyLength = eq - start;
  if (keyLength === 0) throw new DecodeError('ISCSI_TEXT_EMPTY_KEY', `text item at byte ${start} has an empty key`);
  if (keyLength > MAX_KEY_LENGTH) {
    throw new DecodeError('ISCSI_TEXT_KEY_TOO_LONG', `key of ${keyLength} bytes at byte ${start} exceeds ${MAX_KEY_LENGTH}`);
  }
  const key = data.toString('utf8', start, eq);
  const valueLength = end - eq - 1;
  const limit = isLongValueKey(key) ? MAX_LONG_VALUE_LENGTH : MAX_VALUE_LENGTH;
  if (valueLength > limit) {
    throw new DecodeError('ISCSI_TEXT_VALUE_TOO_LONG', `value of ${key} is ${valueLength} bytes, limit ${limit}`);
  }
  return [key, data.toString('utf8', eq + 1, end)];
}

/** "key=value\0" for each pair, in order (RFC 7143 section 6.1: every pair ends with NUL). */
export function encodeTextKeys(pairs: ReadonlyArray<readonly [string, string]>): Buffer {
  let length = 0;
  for (const [key, value] of pairs) {
    if (key.length === 0 || key.includes('=') || key.includes('\0') || value.includes('\0')) {
      throw new DisklessError('ISCSI_TEXT_BAD_PAIR', `cannot encode text pair ${JSON.stringify([key, value])}`);
    }
    length += Buffer.byteLength(key) + Buffer.byteLength(value) + 2;
  }
  const out = Buffer.allocUnsafe(length);
  let off = 0;
  for (const [key, value] of pairs) {
    off += out.write(key, off);
    out[off++] = EQUALS;
    off += out.write(value, off);
    out[off++] = NUL;
  }
  return out;
}

const HEX_CONSTANT = /^0[xX]([0-9a-fA-F]+)$/;
const BASE64_CONSTANT = /^0[bB]([A-Za-z0-9+/]+)(={0,2})$/;
const DECIMAL_CONSTANT = /^[0-9]{1,20}$/;

/**
 * A binary value as hex-constant ("0x" or "0X" + hex digits) or base64-constant ("0b"/"0B" +
 * RFC 4648 base64) (RFC 7143 section 6.1). An odd number of hex digits has an implicit leading
 * zero nibble (byte-length (n + 1) / 2). Base64 padding may be omitted (tolerance), but when
 * present must complete a 4-character group. Throws DecodeError ISCSI_TEXT_BAD_BINARY.
 */
export function decodeBinaryValue(s: string): Buffer {
  const hex = HEX_CONSTANT.exec(s);
  if (hex !== null) {
    const digits = hex[1] ?? '';
    return Buffer.from(digits.length % 2 === 0 ? digits : `0${digits}`, 'hex');
  }
  const b64 = BASE64_CONSTANT.exec(s);
  if (b64 !== null) {
    const body = b64[1] ?? '';
    const padding = b64[2] ?? '';
    const total = body.length + padding.length;
    // A lone trailing character encodes fewer than 8 bits; padding must end a 4-char group.
    if (body.length % 4 !== 1 && (padding.length === 0 || total % 4 === 0)) {
      return Buffer.from(body, 'base64');
    }
  }
  throw new DecodeError('ISCSI_TEXT_BAD_BINARY', `not a hex or base64 constant: ${JSON.stringify(s.slice(0, 40))}`);
}

/**
 * A numerical value as decimal, hex or base64 constant (RFC 7143 section 6.1). Values above
 * Number.MAX_SAFE_INTEGER are rejected (no negotiated key needs them). Throws DecodeError
 * ISCSI_TEXT_BAD_NUMBER or ISCSI_TEXT_NUMBER_TOO_LARGE.
 */
export function decodeNumber(s: string): number {
  let value: bigint;
  if (DECIMAL_CONSTANT.test(s)) {
    value = BigInt(s);
  } else if (HEX_CONSTANT.test(s) || BASE64_CONSTANT.test(s)) {
    let bytes: Buffer;
    try {
      bytes = decodeBinaryValue(s);
    } catch {
      throw new DecodeError('ISCSI_TEXT_BAD_NUMBER', `not a number: ${JSON.stringify(s.slice(0, 40))}`);
    }
    value = bytes.length === 0 ? 0n : BigInt(`0x${bytes.toString('hex')}`);
  } else {
    throw new DecodeError('ISCSI_TEXT_BAD_NUMBER', `not a number: ${JSON.stringify(s.slice(0, 40))}`);
  }
  if (value > BigInt(Number.MAX_SAFE_INTEGER)) {
    throw new DecodeError('ISCSI_TEXT_NUMBER_TOO_LARGE', `number ${s.slice(0, 40)} is too large`);
  }
  return Number(value);
}

/** "0x" + lowercase hex, the encoding CHAP_C/CHAP_R use on the wire (RFC 7143 section 6.1). */
export function encodeHex(buf: Buffer): string {
  return `0x${buf.toString('hex')}`;
}

/** "0b" + padded base64 (RFC 7143 section 6.1, RFC 4648). */
export function encodeBase64(buf: Buffer): string {
  return `0b${buf.toString('base64')}`;
}
