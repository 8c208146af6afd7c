// One read transfer as a pure state machine (STYLE example 3): events in, [state, actions] out.
// No sockets, timers or files here; server.ts performs the actions and feeds back the events.
//
// Blocks are counted absolutely from 1 to totalBlocks; only the wire sees them modulo 65536.
// Past 65535 the block number wraps to 0, as tftp-hpa, curl, atftp, iPXE and EDK2 expect (RFC
// 1350 is silent; RFC 7440 section 4 assumes wrapping). Because a window never holds more than
// 65535 blocks, an ACK's 16-bit number names exactly one block in [acked, sent].
//
// The machine asks for DATA as block ranges ('send-data') rather than bytes: the edge owns the
// file and the reusable packet buffers, so retransmitting a window costs no copies here.
import type { ClientPacket } from './wire.ts';
import { encodeErrorPacket, encodeServerPacket, ErrorCode } from './wire.ts';
import type { TftpOption } from './wire.ts';
import { negotiateOptions } from './options.ts';
import { assertNever } from '../lib/errors.ts';

export interface TransferConfig {
  /** Retransmission timeout before any backoff, when the client sets no RFC 2349 timeout. */
  readonly initialTimeoutMs: number;
  /** Backoff stops doubling here (a client's own timeout option may be larger). */
  readonly maxTimeoutMs: number;
  /** Retransmissions without progress before the transfer is given up. */
  readonly maxRetries: number;
  readonly maxBlockSize: number;
  readonly maxWindowSize: number;
  readonly maxWindowBytes: number;
}

export const DEFAULT_TRANSFER_CONFIG: TransferConfig = Object.freeze({
  initialTimeoutMs: 1000,
  maxTimeoutMs: 8000,
  maxRetries: 5,
  maxBlockSize: 65464,
  // RFC 7440 lets the server answer a smaller window. A burst must fit the client's UDP receive
  // buffer (Linux defaults to 208 KiB, and each datagram costs more than its payload there):
  // 128 KiB allows 64 blocks of 1468 bytes but only 2 of 65464.
  maxWindowSize: 64,
  maxWindowBytes: 128 * 1024,
});

export type TransferPhase = 'oack' | 'data' | 'finished';

export interface Transfer {
  readonly phase: TransferPhase;
  readonly config: TransferConfig;
  /** File size in bytes. */
  readonly size: number;
  readonly blockSize: number;
  readonly windowSize: number;
  /** size / blockSize + 1: the last block is short, and empty when size is a multiple. */
  readonly totalBlocks: number;
  /** Highest block acknowledged (absolute; 0 before the first). */
  readonly acked: number;
  /** Highest block sent (absolute). */
  readonly sent: number;
  /** Timeouts in a row without progress. */
  readonly retries: number;
  /** Base retransmission timeout (the client's RFC 2349 timeout, or the configured one). */
  readonly timeoutMs: number;
  /** The OACK, kept to retransmit it; null when the request had no accepted options. */
  readonly oack: Buffer | null;
  readonly startedMs: number;
  readonly blocksSent: number;
  readonly blocksResent: number;
  readonly timeouts: number;
}

export interface TransferStats {
  /** File bytes the client acknowledged. */
  readonly bytes: number;
  readonly blocks: number;
  readonly blocksSent: number;
  readonly blocksResent: number;
  readonly timeouts: number;
  readonly blockSize: number;
  readonly windowSize: number;
  readonly ms: number;
}

export type FailReason =
  /** maxRetries retransmissions went unanswered. */
  | 'timeout'
  /** The client sent ERROR. */
  | 'client-error'
  /** The client sent something a read transfer never expects (WRQ or DATA). */
  | 'illegal-operation';

export type TftpAction =
  /** Send these bytes to the peer (OACK or ERROR). */
  | { readonly kind: 'send'; readonly packet: Buffer }
  /** Send DATA for blocks first..last (absolute, inclusive), in order, in one go. */
  | { readonly kind: 'send-data'; readonly first: number; readonly last: number }
  /** (Re)arm the single retransmission timer; fire onTimeout after ms. */
  | { readonly kind: 'set-timer'; readonly ms: number }
  /**
   * The transfer ended well: every block was acknowledged ('complete'), or the client read the
   * OACK's tsize and then aborted as UEFI firmware does before the real download ('size-probe').
   */
  | { readonly kind: 'done'; readonly outcome: 'complete' | 'size-probe'; readonly stats: TransferStats }
  | {
      readonly kind: 'failed';
      readonly reason: FailReason;
      /** The client's error code and text for 'client-error'. */
      readonly code: number | null;
      readonly message: string;
      readonly stats: TransferStats;
    };

