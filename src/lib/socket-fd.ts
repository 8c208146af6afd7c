// The file descriptor under a Node dgram socket, for the native senders of native/udp-batch.c
// (TFTP windows in src/tftp/batch-send.ts, DHCP replies in src/dhcp/reply-batch.ts): Node has
// no public way to show it, so it is read from the socket's internal state, defensively.
import type { Socket } from 'node:dgram';

/** The fd of a bound dgram socket, from Node's internal state; null when it cannot be seen. */
export function socketFd(socket: Socket): number | null {
  const state = Object.getOwnPropertySymbols(socket).find((s) => s.description === 'state symbol');
  if (state === undefined) return null;
  const handle: unknown = (socket as unknown as Record<symbol, { handle?: { fd?: unknown } } | undefined>)[state]?.handle;
  const fd = typeof handle === 'object' && handle !== null ? (handle as { fd?: unknown }).fd : undefined;
  return typeof fd === 'number' && Number.isInteger(fd) && fd >= 0 ? fd : null;
}
