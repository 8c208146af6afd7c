// The UDP sockets of this process as they are created, through diagnostics channels: Node's
// built-in 'udp.socket' for dgram sockets, and src/lib/native-udp.ts's for the native ones
// (TFTP transfers, DHCP). The packet capture so sees the DHCP and TFTP traffic (TFTP makes a
// socket per transfer) without a hook in those servers. Subscribing costs nothing per packet;
// only the taps a capture then puts on the sockets do.
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { Socket as UdpSocket } from 'node:dgram';
import { NATIVE_UDP_CHANNEL, NativeUdpSocket } from '../lib/native-udp.ts';
import { tapUdp, type UdpTap } from './socket-taps.ts';

/** A UDP socket of either kind, as the capture uses it. */
export interface WatchedUdpSocket {
  /** Where it is bound; throws while it is not. */
  address(): { address: string; port: number };
  /** Puts a tap on it; the returned function takes the tap off. */
  tap(tap: UdpTap): () => void;
  /** Runs `listener` once the socket closes. */
  onClose(listener: () => void): void;
}

function watchedDgram(socket: UdpSocket): WatchedUdpSocket {
  return { address: () => socket.address(), tap: (tap) => tapUdp(socket, tap), onClose: (listener) => void socket.once('close', listener) };
}

function watchedNative(socket: NativeUdpSocket): WatchedUdpSocket {
  return { address: () => socket.address(), tap: (tap) => socket.tap(tap), onClose: (listener) => socket.whenClosed(listener) };
}

/**
 * Calls `onUdp` with every UDP socket created from now on (a dgram socket before it is bound, a
 * native one once it is); returns how to stop.
 */
export function watchUdpSockets(onUdp: (socket: WatchedUdpSocket) => void): () => void {
  const socketOf = (message: unknown): unknown => (typeof message === 'object' && message !== null && 'socket' in message ? message.socket : null);
  const onDgram = (message: unknown): void => {
    const socket = socketOf(message);
    if (socket instanceof UdpSocket) onUdp(watchedDgram(socket));
  };
  const onNative = (message: unknown): void => {
    const socket = socketOf(message);
    if (socket instanceof NativeUdpSocket) onUdp(watchedNative(socket));
  };
  subscribe('udp.socket', onDgram);
  subscribe(NATIVE_UDP_CHANNEL, onNative);
  return () => {
    unsubscribe('udp.socket', onDgram);
    unsubscribe(NATIVE_UDP_CHANNEL, onNative);
  };
}

/** An address as the servers log it: IPv4 clients of a dual-stack socket without ::ffff:. */
export function plainAddress(address: string | undefined): string {
  const a = address ?? '';
  return a.startsWith('::ffff:') ? a.slice(7) : a;
}
