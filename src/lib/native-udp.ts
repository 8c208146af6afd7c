// A UDP socket that receives in batches, without an allocation per datagram (native/udp-socket.c).
//
// Node's dgram module allocates a 64 KiB buffer, a Buffer and an rinfo object for every datagram
// it receives and emits an event for each; a windowed TFTP transfer waits on that path between
// every ACK and its next window. This socket is the native helper's own: libuv polls the fd,
// recvmmsg reads every waiting datagram into one arena shared by all these sockets of the
// process, and the handler sees each datagram as a view of that arena. The view is valid only
// until the handler returns (copy what must be kept): the next batch, of any socket, overwrites
// it. JavaScript runs one callback at a time, so sharing the arena is safe.
//
// Sends go straight to the kernel (sendto); when the send buffer is full the datagram waits in
// a queue, in order, until libuv says the socket is writable again.
//
// Packet captures (src/capture) see these sockets as they see Node's: each one is announced on
// the diagnostics channel NATIVE_UDP_CHANNEL when it opens, and a tap put on it sees every
// datagram received and every one sent through send(). Batch senders that write to the fd
// themselves (native/udp-batch.c) ask directFd(), which is null while a tap is on.
import { channel } from 'node:diagnostics_channel';
import { loadAddon } from './native-addon.ts';

/** The helper's functions (native/udp-socket.c); tests may stand in for them. */
export interface UdpSocketNative {
  open(family: 4 | 6, address: string, port: number, arena: Buffer, meta: Buffer, slot: number, onBatch: (count: number) => void, flags?: number, receiveBufferBytes?: number): [unknown, number, number];
  sendTo(fd: number, datagram: Buffer, address: string, port: number): number;
  waitWritable(handle: unknown): void;
  close(handle: unknown): void;
  /** Optional: a build before it lacks them (then no pump). */
  pumpStart?(handle: unknown, fileFd: number, fileSize: number, blockSize: number, windowSize: number, peerAddress: string, peerPort: number, state: Float64Array): void;
  pumpStop?(handle: unknown): void;
}

/** Meta length of a datagram the native pump answered itself: not for JavaScript. */
const CONSUMED = 0xffffffff;
/** The largest window the pump takes (RFC 7440 windowsize; transfer.ts offers at most 64). */
export const PUMP_MAX_WINDOW = 64;

/**
 * The state shared with a native pump (native/udp-socket.c, pumpStart): the steady state of a
 * TFTP read transfer (the ACK of a window's last block, answered with the next window) without
 * a call into JavaScript.
 */
export interface PumpState {
  /** [0] acked, [1] sent (absolute blocks), [2] blocks the pump sent, [3] 1 while it may act. */
  readonly cells: Float64Array;
}

export const PUMP_ACKED = 0;
export const PUMP_SENT = 1;
export const PUMP_BLOCKS_SENT = 2;
export const PUMP_ENABLED = 3;

/**
 * Bytes of the arena per datagram: more than any datagram these sockets expect (TFTP ACKs and
 * ERRORs; DHCP requests, which fit one Ethernet frame: at most 1,472 bytes of UDP payload).
 */
export const SLOT_BYTES = 2048;
/** Datagrams read per recvmmsg: a batch this full means more were waiting. */
export const BATCH_DATAGRAMS = 64;
const SLOTS = BATCH_DATAGRAMS;
const META_BYTES = 24;

const arena = Buffer.alloc(SLOT_BYTES * SLOTS);
const meta = Buffer.alloc(META_BYTES * SLOTS);

export type DatagramHandler = (data: Buffer, address: string, port: number) => void;

export interface NativeUdpOptions {
  /** SO_REUSEADDR, before the bind (a DHCP server binds 0.0.0.0:67 beside its own address:67). */
  readonly reuseAddr?: boolean;
  /** SO_BROADCAST: replies to 255.255.255.255. */
  readonly broadcast?: boolean;
  /** SO_RCVBUF (the kernel caps it at net.core.rmem_max). */
  readonly receiveBufferBytes?: number;
}

