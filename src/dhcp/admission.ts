// Admission control under overload, pure (the server feeds it datagrams and the ends of
// event-loop turns). When requests arrive faster than they can be answered, the socket buffer
// fills and the kernel drops datagrams at random: REQUESTs for offers already made as often as
// new DISCOVERs, so the work spent on those offers is lost (under perfdhcp's 10,000/s, a server
// that answered everything lost a fifth to half of its REQUESTs that way). Finishing exchanges
// already started is worth more than starting new ones, so while the server is behind it
// answers every REQUEST (and every other message) and only a bounded number of DISCOVERs per
// turn, a number that halves with each further turn it stays behind (16, 8, 4, 2, 1); the rest
// are dropped after a glance at option 53, at a fraction of the cost of answering them. A client
// whose DISCOVER was dropped retransmits it (RFC 2131 section 4.1) and gets its offer once the
// burst has passed. Without a backlog nothing is shed, and neither while the backlog holds
// nothing but DISCOVERs: with no exchange in progress there is nothing to protect, and shedding
// would only make every client of a burst wait for its retransmission (1000 machines powered on
// at once: 911 DISCOVERs shed with the server at 2% CPU, p99 7.3 s, docs/RELIABILITY.md).
//
// "Behind" is read off the socket's own read limit: libuv reads at most 32 datagrams from a dgram
// socket per event-loop turn (uv__udp_recvmsg), and the native socket (src/lib/native-udp.ts) 64
// per recvmmsg, so a turn that delivered that many found more waiting (the server passes the
// limit of its socket as backlogAt, dhcp/sockets.ts).
import { DhcpOption, MessageType } from './wire/option-codes.ts';
import { MAGIC_COOKIE } from './wire/packet.ts';

/** libuv's per-turn read limit for one UDP socket: a turn that reaches it left datagrams queued. */
export const LIBUV_READS_PER_TURN = 32;

export interface AdmissionOptions {
  /** Datagrams in one turn that mean "more are waiting" (default: libuv's read limit). */
  readonly backlogAt?: number;
  /** DISCOVERs answered in the first turn behind (default: half of a full read); halved each further turn. */
  readonly discoversPerTurn?: number;
}

/** The budget stops halving here: at least discoversPerTurn / 16 (one, by default) per turn. */
const MAX_HALVINGS = 4;

export class AdmissionControl {
  readonly #backlogAt: number;
  readonly #discoversPerTurn: number;
  #datagrams = 0;
  #discovers = 0;
  /** Datagrams of this turn that are not DISCOVERs: exchanges in progress. */
  #others = 0;
  #behind = false;
  #shed = 0;
  /** Consecutive turns that ended behind. */
  #fullTurns = 0;

  constructor(options: AdmissionOptions = {}) {
    this.#backlogAt = options.backlogAt ?? LIBUV_READS_PER_TURN;
    this.#discoversPerTurn = options.discoversPerTurn ?? LIBUV_READS_PER_TURN / 2;
  }

  /** True while the last turn left datagrams in the socket buffer. */
  get behind(): boolean {
    return this.#behind;
  }

  /** DISCOVERs dropped so far. */
  get shed(): number {
    return this.#shed;
  }

  /** A datagram arrived in this turn: false to drop it unanswered. */
  admit(datagram: Buffer): boolean {
    this.#datagrams += 1;
    if (peekMessageType(datagram) !== MessageType.Discover) {
      this.#others += 1;
      return true;
    }
    this.#discovers += 1;
    if (!this.#behind || this.#discovers <= this.#discoversPerTurn >> Math.min(this.#fullTurns - 1, MAX_HALVINGS)) return true;
    this.#shed += 1;
    return false;
  }

  /**
   * The turn ended: whether it read a full batch with exchanges in progress decides the next
   * turn's policy. `loopBusy` false (the event loop has been mostly idle lately) vetoes "behind":
   * perfdhcp and a room of machines send in bursts, and a burst can fill one turn's read while
   * the server has time to spare (10,000/s offered: 9% of DISCOVERs shed at 43% of a core).
   */
  endTurn(loopBusy = true): void {
    this.#behind = loopBusy && this.#datagrams >= this.#backlogAt && this.#others > 0;
    this.#fullTurns = this.#behind ? this.#fullTurns + 1 : 0;
    this.#datagrams = 0;
    this.#discovers = 0;
    this.#others = 0;
  }
}

/**
 * Option 53 from the options field of a raw datagram, without decoding it; null when it is not
 * there (a malformed message, or one that put 53 in an overloaded field: those are decoded and
 * answered in full, never shed).
 */
export function peekMessageType(b: Buffer): number | null {
  if (b.length < 241 || b.readUInt32BE(236) !== MAGIC_COOKIE) return null;
  let i = 240;
  while (i < b.length) {
    const code = b[i] ?? DhcpOption.End;
    if (code === DhcpOption.Pad) {
      i += 1;
      continue;
    }
    if (code === DhcpOption.End || i + 1 >= b.length) return null;
    const length = b[i + 1] ?? 0;
    if (code === DhcpOption.MessageType) return length === 1 && i + 2 < b.length ? (b[i + 2] ?? null) : null;
    i += 2 + length;
  }
  return null;
}
