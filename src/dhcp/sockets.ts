// The DHCP server's UDP sockets, of one of two kinds:
//
// - native (src/lib/native-udp.ts), where the helper is built: libuv polls the fd and recvmmsg
//   reads up to BATCH_DATAGRAMS requests per call into memory shared by all such sockets, with
//   one call into JavaScript per batch. Node's dgram instead makes a recvmsg, a 64 KiB
//   allocation, a Buffer, an rinfo object and an event per datagram: under perfdhcp's load that
//   receive path was a large part of the server's CPU per exchange (docs/PERFORMANCE.md);
// - Node's dgram otherwise, exactly as before the helper existed.
//
// Both are bound with SO_REUSEADDR (the server binds 0.0.0.0:67 and its own address:67),
// SO_BROADCAST (replies to 255.255.255.255) and a receive buffer of RECEIVE_BUFFER_BYTES, and
// hand each datagram to the server as (bytes, address, port); `bytes` is valid during the call
// only (the decoder copies it).
import dgram from 'node:dgram';
import dns from 'node:dns';
import { isIPv4 } from 'node:net';
import type { Logger } from 'pino';
import { BATCH_DATAGRAMS, NativeUdpSocket, useNativeUdp } from '../lib/native-udp.ts';
import { bindUdp } from '../lib/udp.ts';
import { LIBUV_READS_PER_TURN } from './admission.ts';
import { dgramOutboxSocket, nativeOutboxSocket, type OutboxSocket } from './reply-batch.ts';

/**
 * SO_RCVBUF asked for (the kernel caps it at net.core.rmem_max). The default, about 200 KiB, holds
 * fewer than a hundred small datagrams (each costs a couple of KiB of kernel memory), and a
 * burst overflows it while the server is idle: perfdhcp's bursts lost a third of the datagrams
 * that way. 1 MiB holds several hundred, tens of milliseconds of work; deeper would let a
 * REQUEST wait behind so much that its client gives up before the ACK.
 */
export const RECEIVE_BUFFER_BYTES = 1024 * 1024;

/** `bytes` is valid during the call only. */
export type DhcpDatagramHandler = (bytes: Buffer, address: string, port: number) => void;

export interface DhcpSocket {
  readonly kind: 'native' | 'node';
  /** Where replies leave (reply-batch.ts). */
  readonly outbox: OutboxSocket;
  /** Datagrams one event-loop turn delivers at most when more are waiting: admission.ts's "behind". */
  readonly readsPerTurn: number;
  close(): Promise<void>;
}

/**
 * dgram resolves every destination through dns.lookup, which for an address literal still
 * defers the send to process.nextTick. Replies always go to literals: answer those at once.
 */
function literalLookup(hostname: string, options: unknown, callback: (err: NodeJS.ErrnoException | null, address: string, family: number) => void): void {
  if (isIPv4(hostname)) {
    callback(null, hostname, 4);
    return;
  }
  const family = typeof options === 'number' ? options : 4;
  dns.lookup(hostname, { family }, callback);
}

/**
 * A socket bound to address:port delivering to `onDatagram`; rejects with the bind's error
 * (err.code EADDRINUSE, EACCES, ...). Native when `preferNative` and the helper is built.
 */
export async function openDhcpSocket(address: string, port: number, log: Logger, onDatagram: DhcpDatagramHandler, onError: (err: Error) => void, preferNative = true): Promise<DhcpSocket> {
  if (preferNative && useNativeUdp(log, 'DHCP sockets')) return openNative(address, port, log, onDatagram, onError);
  return openNode(address, port, onDatagram, onError);
}

function openNative(address: string, port: number, log: Logger, onDatagram: DhcpDatagramHandler, onError: (err: Error) => void): DhcpSocket {
  let socket: NativeUdpSocket;
  try {
    socket = NativeUdpSocket.open(4, address, port, {
      datagram: onDatagram,
      // Larger than any DHCP request on Ethernet (1,472 bytes of UDP payload in one frame; RFC
      // 2131 section 2 has every agent accept 576).
      oversized: (bytes, from, fromPort) => log.warn({ bytes, from: `${from}:${fromPort}` }, 'oversized DHCP datagram dropped'),
      error: onError,
    }, { reuseAddr: true, broadcast: true, receiveBufferBytes: RECEIVE_BUFFER_BYTES });
  } catch (err) {
    // Worded as dgram's ("bind EADDRINUSE 0.0.0.0:67"), code kept.
    const code = err instanceof Error && 'code' in err && typeof err.code === 'string' ? err.code : 'EINVAL';
    throw Object.assign(new Error(`bind ${code} ${address}:${port}`), { code, cause: err });
  }
  return {
    kind: 'native',
    outbox: nativeOutboxSocket(socket),
    readsPerTurn: BATCH_DATAGRAMS,
    close: () => {
      socket.close();
      return Promise.resolve();
    },
  };
}

async function openNode(address: string, port: number, onDatagram: DhcpDatagramHandler, onError: (err: Error) => void): Promise<DhcpSocket> {
  const socket = dgram.createSocket({ type: 'udp4', reuseAddr: true, lookup: literalLookup, recvBufferSize: RECEIVE_BUFFER_BYTES });
  try {
    await bindUdp(socket, address, port);
  } catch (err) {
    socket.close();
    throw err;
  }
  socket.setBroadcast(true);
  socket.on('message', (bytes, rinfo) => onDatagram(bytes, rinfo.address, rinfo.port));
  socket.on('error', onError);
  return {
    kind: 'node',
    outbox: dgramOutboxSocket(socket),
    readsPerTurn: LIBUV_READS_PER_TURN,
    close: () => new Promise<void>((resolve) => socket.close(() => resolve())),
  };
}
