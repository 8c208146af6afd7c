// The I/O edge of one read transfer: its own UDP socket (a fresh TID, RFC 1350 section 4, see
// transfer-socket.ts), one timer, and a WindowSender. It feeds packets and timeouts to the pure
// state machine in transfer.ts and performs the actions that come back.
//
// A transfer of a file on disk hands its steady state to the native socket's pump: the ACK of a
// window's last block (lock-step, RFC 1350, is a window of one: every PXE ROM) is answered with
// the next window by the helper itself, with no call into JavaScript. The pump and the state
// machine share acked and sent (PumpState): the session reads the pump's progress into the
// state before each step (onPumped) and writes the state's acked and sent back after it, so the
// state machine still decides everything else: the first window, duplicates, rollbacks, the
// last ACK, errors, timeouts.
import type { Logger } from 'pino';
import { assertNever, DecodeError } from '../lib/errors.ts';
import type { FileSource, TftpPeer } from './files.ts';
import type { Step, TftpAction, Transfer, TransferConfig } from './transfer.ts';
import { onPacket, onPumped, onTimeout, startTransfer, transferStats } from './transfer.ts';
import { PUMP_ACKED, PUMP_BLOCKS_SENT, PUMP_SENT, type PumpState } from '../lib/native-udp.ts';
import type { ClientPacket, TftpOption } from './wire.ts';
import { decodeClientPacket, encodeErrorPacket, ErrorCode } from './wire.ts';
import { WindowSender } from './window-sender.ts';
import { windowSink } from './batch-send.ts';
import type { TransferSocket } from './transfer-socket.ts';

export type SessionEnd = Extract<TftpAction, { kind: 'done' | 'failed' }> | { readonly kind: 'aborted'; readonly message: string; readonly stats: ReturnType<typeof transferStats> };

export interface SessionDeps {
  readonly socket: TransferSocket;
  readonly peer: TftpPeer;
  readonly source: FileSource;
  readonly config: TransferConfig;
  readonly log: Logger;
  readonly onEnd: (end: SessionEnd) => void;
}

const now = (): number => performance.now();

/** Process-wide: transfers handed to the native pump, and the DATA blocks it sent (tests, profiling). */
export const pumpStats = { transfers: 0, blocks: 0 };

export class TransferSession {
  private state: Transfer | null = null;
  private sender: WindowSender | null = null;
  private timer: NodeJS.Timeout | null = null;
  /** When the armed timer is due, and when the state machine wants it (lazy re-arming). */
  private timerDueMs = 0;
  private deadlineMs = 0;
  /** The retransmission timeout last asked for by the state machine. */
  private timerMs = 0;
  private ended = false;
  private pump: PumpState | null = null;
  /** The pump's count of blocks sent when the state last caught up with it. */
  private pumpedSeen = 0;

  constructor(private readonly deps: SessionDeps) {}

  start(options: readonly TftpOption[]): void {
    const [s, actions] = startTransfer(options, this.deps.source.size, this.deps.config, now());
    this.state = s;
    this.sender = new WindowSender(
      this.deps.source,
      s.blockSize,
      s.windowSize,
      windowSink(this.deps.socket, this.deps.peer, this.deps.log),
      (err) => this.abort(ErrorCode.NotDefined, 'Read error', `file read failed: ${err.message}`),
      (err) => this.deps.log.debug({ err }, 'DATA send failed'),
    );
    const fd = this.deps.source.fd;
    if (fd !== undefined) {
      this.pump = this.deps.socket.startPump(fd, s.size, s.blockSize, s.windowSize, this.deps.peer, s.acked, s.sent);
      if (this.pump !== null) pumpStats.transfers++;
    }
    this.deps.log.debug({ blockSize: s.blockSize, windowSize: s.windowSize, size: s.size, oack: s.oack !== null, pump: this.pump !== null }, 'transfer started');
    this.perform(actions);
    this.pumpFollows();
  }

  /** Ends the transfer from outside (server shutdown) or after a read error, telling the peer. */
  abort(code: number, wireMessage: string, logMessage: string): void {
    if (this.ended || this.state === null) return;
    this.catchUpWithPump();
    this.sendPacket(encodeErrorPacket(code, wireMessage));
    this.end({ kind: 'aborted', message: logMessage, stats: transferStats(this.state, now()) });
  }

