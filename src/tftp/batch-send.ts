// A window of DATA leaves in one system call where Linux allows it.
//
// Node's dgram module sends one datagram per sendmsg, each with a libuv request and a JS
// callback. On loopback and on a 2-core server that per-datagram trip down the UDP/IP stack is
// most of windowed TFTP's cost (a profile: 88% of the server's busy time inside sendmsg). The
// native helper (native/udp-batch.c) sends the whole window on the transfer socket's own fd:
// one sendmsg with UDP generic segmentation offload (UDP_SEGMENT: the kernel walks the stack
// once and cuts the payload into equal datagrams, the last one shorter), else one sendmmsg.
// The datagrams on the wire are the same as Node's, byte for byte.
//
// Falls back to the socket's own send, per datagram, when the helper is not built, when the fd
// cannot be seen (Node keeps it in internal state, looked up defensively), when the send buffer
// is full (EAGAIN: the socket then queues and polls, as it does for any send), and while earlier
// datagrams of this transfer are still queued (order on the wire must hold).
import type { Logger } from 'pino';
import { loadAddon } from '../lib/native-addon.ts';
import type { SendWindow } from './window-sender.ts';
import { eachDatagram } from './window-sender.ts';

interface UdpBatchNative {
  /** Sends the concatenated parts as datagrams of `segment` bytes (the last shorter); bytes sent. */
  sendSegmented(fd: number, parts: readonly Buffer[], segment: number, address: string, port: number): number;
  /** One sendmmsg; datagram i is parts[ends[i-1]..ends[i]); how many left (fewer on EAGAIN). */
  sendEach(fd: number, parts: readonly Buffer[], ends: readonly number[], address: string, port: number): number;
}

/** The kernel's limits for one segmented send: 64 datagrams (UDP_MAX_SEGMENTS) in one IP packet. */
const MAX_SEGMENTS = 64;
const MAX_SEGMENTED_PAYLOAD = 65_507;
/** The helper's limit on parts per call (two per datagram). */
const MAX_PARTS = 128;

/** errno codes that mean "this socket or route cannot segment", not "the network failed". */
const NO_GSO = new Set(['EIO', 'EINVAL', 'ENOPROTOOPT', 'EOPNOTSUPP']);

export interface BatchSendStats {
  segmented: number;
  mmsg: number;
  viaSocket: number;
}

/** Process-wide counts of windows sent each way (for tests and the benchmark's notes). */
export const batchSendStats: BatchSendStats = { segmented: 0, mmsg: 0, viaSocket: 0 };

export interface Peer {
  readonly address: string;
  readonly port: number;
}

/** The transfer socket as the sink needs it (transfer-socket.ts has one for each kind of socket). */
export interface DatagramPath {
  /** The fd for the batch sends, or null while it cannot take them (none seen, datagrams queued). */
  directFd(): number | null;
  /** One datagram (the parts concatenated) the socket's own way: queued behind a full buffer. */
  sendOne(parts: Buffer[], peer: Peer, cb: (err: Error | null) => void): void;
}

function loadNative(): UdpBatchNative | null {
  const loaded = loadAddon<UdpBatchNative>('udp_batch', ['sendSegmented', 'sendEach']);
  return 'native' in loaded ? loaded.native : null;
}

/**
 * A SendWindow for one transfer socket. `native` is for tests; by default the helper is loaded
 * (once per process) and the socket's own send is used when it is missing.
 */
export function windowSink(path: DatagramPath, peer: Peer, log: Logger, native: UdpBatchNative | null = loadNative()): SendWindow {
  const viaSocket = eachDatagram((parts, cb) => path.sendOne(parts, peer, cb));
  if (native === null) return viaSocket;
  let gso = true;

  /** Datagrams [from, to) of the window as one segmented send; false when it cannot be. */
  const segmented = (fd: number, parts: readonly Buffer[], ends: readonly number[], from: number, to: number): boolean => {
    const first = from === 0 ? 0 : (ends[from - 1] ?? 0);
    const last = ends[to - 1] ?? 0;
    const slice = parts.slice(first, last);
    let segment = 0;
    let start = first;
    for (let i = from; i < to; i++) {
      const end = ends[i] ?? start;
      let bytes = 0;
      for (let p = start; p < end; p++) bytes += parts[p]?.length ?? 0;
      // Every datagram but the last must be exactly one segment long.
      if (i === from) segment = bytes;
      else if (bytes > segment || (bytes < segment && i !== to - 1)) return false;
      start = end;
    }
    if (segment === 0) return false;
    native.sendSegmented(fd, slice, segment, peer.address, peer.port);
    batchSendStats.segmented++;
    return true;
  };

  return (parts, ends, cb) => {
    const fd = path.directFd();
    if (fd === null) {
      batchSendStats.viaSocket++;
      viaSocket(parts, ends, cb);
      return;
    }
    let from = 0;
    try {
      // Lock-step (one DATA per ACK, what PXE ROMs do): one sendmmsg of one datagram, without
      // the segmentation's control message or the slices below.
      if (ends.length === 1) {
        from = native.sendEach(fd, parts, ends, peer.address, peer.port);
        batchSendStats.mmsg++;
      } else while (from < ends.length) {
        const to = batchEnd(parts, ends, from);
        if (gso) {
          // The window's first datagram leaves alone: the client wakes and starts reading it while
          // the kernel segments the rest (in one batch the client waits for the whole window;
          // atftp with windowsize 16 measured about 0.8x of atftpd's throughput that way).
          const lead = from === 0 && to > 2 ? 1 : to;
          try {
            if (segmented(fd, parts, ends, from, lead)) {
              from = lead;
              continue;
            }
          } catch (err) {
            const code = (err as { code?: unknown }).code;
            if (code === 'EAGAIN') break;
            if (typeof code !== 'string' || !NO_GSO.has(code)) throw err;
            gso = false; // this route cannot segment (MTU below the block, no checksum offload)
            log.debug({ code }, 'UDP segmentation refused; sending windows with sendmmsg');
          }
        }
        const base = from === 0 ? 0 : (ends[from - 1] ?? 0);
        const localEnds = ends.slice(from, to).map((end) => end - base);
        const sent = native.sendEach(fd, parts.slice(base, ends[to - 1]), localEnds, peer.address, peer.port);
        batchSendStats.mmsg++;
        from += sent;
        if (from < to) break; // the send buffer is full: the socket queues the rest
      }
    } catch (err) {
      cb(err instanceof Error ? err : new Error(String(err)));
      return;
    }
    if (from >= ends.length) {
      cb(null);
      return;
    }
    batchSendStats.viaSocket++;
    const base = from === 0 ? 0 : (ends[from - 1] ?? 0);
    viaSocket(
      parts.slice(base),
      ends.slice(from).map((end) => end - base),
      cb,
    );
  };
}

/** The end (exclusive datagram index) of the largest batch from `from` the kernel takes at once. */
function batchEnd(parts: readonly Buffer[], ends: readonly number[], from: number): number {
  let bytes = 0;
  let start = from === 0 ? 0 : (ends[from - 1] ?? 0);
  let to = from;
  while (to < ends.length && to - from < MAX_SEGMENTS) {
    const end = ends[to] ?? start;
    let size = 0;
    for (let p = start; p < end; p++) size += parts[p]?.length ?? 0;
    if (to > from && (bytes + size > MAX_SEGMENTED_PAYLOAD || end - (from === 0 ? 0 : (ends[from - 1] ?? 0)) > MAX_PARTS)) break;
    bytes += size;
    start = end;
    to++;
  }
  return to;
}
