// The UDP socket of one read transfer (its TID, RFC 1350 section 4), of one of two kinds:
//
// - native (src/lib/native-udp.ts), when the helper is built: ACKs arrive in batches without
//   an allocation per datagram, so the next window leaves sooner after each ACK;
// - Node's dgram socket otherwise, exactly as before the helper existed.
//
// Both bind to the server's listening address on a port the kernel picks, hand each datagram to
// the session as (bytes, address, port), and give the window sender its batch-send path.
import { createSocket, type Socket } from 'node:dgram';
import type { Logger } from 'pino';
import { NativeUdpSocket, useNativeUdp, type PumpState } from '../lib/native-udp.ts';
import { untappedSocketFd } from '../lib/socket-fd.ts';
import { bindUdp } from '../lib/udp.ts';
import type { DatagramPath, Peer } from './batch-send.ts';

/** `bytes` is valid during the call only (the native socket reuses its memory). */
export type PacketHandler = (bytes: Buffer, address: string, port: number) => void;

export interface TransferSocket extends DatagramPath {
  readonly kind: 'native' | 'node';
  /** Sends one packet (OACK, ERROR, a lock-step DATA); failures are logged, as UDP loses packets anyway. */
  send(packet: Buffer, peer: Peer): void;
  /**
   * Lets the native helper answer the window ACKs of a transfer from the file itself
   * (native/udp-socket.c, pumpStart); null where it cannot (Node's socket, an older helper).
   */
  startPump(fileFd: number, fileSize: number, blockSize: number, windowSize: number, peer: Peer, acked: number, sent: number): PumpState | null;
  stopPump(): void;
  close(): void;
}


/**
 * A socket bound to `address` (port 0), delivering to `onPacket`; rejects with the bind's error.
 * Native when `preferNative` and the helper is built.
 */
export async function openTransferSocket(family: 'udp4' | 'udp6', address: string, log: Logger, onPacket: PacketHandler, preferNative = true): Promise<TransferSocket> {
  if (preferNative && useNativeUdp(log, 'TFTP transfer sockets')) return openNative(family, address, log, onPacket);
  return openNode(family, address, log, onPacket);
}

function openNative(family: 'udp4' | 'udp6', address: string, log: Logger, onPacket: PacketHandler): TransferSocket {
  const socket = NativeUdpSocket.open(family === 'udp4' ? 4 : 6, address, 0, {
    datagram: onPacket,
    // Nothing a client sends to a transfer socket is this long (ACK 4 bytes, ERROR a message).
    oversized: (bytes, from, port) => log.debug({ bytes, from: `${from}:${port}` }, 'oversized packet dropped'),
    error: (err) => log.debug({ err }, 'transfer socket error'),
  });
  const onSent = (err: Error | null): void => {
    if (err !== null) log.debug({ err }, 'send failed');
  };
  return {
    kind: 'native',
    directFd: () => socket.directFd(),
    sendOne: (parts, peer, cb) => socket.send(parts.length === 1 && parts[0] !== undefined ? parts[0] : Buffer.concat(parts), peer.port, peer.address, cb),
    send: (packet, peer) => socket.send(packet, peer.port, peer.address, onSent),
    startPump: (fileFd, fileSize, blockSize, windowSize, peer, acked, sent) => socket.startPump(fileFd, fileSize, blockSize, windowSize, peer, acked, sent),
    stopPump: () => socket.stopPump(),
    close: () => socket.close(),
  };
}

async function openNode(family: 'udp4' | 'udp6', address: string, log: Logger, onPacket: PacketHandler): Promise<TransferSocket> {
  const socket: Socket = createSocket({ type: family });
  await bindUdp(socket, address, 0);
  socket.on('message', (msg, rinfo) => onPacket(msg, rinfo.address, rinfo.port));
  socket.on('error', (err) => log.debug({ err }, 'transfer socket error'));
  let closed = false;
  return {
    kind: 'node',
    ...nodeDatagramPath(socket),
    send: (packet, peer) =>
      socket.send(packet, peer.port, peer.address, (err) => {
        if (err !== null) log.debug({ err }, 'send failed');
      }),
    startPump: () => null,
    stopPump: () => {},
    close: () => {
      if (closed) return;
      closed = true;
      socket.close();
    },
  };
}

/**
 * The batch-send path of a Node dgram socket: its fd while none of its sends are queued in
 * libuv and no capture's tap is on.
 */
export function nodeDatagramPath(socket: Socket): DatagramPath {
  let queued = 0; // datagrams handed to Node's send and not yet completed
  return {
    directFd: () => (queued === 0 ? untappedSocketFd(socket) : null),
    sendOne: (parts, peer, cb) => {
      queued++;
      socket.send(parts, peer.port, peer.address, (err) => {
        queued--;
        cb(err);
      });
    },
  };
}
