// Acknowledge received TCP data now rather than after the delayed-ACK timer (native/tcp-quickack.c
// says why: iPXE waits for that ACK between an iSCSI PDU's header and its data). Without the
// native helper, or without a visible fd, this does nothing: the ACK then comes 40 ms later.
import type { Socket } from 'node:net';
import { loadAddon } from './native-addon.ts';
import { tcpSocketFd } from './socket-fd.ts';

interface QuickAckNative {
  quickAck(fd: number): void;
}

let native: QuickAckNative | null | undefined;

/** Sends the ACK for what `socket` has received, if one is pending; true when the kernel was asked. */
export function quickAck(socket: Socket): boolean {
  if (native === undefined) {
    const loaded = loadAddon<QuickAckNative>('tcp_quickack', ['quickAck']);
    native = 'native' in loaded ? loaded.native : null;
  }
  const fd = native === null ? null : tcpSocketFd(socket);
  if (native === null || fd === null) return false;
  try {
    native.quickAck(fd);
    return true;
  } catch {
    // The connection is going away (EBADF, ENOTCONN): nothing left to acknowledge.
    return false;
  }
}
