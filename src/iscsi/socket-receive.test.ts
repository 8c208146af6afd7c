// adoptSocket on real TCP sockets: every byte arrives, in order, in the buffers the target
// offers; the adopted socket writes, pauses, ends and closes like any other; the server's own
// bookkeeping lets it close.
import assert from 'node:assert/strict';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { once } from 'node:events';
import { test } from 'node:test';
import { adoptSocket } from './socket-receive.ts';

async function listen(server: Server): Promise<number> {
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const address = server.address();
  return typeof address === 'object' && address !== null ? address.port : 0;
}

test('socket receive: an accepted socket reads into the buffers the target offers', async () => {
  const received: Buffer[] = [];
  const offered: Buffer[] = [];
  let current = Buffer.alloc(0);
  let adopted: Socket | null = null;
  const server = createServer({ pauseOnConnect: true }, (socket) => {
    adopted = adoptSocket(socket, {
      readBuffer: () => {
        // Small and varying, so that one message takes many reads.
        current = Buffer.alloc(1 + (offered.length % 7) * 100);
        offered.push(current);
        return current;
      },
      received: (length) => {
        received.push(Buffer.from(current.subarray(0, length)));
        if (received.reduce((n, b) => n + b.length, 0) >= 100_000) adopted?.end('done');
      },
    });
  });
  const port = await listen(server);
  const client = connect(port, '127.0.0.1');
  const message = Buffer.alloc(100_000);
  for (let i = 0; i < message.length; i++) message[i] = (i * 13) & 0xff;
  client.write(message);
  const reply: Buffer[] = [];
  client.on('data', (d: Buffer) => reply.push(d));
  await once(client, 'end');
  assert.ok(adopted !== null, 'adopted');
  assert.ok(Buffer.concat(received).equals(message));
  assert.equal(Buffer.concat(reply).toString(), 'done');
  client.destroy();
  await once(adopted as Socket, 'close');
  // The server no longer counts the shell: close() completes.
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

test('socket receive: pause() stops reads and resume() restarts them', async () => {
  let total = 0;
  let adopted: Socket | null = null;
  const buffer = Buffer.alloc(4096);
  const server = createServer({ pauseOnConnect: true }, (socket) => {
    adopted = adoptSocket(socket, { readBuffer: () => buffer, received: (length) => (total += length) });
    adopted?.pause();
  });
  const port = await listen(server);
  const client = connect(port, '127.0.0.1');
  client.write(Buffer.alloc(50_000));
  await new Promise((r) => setTimeout(r, 100));
  assert.equal(total, 0, 'nothing read while paused');
  (adopted as Socket | null)?.resume();
  while (total < 50_000) await new Promise((r) => setTimeout(r, 10));
  assert.equal(total, 50_000);
  client.destroy();
  (adopted as Socket | null)?.destroy();
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

test('socket receive: a socket that already reads is not adopted', async () => {
  let result: Socket | null | undefined;
  const server = createServer((socket) => {
    result = adoptSocket(socket, { readBuffer: () => Buffer.alloc(16), received: () => undefined });
    socket.destroy();
  });
  const port = await listen(server);
  const client = connect(port, '127.0.0.1');
  await once(client, 'close');
  assert.equal(result, null);
  await new Promise<void>((resolve) => server.close(() => resolve()));
});
