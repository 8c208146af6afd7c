// The DHCP server's replies of one event-loop turn leave in one system call.
//
// Node's dgram sends one datagram per call: a sendmsg, a libuv request and a JS callback per
// reply. Under perfdhcp load that was the DHCP server's largest self-time item in a CPU profile
// (`doSend`, about a quarter of its busy time). Here a socket's replies wait in an outbox until
// the end of the event-loop turn (a setImmediate: the check phase right after the poll phase
// that delivered the turn's requests), or until the caller flushes (the ACKs released by one
// journal sync), and then leave through native/udp-batch.c's sendMany: one sendmmsg on the
// socket's own fd with a destination per datagram, up to 64 per call. The bytes on the wire are
// the ones Node would send; SO_BROADCAST and the bound source address are the fd's, so replies
// to 255.255.255.255 leave as before.
//
// The outbox works on either kind of socket (OutboxSocket): Node's dgram, or the native one of
// src/lib/native-udp.ts that the server receives on where the helper is built.
//
// The socket's own send is used instead, per datagram and in order:
//   - when the helper is not built (then each reply is sent at once, as before: nothing to batch);
//   - when a packet capture's tap is on the socket (src/capture: the tap must see every
//     datagram), or the socket queues sends of its own, or its fd cannot be seen;
//   - for the rest of a flush once the kernel took fewer than asked: the send buffer is full
//     (the socket then queues and polls), or the first datagram failed (the socket sends it
//     again and reports its error through the usual callback, so failures are counted and
//     logged as before), or its address is a host name (dgram resolves it);
//   - while datagrams handed to the socket are still in flight, so that none is overtaken.
import type { Socket } from 'node:dgram';
import type { Loaded } from '../lib/native-addon.ts';
import { loadAddon } from '../lib/native-addon.ts';
import type { NativeUdpSocket } from '../lib/native-udp.ts';
import { untappedSocketFd } from '../lib/socket-fd.ts';

/** What the outbox needs of a socket. */
export interface OutboxSocket {
  /** The fd sendmmsg may write to now, or null when every datagram must go through send(). */
  directFd(): number | null;
  /** Sends one datagram; `done` runs once (possibly before this returns), with its error if any. */
  send(datagram: Buffer, port: number, address: string, done: (err: Error | null) => void): void;
}

/** A dgram socket: its fd while no capture's tap is on. */
export function dgramOutboxSocket(socket: Socket): OutboxSocket {
  return {
    directFd: () => untappedSocketFd(socket),
    send: (datagram, port, address, done) => socket.send(datagram, port, address, done),
  };
}

/** A native socket: its fd while nothing waits in its own send queue and no tap is on. */
export function nativeOutboxSocket(socket: NativeUdpSocket): OutboxSocket {
  return {
    directFd: () => socket.directFd(),
    send: (datagram, port, address, done) => socket.send(datagram, port, address, done),
  };
}

export interface ReplyBatchNative {
  /**
   * One sendmmsg of datagrams[from .. from+count) (at most 64 of them), each to its address and
   * port; how many left, in order. Throws when datagrams[from] itself could not be sent.
   */
  sendMany(fd: number, datagrams: readonly Buffer[], addresses: readonly string[], ports: readonly number[], from: number, count: number): number;
}

/** Process-wide counts, for tests and profiling notes. */
export interface ReplyBatchStats {
  /** sendMany calls that sent at least one datagram. */
  batches: number;
  /** Datagrams sent by sendMany. */
  viaKernel: number;
  /** Datagrams sent through the socket's own send. */
  viaSocket: number;
}

export const replyBatchStats: ReplyBatchStats = { batches: 0, viaKernel: 0, viaSocket: 0 };

/** The helper's sendMany, or why it cannot be used. */
export function loadReplyBatch(): Loaded<ReplyBatchNative> {
  // No required functions passed: loadAddon caches one result per module, and a list naming
  // sendMany would, with an older build, cache a failure that TFTP's window sender (which needs
  // only the older functions) would then be handed too. sendMany is checked here instead.
  const loaded = loadAddon<Partial<ReplyBatchNative>>('udp_batch', []);
  if (!('native' in loaded)) return loaded;
  const { native } = loaded;
  if (typeof native.sendMany !== 'function') return { error: 'the native helper predates sendMany (`npm rebuild diskless-icmpv6` rebuilds it)' };
  return { native: native as ReplyBatchNative };
}

function nativeOrNull(): ReplyBatchNative | null {
  const loaded = loadReplyBatch();
  return 'native' in loaded ? loaded.native : null;
}

export interface OutboxHooks<T> {
  /**
   * Called for each queued item once its datagram has been handed to the kernel or to the
   * socket's send, in queue order (the caller's stats, log line and boot event). Must not throw.
   */
  readonly sent: (item: T) => void;
  /** A datagram that the socket's send reported as not sent (asynchronously, as dgram does). */
  readonly failed: (err: Error) => void;
}

/** A zero-length placeholder, so that sent datagrams are not kept alive by the reused arrays. */
const NO_BYTES = Buffer.alloc(0);

