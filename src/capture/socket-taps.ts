// Taps on live UDP sockets, for diskless's own packet captures: what a socket receives (an
// extra 'message' listener, first in line, beside its owner's) and what it sends (a wrapper on
// its send(), which sees each datagram and destination before the kernel does). The wrapper
// sits on the socket object only while a capture runs; untapping deletes it, so the
// prototype's method is back untouched.
import type { Socket as UdpSocket } from 'node:dgram';
import type { DatagramTap, UdpEndpoint } from '../lib/native-udp.ts';

type SendFn = (...args: unknown[]) => unknown;

/** A peer's address and port (lib/native-udp.ts's, for taps of either kind of socket). */
export type Peer = UdpEndpoint;

function bytesOf(chunk: unknown, encoding?: BufferEncoding): Buffer {
  if (Buffer.isBuffer(chunk)) return chunk;
  if (typeof chunk === 'string') return Buffer.from(chunk, encoding ?? 'utf8');
  if (ArrayBuffer.isView(chunk)) return Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
  return Buffer.alloc(0);
}

/** Sets an own property that shadows the prototype's method; returns how to take it away. */
function shadow(target: object, name: string, value: unknown): () => void {
  Object.defineProperty(target, name, { value, configurable: true, writable: true, enumerable: false });
  return () => void Reflect.deleteProperty(target, name);
}

/** What a capture sees of a dgram socket: the same tap as a native socket takes. */
export type UdpTap = DatagramTap;

/**
 * The datagram and destination of a dgram send() call, from its overloads:
 * send(msg[, offset, length][, port][, address][, callback]); msg may be a list of buffers.
 */
export function sendArguments(args: readonly unknown[], connectedPeer: () => Peer | null): { bytes: Buffer; to: Peer | null } {
  const [msg, ...rest] = args;
  let bytes = Array.isArray(msg) ? Buffer.concat(msg.map((m) => bytesOf(m))) : bytesOf(msg);
  const numbers: number[] = [];
  while (typeof rest[numbers.length] === 'number') numbers.push(rest[numbers.length] as number);
  const after = rest[numbers.length];
  let port: number | null = null;
  if (numbers.length >= 3) {
    bytes = bytes.subarray(numbers[0], (numbers[0] ?? 0) + (numbers[1] ?? 0));
    port = numbers[2] ?? null;
  } else if (numbers.length === 2) {
    bytes = bytes.subarray(numbers[0], (numbers[0] ?? 0) + (numbers[1] ?? 0));
  } else if (numbers.length === 1) {
    port = numbers[0] ?? null;
  }
  if (port === null) return { bytes, to: connectedPeer() };
  // dgram sends to localhost when no address is given.
  return { bytes, to: { address: typeof after === 'string' ? after : '127.0.0.1', port } };
}

/** Taps a UDP socket; the returned function removes the tap. */
export function tapUdp(socket: UdpSocket, tap: UdpTap): () => void {
  const send = socket.send as unknown as SendFn;
  const connectedPeer = (): Peer | null => {
    try {
      const remote = socket.remoteAddress();
      return { address: remote.address, port: remote.port };
    } catch {
      return null; // not connected
    }
  };
  const undoSend = shadow(socket, 'send', (...args: unknown[]) => {
    const { bytes, to } = sendArguments(args, connectedPeer);
    tap.outgoing(bytes, to);
    return send.apply(socket, args);
  });
  const onMessage = (bytes: Buffer, from: { address: string; port: number }): void => tap.incoming(bytes, { address: from.address, port: from.port });
  socket.prependListener('message', onMessage);
  return () => {
    undoSend();
    socket.off('message', onMessage);
  };
}
