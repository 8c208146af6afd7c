// The file descriptor under a Node socket, for the native helpers: a dgram socket's for the
// senders of native/udp-batch.c (TFTP windows in src/tftp/batch-send.ts, DHCP replies in
// src/dhcp/reply-batch.ts), a TCP socket's for TCP_QUICKACK (lib/tcp-quickack.ts). Node has no
// public way to show it, so it is read from the socket's internal state, defensively.
import dgram, { type Socket } from 'node:dgram';
import type { Socket as TcpSocket } from 'node:net';

/** The fd of a bound dgram socket, from Node's internal state; null when it cannot be seen. */
export function socketFd(socket: Socket): number | null {
  const state = Object.getOwnPropertySymbols(socket).find((s) => s.description === 'state symbol');
  if (state === undefined) return null;
  return fdOf((socket as unknown as Record<symbol, { handle?: unknown } | undefined>)[state]?.handle);
}

const nodeSend = dgram.Socket.prototype.send;

/**
 * The fd of a dgram socket for a batch sender, or null while its send() is not Node's own: a
 * packet capture's tap wraps send() (src/capture/socket-taps.ts) and must see every datagram.
 */
export function untappedSocketFd(socket: Socket): number | null {
  return socket.send === nodeSend ? socketFd(socket) : null;
}

/** The fd a libuv handle object shows, if it is a plain non-negative integer. */
function fdOf(handle: unknown): number | null {
  const fd = typeof handle === 'object' && handle !== null ? (handle as { fd?: unknown }).fd : undefined;
  return typeof fd === 'number' && Number.isInteger(fd) && fd >= 0 ? fd : null;
}

/** The fd under a connected net.Socket (libuv's TCP handle shows it on Unix), or null. */
export function tcpSocketFd(socket: TcpSocket): number | null {
  return fdOf((socket as unknown as { _handle?: unknown })._handle);
}
