// Binding a UDP socket as a promise (dgram's bind reports failure only through 'error').
import type { Socket } from 'node:dgram';

export function bindUdp(socket: Socket, address: string, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    socket.once('error', reject);
    socket.bind({ address, port, exclusive: true }, () => {
      socket.off('error', reject);
      resolve();
    });
  });
}