/** Beyond this many slots (after a burst) the arrays are dropped rather than kept for reuse. */
const KEEP_SLOTS = 4096;

/**
 * The replies queued on one socket. No allocation per reply: the queue is four parallel
 * arrays reused from turn to turn (the native call takes them as they are, with a range).
 */
export class ReplyOutbox<T> {
  private readonly datagrams: Buffer[] = [];
  private readonly addresses: string[] = [];
  private readonly ports: number[] = [];
  private readonly items: (T | undefined)[] = [];
  private count = 0;
  private scheduled = false;
  private flushing = false;
  /** Datagrams handed to the socket's send whose callback has not run yet. */
  private inSocket = 0;
  private readonly native: ReplyBatchNative | null;
  /** One callback for every socket send of this outbox (no closure per datagram). */
  private readonly afterSocketSend: (err: Error | null) => void;
  private readonly onImmediate: () => void;

  constructor(
    private readonly socket: OutboxSocket,
    private readonly hooks: OutboxHooks<T>,
    native: ReplyBatchNative | null = nativeOrNull(),
  ) {
    this.native = native;
    this.afterSocketSend = (err) => {
      this.inSocket -= 1;
      if (err !== null) hooks.failed(err);
    };
    this.onImmediate = () => {
      this.scheduled = false;
      this.flush();
    };
  }

  /** Datagrams waiting for the next flush. */
  get size(): number {
    return this.count;
  }

  /** Queues one datagram (sent at flush() or at the end of this event-loop turn). */
  push(datagram: Buffer, address: string, port: number, item: T): void {
    if (this.native === null) {
      // Nothing to batch with: send now, as the server always did.
      this.viaSocket(datagram, address, port);
      this.hooks.sent(item);
      return;
    }
    const i = this.count++;
    this.datagrams[i] = datagram;
    this.addresses[i] = address;
    this.ports[i] = port;
    this.items[i] = item;
    if (!this.scheduled) {
      this.scheduled = true;
      setImmediate(this.onImmediate);
    }
  }

  /** Sends everything queued, in order. */
  flush(): void {
    // A hook that queues more during a flush: the running loop takes it (count is re-read).
    if (this.flushing || this.count === 0) return;
    this.flushing = true;
    let next = 0;
    try {
      while (next < this.count) {
        const sent = this.sendNative(next);
        // `next` moves past what left before any hook runs, so nothing is sent twice.
        if (sent > 0) {
          replyBatchStats.batches += 1;
          replyBatchStats.viaKernel += sent;
          const first = next;
          next += sent;
          for (let k = first; k < next; k++) this.hooks.sent(this.items[k] as T);
          continue;
        }
        // Once one goes through the socket, the rest of this flush follows it (inSocket > 0 from here).
        const i = next++;
        this.viaSocket(this.datagrams[i] ?? NO_BYTES, this.addresses[i] ?? '', this.ports[i] ?? 0);
        this.hooks.sent(this.items[i] as T);
      }
    } finally {
      this.release(next);
      this.flushing = false;
    }
  }

  /** sendMany from `next`; 0 when the native path is closed for now or the kernel took none. */
  private sendNative(next: number): number {
    const native = this.native;
    if (native === null || this.inSocket > 0) return 0;
    const fd = this.socket.directFd();
    if (fd === null) return 0;
    try {
      return native.sendMany(fd, this.datagrams, this.addresses, this.ports, next, this.count - next);
    } catch {
      // datagrams[next] failed outright (or is not for the native path): the socket sends it
      // again and reports the error through afterSocketSend, as it would have without the helper.
      return 0;
    }
  }

  private viaSocket(datagram: Buffer, address: string, port: number): void {
    replyBatchStats.viaSocket += 1;
    this.inSocket += 1;
    try {
      this.socket.send(datagram, port, address, this.afterSocketSend);
    } catch (err) {
      // Thrown synchronously (a closed socket, a bad argument): no callback will come.
      this.inSocket -= 1;
      this.hooks.failed(err instanceof Error ? err : new Error(String(err)));
    }
  }

  /** Forgets the first `done` slots (all of them when the flush completed). */
  private release(done: number): void {
    const count = this.count;
    // An exception out of a hook stopped the flush: keep the unsent ones, in order, for next time.
    const keep = count - done;
    for (let i = 0; i < keep; i++) {
      this.datagrams[i] = this.datagrams[done + i] ?? NO_BYTES;
      this.addresses[i] = this.addresses[done + i] ?? '';
      this.ports[i] = this.ports[done + i] ?? 0;
      this.items[i] = this.items[done + i];
    }
    for (let i = keep; i < count; i++) {
      this.datagrams[i] = NO_BYTES;
      this.addresses[i] = '';
      this.items[i] = undefined;
    }
    this.count = keep;
    if (this.datagrams.length > KEEP_SLOTS && keep === 0) {
      this.datagrams.length = 0;
      this.addresses.length = 0;
      this.ports.length = 0;
      this.items.length = 0;
    }
    if (keep > 0 && !this.scheduled) {
      this.scheduled = true;
      setImmediate(this.onImmediate);
    }
  }
}