export type Step = [Transfer, TftpAction[]];

/** The 16-bit number on the wire for an absolute block: wraps 65535 → 0. */
export function wireBlock(block: number): number {
  return block & 0xffff;
}

/** File bytes carried by an absolute block. */
export function blockSpan(s: Pick<Transfer, 'size' | 'blockSize'>, block: number): { offset: number; length: number } {
  const offset = (block - 1) * s.blockSize;
  return { offset, length: Math.max(0, Math.min(s.blockSize, s.size - offset)) };
}

export function transferStats(s: Transfer, nowMs: number): TransferStats {
  return {
    bytes: Math.min(s.size, s.acked * s.blockSize),
    blocks: s.acked,
    blocksSent: s.blocksSent,
    blocksResent: s.blocksResent,
    timeouts: s.timeouts,
    blockSize: s.blockSize,
    windowSize: s.windowSize,
    ms: nowMs - s.startedMs,
  };
}

/** Exponential backoff from the base timeout; never shorter than the client's RFC 2349 value. */
function retransmitDelayMs(s: Transfer): number {
  const capMs = Math.max(s.timeoutMs, s.config.maxTimeoutMs);
  return Math.min(s.timeoutMs * 2 ** s.retries, capMs);
}

/**
 * The state with these progress fields, as one literal whose fields come in startTransfer's
 * order, so every state has one hidden class. `{ ...s, acked }` made V8 clone the 15 fields
 * through its slow path on every ACK: 5% of the server's CPU with 50 lock-step transfers.
 */
function advanced(s: Transfer, phase: TransferPhase, acked: number, sent: number, retries: number, blocksSent: number, blocksResent: number, timeouts: number): Transfer {
  return {
    phase,
    config: s.config,
    size: s.size,
    blockSize: s.blockSize,
    windowSize: s.windowSize,
    totalBlocks: s.totalBlocks,
    acked,
    sent,
    retries,
    timeoutMs: s.timeoutMs,
    oack: s.oack,
    startedMs: s.startedMs,
    blocksSent,
    blocksResent,
    timeouts,
  };
}

/** Sends the window after `acked`: at most windowSize blocks, never past the last. */
function sendWindow(s: Transfer, acked: number, retries: number): Step {
  const first = acked + 1;
  const last = Math.min(acked + s.windowSize, s.totalBlocks);
  const resent = Math.max(0, Math.min(s.sent, last) - first + 1);
  const next = advanced(s, 'data', acked, Math.max(s.sent, last), retries, s.blocksSent + (last - first + 1), s.blocksResent + resent, s.timeouts);
  return [next, [{ kind: 'send-data', first, last }, { kind: 'set-timer', ms: retransmitDelayMs(next) }]];
}

/**
 * Starts a read transfer of a file of `size` bytes. With accepted options the OACK goes out and
 * DATA waits for ACK 0 (RFC 2347); without, DATA block 1 answers the request (RFC 1350).
 */
export function startTransfer(options: readonly TftpOption[], size: number, config: TransferConfig, nowMs: number): Step {
  const n = negotiateOptions(options, size, config);
  const s: Transfer = {
    phase: 'oack',
    config,
    size,
    blockSize: n.blockSize,
    windowSize: n.windowSize,
    totalBlocks: Math.floor(size / n.blockSize) + 1,
    acked: 0,
    sent: 0,
    retries: 0,
    timeoutMs: n.timeoutMs ?? config.initialTimeoutMs,
    oack: n.accepted.length > 0 ? encodeServerPacket({ kind: 'oack', options: n.accepted }) : null,
    startedMs: nowMs,
    blocksSent: 0,
    blocksResent: 0,
    timeouts: 0,
  };
  if (s.oack === null) return sendWindow(s, 0, 0);
  return [s, [{ kind: 'send', packet: s.oack }, { kind: 'set-timer', ms: retransmitDelayMs(s) }]];
}

function finish(s: Transfer, action: TftpAction): Step {
  return [advanced(s, 'finished', s.acked, s.sent, s.retries, s.blocksSent, s.blocksResent, s.timeouts), [action]];
}

