// For the tests of the UDP senders (src/tftp/batch-send.ts, src/dhcp/reply-batch.ts): real
// dgram sockets on loopback.
import { createSocket, type Socket, type SocketType } from 'node:dgram';

/** A socket bound to an ephemeral port of `address`. */
export function boundSocket(type: SocketType = 'udp4', address = '127.0.0.1'): Promise<Socket> {
  const s = createSocket(type);
  return new Promise((resolve, reject) => {
    s.once('error', reject);
    s.bind(0, address, () => resolve(s));
  });
}

/** The next `count` datagrams arriving at `socket`, in arrival order; rejects after 3 s. */
export function receiveDatagrams(socket: Socket, count: number): Promise<Buffer[]> {
  const got: Buffer[] = [];
  if (count === 0) return Promise.resolve(got);
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`only ${got.length} of ${count} datagrams arrived`)), 3000);
    const onMessage = (msg: Buffer): void => {
      got.push(msg);
      if (got.length === count) {
        clearTimeout(timer);
        socket.off('message', onMessage);
        resolve(got);
      }
    };
    socket.on('message', onMessage);
  });
}