const FLAG_REUSEADDR = 1;
const FLAG_BROADCAST = 2;

export interface UdpEndpoint {
  readonly address: string;
  readonly port: number;
}

/** What a packet capture sees of a socket (src/capture/socket-taps.ts puts it on dgram ones too). */
export interface DatagramTap {
  /** `bytes` may be kept: a native socket hands the tap a copy of its reused memory. */
  readonly incoming: (bytes: Buffer, from: UdpEndpoint) => void;
  readonly outgoing: (bytes: Buffer, to: UdpEndpoint | null) => void;
}

/** Every NativeUdpSocket is published here as `{ socket }` when it opens (bound, receiving). */
export const NATIVE_UDP_CHANNEL = 'diskless:native-udp.socket';
const opened = channel(NATIVE_UDP_CHANNEL);

export interface NativeUdpHandlers {
  /** A datagram of at most SLOT_BYTES (longer ones go to `oversized`); `data` is valid during the call only. */
  readonly datagram: DatagramHandler;
  readonly oversized: (bytes: number, address: string, port: number) => void;
  readonly error: (err: Error) => void;
}

function loadNative(): UdpSocketNative | string {
  const loaded = loadAddon<UdpSocketNative>('udp_socket', ['open', 'sendTo', 'waitWritable', 'close']);
  return 'native' in loaded ? loaded.native : loaded.error;
}

/** Why the native socket cannot be used here, or null when it can. */
export function nativeUdpUnavailable(): string | null {
  const native = loadNative();
  return typeof native === 'string' ? native : null;
}

const toldWhy = new Set<string>();

/**
 * Whether `users` (say "DHCP sockets") get native sockets; when not, why is logged once per
 * process and user, at info: the server works, only slower.
 */
export function useNativeUdp(log: { info(obj: object, msg: string): void }, users: string): boolean {
  const reason = nativeUdpUnavailable();
  if (reason !== null && !toldWhy.has(users)) {
    toldWhy.add(users);
    log.info({ reason }, `${users} use Node's dgram`);
  }
  return reason === null;
}

