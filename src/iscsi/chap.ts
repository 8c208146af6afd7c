// CHAP (RFC 1994) as used by iSCSI (RFC 7143 section 12.1.3). Pure functions: randomness comes
// from the caller, so tests are deterministic. Only MD5 (CHAP_A=5) is supported.
import { createHash, timingSafeEqual } from 'node:crypto';
import { LoginError, LoginStatus } from './login-status.ts';

/** RFC 1994 / IANA PPP authentication algorithm number for CHAP with MD5. */
export const CHAP_ALGORITHM_MD5 = 5;
/** Length of the challenges we send; RFC 7143 12.1.3 asks for at least the hash length. */
export const CHAP_CHALLENGE_LENGTH = 16;
/** Longest challenge we accept from an initiator (RFC 7143 12.1.3 caps CHAP_C at 1024 bytes). */
export const CHAP_MAX_CHALLENGE_LENGTH = 1024;
/** MD5 digest length: CHAP_R must be exactly this long. */
export const CHAP_RESPONSE_LENGTH = 16;

export interface ChapCredentials {
  readonly user: string;
  /** The shared secret; a string is used as its UTF-8 bytes. */
  readonly secret: string | Buffer;
}

export interface ChapChallenge {
  /** CHAP identifier, 0..255 (RFC 1994 section 4.1). */
  readonly id: number;
  readonly challenge: Buffer;
}

/** Source of random bytes; node:crypto's randomBytes in production, a fixed stream in tests. */
export type RandomBytes = (length: number) => Buffer;

function authFailure(code: string, message: string): LoginError {
  return new LoginError(LoginStatus.AuthenticationFailure, code, message);
}

export function createChallenge(random: RandomBytes): ChapChallenge {
  const bytes = random(1 + CHAP_CHALLENGE_LENGTH);
  if (bytes.length < 1 + CHAP_CHALLENGE_LENGTH) {
    throw new LoginError(LoginStatus.TargetError, 'CHAP_RANDOM_SHORT', 'random source returned too few bytes');
  }
  return { id: bytes[0] ?? 0, challenge: Buffer.from(bytes.subarray(1, 1 + CHAP_CHALLENGE_LENGTH)) };
}

/** RFC 1994 section 4.1: Response = MD5(Identifier || secret || Challenge). */
export function chapResponse(id: number, secret: string | Buffer, challenge: Buffer): Buffer {
  const secretBytes = typeof secret === 'string' ? Buffer.from(secret, 'utf8') : secret;
  return createHash('md5')
    .update(Buffer.of(id & 0xff))
    .update(secretBytes)
    .update(challenge)
    .digest();
}

/** Constant-time check of an initiator's CHAP_R. */
export function verifyChapResponse(id: number, secret: string | Buffer, challenge: Buffer, response: Buffer): boolean {
  const expected = chapResponse(id, secret, challenge);
  if (response.length !== expected.length) return false;
  return timingSafeEqual(expected, response);
}

/**
 * Pick the algorithm from the initiator's CHAP_A list (RFC 7143 12.1.3). Only MD5 (5) is
 * supported; anything else is an authentication failure. RFC 7143 12.1.3: "the target MUST
 * answer with a Login reject with the 'Authentication Failure' status or reply with CHAP_A=<A>
 * CHAP_I=<I> CHAP_C=<C>": the reject is the answer, there is no CHAP_A=Reject.
 */
export function selectChapAlgorithm(value: string): number {
  const offered = value.split(',').map((s) => s.trim());
  if (offered.includes(String(CHAP_ALGORITHM_MD5))) return CHAP_ALGORITHM_MD5;
  throw authFailure('CHAP_ALGORITHM_UNSUPPORTED', `CHAP_A=${value.slice(0, 64)} does not offer MD5 (5)`);
}

/** CHAP_I is a numerical value, decimal or 0x-hex (RFC 7143 section 6.1), within 0..255. */
export function parseChapId(value: string): number {
  let n = Number.NaN;
  if (/^[0-9]{1,3}$/.test(value)) n = Number.parseInt(value, 10);
  else if (/^0[xX][0-9a-fA-F]{1,2}$/.test(value)) n = Number.parseInt(value.slice(2), 16);
  if (!Number.isInteger(n) || n < 0 || n > 255) throw authFailure('CHAP_I_INVALID', `bad CHAP_I ${value.slice(0, 16)}`);
  return n;
}

/**
 * Decode a binary value (RFC 7143 section 6.1): "0x"/"0X" then hex digits (an odd count gets
 * an implied leading zero), or "0b"/"0B" then base64 with padding. Returns null when malformed.
 */
export function decodeChapBinary(value: string): Buffer | null {
  const prefix = value.slice(0, 2);
  const body = value.slice(2);
  if (body.length === 0) return null;
  if (prefix === '0x' || prefix === '0X') {
    if (!/^[0-9a-fA-F]+$/.test(body)) return null;
    return Buffer.from(body.length % 2 === 1 ? `0${body}` : body, 'hex');
  }
  if (prefix === '0b' || prefix === '0B') {
    if (body.length % 4 !== 0 || !/^[A-Za-z0-9+/]+={0,2}$/.test(body)) return null;
    return Buffer.from(body, 'base64');
  }
  return null;
}

/** Encode a binary value the way every initiator accepts: "0x" and lower-case hex. */
export function encodeChapBinary(bytes: Buffer): string {
  return `0x${bytes.toString('hex')}`;
}

/** Parse CHAP_R: a binary value of exactly the MD5 length. */
export function parseChapResponse(value: string): Buffer {
  // A hex value is 2 chars per byte: bound the length before decoding anything.
  if (value.length > 2 + 4 * CHAP_RESPONSE_LENGTH) throw authFailure('CHAP_R_INVALID', 'CHAP_R too long');
  const bytes = decodeChapBinary(value);
  if (bytes?.length !== CHAP_RESPONSE_LENGTH) throw authFailure('CHAP_R_INVALID', 'CHAP_R is not a 16-byte binary value');
  return bytes;
}

/**
 * Parse an initiator's CHAP_C for mutual CHAP. Refuses oversized challenges and the reflection
 * attack: RFC 7143 12.1.3 says a target that receives the challenge it sent MUST NOT continue.
 */
export function parseInitiatorChallenge(value: string, ourChallenge: Buffer): Buffer {
  if (value.length > 2 + 2 * CHAP_MAX_CHALLENGE_LENGTH) {
    throw authFailure('CHAP_C_TOO_LONG', `CHAP_C longer than ${CHAP_MAX_CHALLENGE_LENGTH} bytes`);
  }
  const bytes = decodeChapBinary(value);
  if (bytes === null || bytes.length === 0) throw authFailure('CHAP_C_INVALID', 'CHAP_C is not a binary value');
  if (bytes.length > CHAP_MAX_CHALLENGE_LENGTH) {
    throw authFailure('CHAP_C_TOO_LONG', `CHAP_C longer than ${CHAP_MAX_CHALLENGE_LENGTH} bytes`);
  }
  if (bytes.equals(ourChallenge)) throw authFailure('CHAP_C_REFLECTED', 'initiator reflected the target challenge');
  return bytes;
}
