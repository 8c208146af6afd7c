// RFC 2347 option negotiation for a read request, the rules kept as data (STYLE example 4).
//
// RFC 2347: the server answers only the options it accepts, in an OACK; an option it does not
// know, or whose value is invalid, is left out (the client then uses the RFC 1350 default).
// If nothing is accepted there is no OACK and DATA block 1 answers the request directly.
import { assertNever } from '../lib/errors.ts';
import type { TftpOption } from './wire.ts';
import { MAX_BLOCK_SIZE } from './wire.ts';

/** RFC 1350 fixed block size, used when the client does not negotiate blksize. */
export const DEFAULT_BLOCK_SIZE = 512;

export interface NegotiationLimits {
  /** The largest blksize this server answers; larger requests are answered with this. */
  readonly maxBlockSize: number;
  /** The largest windowsize this server answers (RFC 7440 lets the server answer smaller). */
  readonly maxWindowSize: number;
  /** The most bytes a window may hold: windowsize is cut to fit it, whatever the client asked. */
  readonly maxWindowBytes: number;
}

export interface Negotiated {
  readonly blockSize: number;
  readonly windowSize: number;
  /** RFC 2349 timeout in milliseconds, or null when the client did not set one. */
  readonly timeoutMs: number | null;
  /** The OACK's options, in the client's order and spelling; empty means no OACK. */
  readonly accepted: readonly TftpOption[];
}

type OptionName = 'blksize' | 'tsize' | 'timeout' | 'windowsize';

interface OptionRule {
  readonly min: number;
  readonly max: number;
  /** What a value above max means: 'clamp' answers max, 'invalid' leaves the option out. */
  readonly above: 'clamp' | 'invalid';
}

const RULES: Readonly<Record<OptionName, OptionRule>> = {
  // RFC 2348: 8..65464. Clients ask for 65535 or more meaning "as large as you can", so a
  // value above the range is answered with our maximum rather than refused.
  blksize: { min: 8, max: MAX_BLOCK_SIZE, above: 'clamp' },
  // RFC 2349: an RRQ sends 0 and the server answers the file size; any number is accepted.
  tsize: { min: 0, max: Number.MAX_SAFE_INTEGER, above: 'invalid' },
  // RFC 2349: 1..255 seconds; the server must answer the same value or leave it out.
  timeout: { min: 1, max: 255, above: 'invalid' },
  // RFC 7440: 1..65535 blocks; the server may answer a smaller value (see the byte cap below).
  windowsize: { min: 1, max: 65535, above: 'invalid' },
};

function isOptionName(name: string): name is OptionName {
  return Object.hasOwn(RULES, name);
}

/** RFC 2347 values are ASCII decimal; anything else (sign, spaces, hex) is invalid. */
function parseDecimal(value: string): number | null {
  if (!/^[0-9]{1,16}$/.test(value)) return null;
  const n = Number(value);
  return Number.isSafeInteger(n) ? n : null;
}

function acceptValue(rule: OptionRule, requested: number, serverMax: number): number | null {
  if (requested < rule.min) return null;
  if (requested > rule.max && rule.above === 'invalid') return null;
  return Math.min(requested, rule.max, serverMax);
}

/** Negotiates an RRQ's options against the file size and this server's limits. */
export function negotiateOptions(requested: readonly TftpOption[], fileSize: number, limits: NegotiationLimits): Negotiated {
  // First pass: the first valid occurrence of each option (RFC 2347: names are case-insensitive).
  const chosen = new Map<OptionName, { readonly spelling: string; readonly value: number }>();
  for (const option of requested) {
    const name = option.name.toLowerCase();
    if (!isOptionName(name) || chosen.has(name)) continue;
    const n = parseDecimal(option.value);
    if (n === null) continue;
    const value = acceptValue(RULES[name], n, name === 'blksize' ? Math.max(limits.maxBlockSize, RULES.blksize.min) : RULES[name].max);
    if (value !== null) chosen.set(name, { spelling: option.name, value });
  }
  const blockSize = chosen.get('blksize')?.value ?? DEFAULT_BLOCK_SIZE;
  // The window is capped in bytes as well as blocks, whatever order the options came in: a
  // window larger than the client's socket buffer is lost wholesale on every burst (atftp asking
  // 16 x 65464 bytes against Linux's default 208 KiB receive buffer crawls at 2 MiB/s).
  const windowCap = Math.max(1, Math.min(limits.maxWindowSize, Math.floor(limits.maxWindowBytes / blockSize)));
  const requestedWindow = chosen.get('windowsize');
  const windowSize = requestedWindow === undefined ? 1 : Math.min(requestedWindow.value, windowCap);
  const timeout = chosen.get('timeout')?.value;
  const answer = (name: OptionName): string => {
    switch (name) {
      case 'blksize':
        return String(blockSize);
      case 'tsize':
        return String(fileSize);
      case 'timeout':
        return String(timeout);
      case 'windowsize':
        return String(windowSize);
      default:
        return assertNever(name);
    }
  };
  // Second pass: the OACK in the client's order and spelling.
  const accepted: TftpOption[] = [];
  for (const [name, { spelling }] of chosen) accepted.push({ name: spelling, value: answer(name) });
  return { blockSize, windowSize, timeoutMs: timeout === undefined ? null : timeout * 1000, accepted };
}