/** The text of an address as the kernel's inet_ntop writes it (so it equals Node's rinfo.address). */
export function formatAddress(bytes: Uint8Array, offset: number, family: 4 | 6): string {
  if (family === 4) return `${bytes[offset]}.${bytes[offset + 1]}.${bytes[offset + 2]}.${bytes[offset + 3]}`;
  const words: number[] = [];
  for (let i = 0; i < 8; i++) words.push(((bytes[offset + 2 * i] ?? 0) << 8) | (bytes[offset + 2 * i + 1] ?? 0));
  // The longest run of two or more zero words becomes "::", the first such run on a tie (RFC 5952 4.2).
  let bestStart = -1;
  let bestLength = 0;
  for (let i = 0; i < 8; ) {
    if (words[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && words[j] === 0) j++;
    if (j - i > bestLength && j - i >= 2) {
      bestStart = i;
      bestLength = j - i;
    }
    i = j;
  }
  // glibc writes IPv4-mapped (::ffff:a.b.c.d) and IPv4-compatible (::a.b.c.d) addresses with
  // the IPv4 part dotted.
  if (bestStart === 0 && (bestLength === 6 || (bestLength === 5 && words[5] === 0xffff))) {
    const v4 = formatAddress(bytes, offset + 12, 4);
    return bestLength === 6 ? `::${v4}` : `::ffff:${v4}`;
  }
  let text = '';
  for (let i = 0; i < 8; i++) {
    if (i === bestStart) {
      text += '::';
      i += bestLength - 1;
      continue;
    }
    if (text !== '' && !text.endsWith(':')) text += ':';
    text += (words[i] ?? 0).toString(16);
  }
  return text;
}

interface Queued {
  readonly datagram: Buffer;
  readonly address: string;
  readonly port: number;
  readonly done: (err: Error | null) => void;
}

export class NativeUdpSocket {
  /** The socket's fd, for the batch senders of native/udp-batch.c. */
  readonly fd: number;
  /** The port it is bound to. */
  readonly port: number;
  /** The address it is bound to. */
  readonly boundAddress: string;
  private readonly queue: Queued[] = [];
  private tapOn: DatagramTap | null = null;
  private pump: PumpState | null = null;
  private closeListeners: Array<() => void> = [];
  private closed = false;
  /** The last source seen and its text, so that a transfer's one peer is formatted once. */
  private lastKey = -1;
  private lastAddress = '';

  private constructor(
    private readonly native: UdpSocketNative,
    private readonly handle: unknown,
    fd: number,
    port: number,
    boundAddress: string,
  ) {
    this.fd = fd;
    this.port = port;
    this.boundAddress = boundAddress;
  }

  /**
   * A socket bound to address:port (0: any free port), receiving from the start. Throws the
   * bind's error (err.code EADDRINUSE, ...) or, without the native helper, an Error that says so.
   * `native` is for tests.
   */
  static open(family: 4 | 6, address: string, port: number, handlers: NativeUdpHandlers, options: NativeUdpOptions = {}, native: UdpSocketNative | string = loadNative()): NativeUdpSocket {
    if (typeof native === 'string') throw new Error(native);
    let socket: NativeUdpSocket | null = null;
    const onBatch = (count: number): void => {
      if (socket !== null) socket.onBatch(count, handlers);
    };
    const flags = (options.reuseAddr === true ? FLAG_REUSEADDR : 0) | (options.broadcast === true ? FLAG_BROADCAST : 0);
    const [handle, fd, boundPort] = native.open(family, address, port, arena, meta, SLOT_BYTES, onBatch, flags, options.receiveBufferBytes ?? 0);
    socket = new NativeUdpSocket(native, handle, fd, boundPort, address);
    if (opened.hasSubscribers) opened.publish({ socket });
    return socket;
  }

  /** Where it is bound (as Node's socket.address()). */
  address(): UdpEndpoint {
    return { address: this.boundAddress, port: this.port };
  }

  /**
   * The fd a batch sender (native/udp-batch.c) may write to now: none while datagrams wait in
   * this socket's queue (they would be overtaken) or a tap is on (it would not see them).
   */
  directFd(): number | null {
    return this.queue.length === 0 && this.tapOn === null && !this.closed ? this.fd : null;
  }

  /** Puts a tap on the socket (replacing any); the returned function takes it off. */
  tap(tap: DatagramTap): () => void {
    this.tapOn = tap;
    // The pump's ACKs and DATA would pass the tap by: it rests while a tap is on.
    if (this.pump !== null) this.pump.cells[PUMP_ENABLED] = 0;
    return () => {
      if (this.tapOn !== tap) return;
      this.tapOn = null;
      if (this.pump !== null) this.pump.cells[PUMP_ENABLED] = 1;
    };
  }

  /**
   * Hands the steady state of a TFTP read to the helper (see PumpState); null when the helper
   * predates the pump or the window is too large for it. The caller keeps cells [0] and [1]
   * equal to its own state around each of its steps, and adds [2]'s growth to its count of
   * blocks sent.
   */
  startPump(fileFd: number, fileSize: number, blockSize: number, windowSize: number, peer: UdpEndpoint, acked: number, sent: number): PumpState | null {
    if (this.closed || this.native.pumpStart === undefined || windowSize > PUMP_MAX_WINDOW) return null;
    // Over an ArrayBuffer of its own: its memory never moves, the helper keeps a pointer to it.
    const cells = new Float64Array(new ArrayBuffer(4 * Float64Array.BYTES_PER_ELEMENT));
    cells[PUMP_ACKED] = acked;
    cells[PUMP_SENT] = sent;
    cells[PUMP_ENABLED] = this.tapOn === null ? 1 : 0;
    this.native.pumpStart(this.handle, fileFd, fileSize, blockSize, windowSize, peer.address, peer.port, cells);
    this.pump = { cells };
    return this.pump;
  }

  stopPump(): void {
    if (this.pump === null) return;
    this.pump.cells[PUMP_ENABLED] = 0;
    this.pump = null;
    if (!this.closed) this.native.pumpStop?.(this.handle);
  }

  /** Datagrams waiting for room in the send buffer. */
  get queued(): number {
    return this.queue.length;
  }

  /**
   * Sends one datagram, now or (behind a full send buffer) once earlier ones have left; `done`
   * runs when it has, possibly before this returns.
   */
  send(datagram: Buffer, port: number, address: string, done: (err: Error | null) => void = () => {}): void {
    if (this.closed) {
      done(new Error('the socket is closed'));
      return;
    }
    this.tapOn?.outgoing(datagram, { address, port });
    if (this.queue.length > 0) {
      this.queue.push({ datagram, address, port, done });
      return;
    }
    this.sendNow({ datagram, address, port, done });
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.pump = null; // the helper frees it with the socket
    this.native.close(this.handle);
    const dropped = this.queue.splice(0);
    for (const q of dropped) q.done(new Error('the socket closed before the datagram left'));
    const listeners = this.closeListeners;
    this.closeListeners = [];
    for (const listener of listeners) listener();
  }

  /** Runs `listener` once the socket is closed (at once if it is). */
  whenClosed(listener: () => void): void {
    if (this.closed) listener();
    else this.closeListeners.push(listener);
  }

  /** False when the send buffer is full (the datagram is then first in the queue). */
  private sendNow(q: Queued): boolean {
    let sent: number;
    try {
      sent = this.native.sendTo(this.fd, q.datagram, q.address, q.port);
    } catch (err) {
      q.done(err instanceof Error ? err : new Error(String(err)));
      return true;
    }
    if (sent < 0) {
      if (this.queue[0] !== q) this.queue.unshift(q);
      this.native.waitWritable(this.handle);
      return false;
    }
    if (this.queue[0] === q) this.queue.shift();
    q.done(null);
    return true;
  }

  private onBatch(count: number, handlers: NativeUdpHandlers): void {
    if (this.closed) return;
    if (count === 0) {
      // Writable again: the queue goes out in order until it is empty or the buffer fills.
      for (let q = this.queue[0]; q !== undefined && !this.closed; q = this.queue[0]) {
        if (!this.sendNow(q)) return;
      }
      return;
    }
    if (count < 0) {
      handlers.error(new Error(`recvmmsg failed (errno ${-count})`));
      return;
    }
    for (let i = 0; i < count && !this.closed; i++) {
      const m = i * META_BYTES;
      const length = meta.readUInt32LE(m);
      if (length === CONSUMED) continue; // answered by the pump
      const port = meta.readUInt16LE(m + 4);
      const address = this.sourceAddress(m);
      if (length > SLOT_BYTES) {
        handlers.oversized(length, address, port);
        continue;
      }
      const data = arena.subarray(i * SLOT_BYTES, i * SLOT_BYTES + length);
      // The tap gets a copy: the arena is overwritten by the next batch.
      this.tapOn?.incoming(Buffer.from(data), { address, port });
      handlers.datagram(data, address, port);
    }
  }

  private sourceAddress(m: number): string {
    const family = meta[m + 6] === 6 ? 6 : 4;
    if (family === 4) {
      const key = meta.readUInt32BE(m + 8);
      if (key === this.lastKey) return this.lastAddress;
      this.lastKey = key;
      this.lastAddress = formatAddress(meta, m + 8, 4);
      return this.lastAddress;
    }
    this.lastKey = -1;
    return formatAddress(meta, m + 8, 6);
  }
}