  /** A datagram that arrived on the transfer socket (`msg` is valid during the call only). */
  onMessage(msg: Buffer, address: string, port: number): void {
    if (this.ended || this.state === null) return;
    if (address !== this.deps.peer.address || port !== this.deps.peer.port) {
      // RFC 1350 section 4: a packet from a stranger gets ERROR 5 and does not disturb us.
      this.deps.log.debug({ from: `${address}:${port}` }, 'packet from an unknown TID');
      this.deps.socket.send(encodeErrorPacket(ErrorCode.UnknownTid, 'Unknown transfer ID'), { address, port });
      return;
    }
    let packet: ClientPacket;
    try {
      packet = decodeClientPacket(msg);
    } catch (err) {
      if (!(err instanceof DecodeError)) {
        this.deps.log.error({ err, hex: msg.toString('hex') }, 'decoder bug: not a DecodeError'); // fuzzing says never
        return;
      }
      this.deps.log.debug({ err: err.message, code: err.code }, 'malformed packet dropped');
      this.deps.log.trace({ hex: msg.toString('hex') }, 'malformed packet');
      return;
    }
    this.catchUpWithPump();
    this.apply(onPacket(this.state, packet, now()));
  }

  private apply([s, actions]: Step): void {
    this.state = s;
    this.perform(actions);
    this.pumpFollows();
  }

  /** The pump's progress into the state; true when it sent anything since the last call. */
  private catchUpWithPump(): boolean {
    const pump = this.pump;
    if (pump === null || this.state === null) return false;
    const blocks = pump.cells[PUMP_BLOCKS_SENT] ?? 0;
    if (blocks === this.pumpedSeen) return false;
    this.state = onPumped(this.state, pump.cells[PUMP_ACKED] ?? 0, pump.cells[PUMP_SENT] ?? 0, blocks - this.pumpedSeen);
    pumpStats.blocks += blocks - this.pumpedSeen;
    this.pumpedSeen = blocks;
    return true;
  }

  /** The state's acked and sent to the pump (outside the data phase, a pair it never acts on). */
  private pumpFollows(): void {
    const pump = this.pump;
    if (pump === null || this.state === null) return;
    pump.cells[PUMP_ACKED] = this.state.acked;
    pump.cells[PUMP_SENT] = this.state.phase === 'data' ? this.state.sent : this.state.acked;
  }

  private perform(actions: readonly TftpAction[]): void {
    for (const a of actions) {
      if (this.ended) return;
      switch (a.kind) {
        case 'send':
          this.sendPacket(a.packet);
          break;
        case 'send-data':
          this.sender?.sendRange(a.first, a.last);
          break;
        case 'set-timer':
          this.armTimer(a.ms);
          break;
        case 'done':
        case 'failed':
          this.end(a);
          break;
        default:
          assertNever(a);
      }
    }
  }

  private sendPacket(packet: Buffer): void {
    this.deps.socket.send(packet, this.deps.peer);
  }

  /**
   * The state machine re-arms the timer on every window. Rather than clear and create a timer
   * per ACK, keep one and, when it fires early, sleep on to the latest deadline.
   */
  private armTimer(ms: number): void {
    this.timerMs = ms;
    const t = now();
    this.deadlineMs = t + ms;
    if (this.timer !== null && this.timerDueMs <= this.deadlineMs) return;
    if (this.timer !== null) clearTimeout(this.timer);
    this.timerDueMs = this.deadlineMs;
    this.timer = setTimeout(this.onTimer, ms);
  }

  private readonly onTimer = (): void => {
    this.timer = null;
    if (this.ended || this.state === null) return;
    const t = now();
    // The pump moved on since: that was progress, so the wait starts again (a stalled client is
    // so noticed after one to two timeouts).
    if (this.catchUpWithPump()) this.deadlineMs = Math.max(this.deadlineMs, t + this.timerMs);
    if (t < this.deadlineMs - 1) {
      this.timerDueMs = this.deadlineMs;
      this.timer = setTimeout(this.onTimer, this.deadlineMs - t);
      return;
    }
    this.apply(onTimeout(this.state, t));
  };

  private end(end: SessionEnd): void {
    if (this.ended) return;
    this.ended = true;
    // Before the file closes: the helper reads from its fd.
    this.deps.socket.stopPump();
    this.pump = null;
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
    // A read may still be filling the chunk: close the file only once it is done.
    if (this.sender === null) this.deps.source.close();
    else this.sender.close(() => this.deps.source.close());
    // Let a final ERROR leave before the socket goes; a closed socket drops queued sends.
    setImmediate(() => this.deps.socket.close());
    this.deps.onEnd(end);
  }
}