export function onAck(s: Transfer, block: number, nowMs: number): Step {
  switch (s.phase) {
    case 'finished':
      return [s, []];
    case 'oack':
      // RFC 2347: ACK 0 accepts the OACK. Anything else is stale or stray; the timer covers loss.
      return block === 0 ? sendWindow(s, 0, 0) : [s, []];
    case 'data': {
      const n = s.acked + ((block - wireBlock(s.acked)) & 0xffff);
      // n === acked is a duplicate ACK: answering it would double every later block (the
      // Sorcerer's Apprentice, RFC 1123 section 4.2.3.1), so only the timer retransmits.
      // n > sent names a block we never sent: a stale ACK from before a wrap. Ignore both.
      if (n === s.acked || n > s.sent) return [s, []];
      if (n === s.totalBlocks) {
        const complete = advanced(s, 'finished', n, s.sent, 0, s.blocksSent, s.blocksResent, s.timeouts);
        return [complete, [{ kind: 'done', outcome: 'complete', stats: transferStats(complete, nowMs) }]];
      }
      // An ACK inside the window (n < sent) says the client lost block n + 1: RFC 7440 section 4
      // rolls the window back to n + 1. An ACK of the window's last block opens the next one.
      // Both are the same step: send windowSize blocks after n.
      return sendWindow(s, n, 0);
    }
    default:
      return assertNever(s.phase);
  }
}

/** The client sent ERROR: the transfer ends (RFC 1350 section 7); nothing is sent back. */
export function onClientError(s: Transfer, code: number, message: string, nowMs: number): Step {
  if (s.phase === 'finished') return [s, []];
  // UEFI (EDK2 Mtftp4 GetInfo) and iPXE probe the size: RRQ with tsize, read the OACK, then
  // abort with ERROR 8 (option negotiation) or 0. That is a successful probe, not a failure.
  if (s.phase === 'oack' && (code === ErrorCode.OptionNegotiation || code === ErrorCode.NotDefined)) {
    return finish(s, { kind: 'done', outcome: 'size-probe', stats: transferStats(s, nowMs) });
  }
  return finish(s, { kind: 'failed', reason: 'client-error', code, message, stats: transferStats(s, nowMs) });
}

export function onTimeout(s: Transfer, nowMs: number): Step {
  if (s.phase === 'finished') return [s, []];
  if (s.retries >= s.config.maxRetries) {
    return finish(s, { kind: 'failed', reason: 'timeout', code: null, message: `no answer after ${s.retries} retransmissions`, stats: transferStats(s, nowMs) });
  }
  const next = advanced(s, s.phase, s.acked, s.sent, s.retries + 1, s.blocksSent, s.blocksResent, s.timeouts + 1);
  if (next.phase === 'oack' && next.oack !== null) {
    return [next, [{ kind: 'send', packet: next.oack }, { kind: 'set-timer', ms: retransmitDelayMs(next) }]];
  }
  // Resend the whole unacknowledged window: the client keeps what it has (RFC 7440 section 4).
  return sendWindow(next, next.acked, next.retries);
}

/**
 * The native pump (transfer-session.ts) answered ACKs of a lock-step transfer by itself: acked
 * and sent moved on and `blocks` more DATA left. The state catches up; there is nothing to do.
 */
export function onPumped(s: Transfer, acked: number, sent: number, blocks: number): Transfer {
  if (s.phase !== 'data' || blocks <= 0) return s;
  return advanced(s, 'data', acked, sent, 0, s.blocksSent + blocks, s.blocksResent, s.timeouts);
}

/** Dispatches a packet from the transfer's peer (its TID already checked by the edge). */
export function onPacket(s: Transfer, p: ClientPacket, nowMs: number): Step {
  switch (p.kind) {
    case 'ack':
      return onAck(s, p.block, nowMs);
    case 'error':
      return onClientError(s, p.code, p.message, nowMs);
    case 'rrq':
      // The client repeated its request to our TID: our first packet will be retransmitted.
      return [s, []];
    case 'wrq':
    case 'data': {
      if (s.phase === 'finished') return [s, []];
      const message = 'Illegal TFTP operation';
      const [done, actions] = finish(s, { kind: 'failed', reason: 'illegal-operation', code: null, message: `client sent ${p.kind.toUpperCase()} during a read`, stats: transferStats(s, nowMs) });
      return [done, [{ kind: 'send', packet: encodeErrorPacket(ErrorCode.IllegalOperation, message) }, ...actions]];
    }
    default:
      return assertNever(p);
  }
}
