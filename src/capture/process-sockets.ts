// The UDP sockets of this process as they are created, through Node's built-in diagnostics
// channel 'udp.socket': the packet capture sees the DHCP and TFTP traffic (TFTP makes a socket
// per transfer) without a hook in those servers. Subscribing costs nothing per packet; only
// the taps a capture then puts on the sockets do.
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { Socket as UdpSocket } from 'node:dgram';

/** Calls `onUdp` with every UDP socket created from now on (not bound yet); returns how to stop. */
export function watchUdpSockets(onUdp: (socket: UdpSocket) => void): () => void {
  const listener = (message: unknown): void => {
    const socket = typeof message === 'object' && message !== null && 'socket' in message ? message.socket : null;
    if (socket instanceof UdpSocket) onUdp(socket);
  };
  subscribe('udp.socket', listener);
  return () => void unsubscribe('udp.socket', listener);
}

/** An address as the servers log it: IPv4 clients of a dual-stack socket without ::ffff:. */
export function plainAddress(address: string | undefined): string {
  const a = address ?? '';
  return a.startsWith('::ffff:') ? a.slice(7) : a;
}
