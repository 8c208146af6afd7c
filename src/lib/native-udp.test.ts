import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { closeSync, existsSync, mkdtempSync, openSync, readlinkSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SocketAddress } from 'node:net';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { boundSocket, receiveDatagrams } from './datagram-test-kit.ts';
import { formatAddress, NATIVE_UDP_CHANNEL, NativeUdpSocket, nativeUdpUnavailable, SLOT_BYTES, type UdpSocketNative } from './native-udp.ts';

interface Got {
  readonly bytes: Buffer;
  readonly address: string;
  readonly port: number;
}

/** A native socket on loopback that keeps copies of what it receives (the views are reused). */
function openCollecting(family: 4 | 6 = 4): { socket: NativeUdpSocket; got: Got[]; oversized: number[]; batches: number[] } {
  const got: Got[] = [];
  const oversized: number[] = [];
  const batches: number[] = [];
  let inBatch = 0;
  const socket = NativeUdpSocket.open(family, family === 4 ? '127.0.0.1' : '::1', 0, {
    datagram: (data, address, port) => {
      got.push({ bytes: Buffer.from(data), address, port });
      inBatch++;
      queueMicrotask(() => {
        if (inBatch > 0) batches.push(inBatch);
        inBatch = 0;
      });
    },
    oversized: (bytes) => oversized.push(bytes),
    error: (err) => assert.fail(err),
  });
  return { socket, got, oversized, batches };
}

async function until(check: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 3000;
  while (!check()) {
    if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

/** 16 address bytes written out in full, the form no formatter would choose. */
const longForm = (bytes: Uint8Array): string => Array.from({ length: 8 }, (_, i) => (((bytes[2 * i] ?? 0) << 8) | (bytes[2 * i + 1] ?? 0)).toString(16)).join(':');

describe('formatAddress', () => {
  test('IPv6 text as inet_ntop writes it (Node\'s SocketAddress is the reference), zero runs favoured', () => {
    const word = fc.oneof(fc.constant(0), fc.constant(0), fc.constant(0xffff), fc.integer({ min: 0, max: 0xffff }));
    fc.assert(
      fc.property(fc.array(word, { minLength: 8, maxLength: 8 }), (words) => {
        const bytes = new Uint8Array(16);
        words.forEach((w, i) => {
          bytes[2 * i] = w >> 8;
          bytes[2 * i + 1] = w & 0xff;
        });
        const expected = new SocketAddress({ address: longForm(bytes), family: 'ipv6' }).address;
        assert.equal(formatAddress(bytes, 0, 6), expected);
      }),
      { numRuns: 3000 },
    );
  });

  test('mapped and compatible IPv4, loopback, unspecified, and IPv4 itself', () => {
    const cases: Array<[string, string]> = [
      ['0:0:0:0:0:ffff:7f00:1', '::ffff:127.0.0.1'],
      ['0:0:0:0:0:0:a00:1', '::10.0.0.1'],
      ['0:0:0:0:0:0:0:1', '::1'],
      ['0:0:0:0:0:0:0:0', '::'],
      ['fe80:0:0:0:0:0:0:0', 'fe80::'],
      ['1:0:0:1:0:0:0:1', '1:0:0:1::1'],
      ['1:0:0:1:1:0:0:1', '1::1:1:0:0:1'],
      ['2001:db8:0:1:1:1:1:1', '2001:db8:0:1:1:1:1:1'],
    ];
    for (const [long, short] of cases) {
      const bytes = Buffer.alloc(16);
      long.split(':').forEach((w, i) => bytes.writeUInt16BE(parseInt(w, 16), 2 * i));
      assert.equal(formatAddress(bytes, 0, 6), short, long);
      assert.equal(new SocketAddress({ address: long, family: 'ipv6' }).address, short, `reference for ${long}`);
    }
    assert.equal(formatAddress(Buffer.from([10, 250, 0, 1]), 0, 4), '10.250.0.1');
  });
});

describe('NativeUdpSocket', { skip: nativeUdpUnavailable() ?? undefined }, () => {
  test('datagrams arrive byte for byte, in order, with the sender\'s address and port, several per batch', async () => {
    const { socket, got, batches } = openCollecting();
    const tx = await boundSocket();
    try {
      // Few and small enough for the receive buffer's default size (more would be dropped, not queued).
      const sent = Array.from({ length: 48 }, (_, i) => randomBytes(1 + ((i * 37) % 1000)));
      // Sent in one synchronous burst, so that several wait in the socket at once.
      for (const d of sent) tx.send(d, socket.port, '127.0.0.1');
      await until(() => got.length === sent.length, 'all 48 datagrams');
      assert.deepEqual(
        got.map((g) => g.bytes),
        sent,
      );
      for (const g of got) assert.deepEqual([g.address, g.port], ['127.0.0.1', tx.address().port]);
      assert.ok(Math.max(...batches) > 1, `batches of ${batches.join(',')}: recvmmsg read one at a time`);
    } finally {
      socket.close();
      tx.close();
    }
  });

  test('IPv6: the source reads as Node writes it', async () => {
    const { socket, got } = openCollecting(6);
    const tx = await boundSocket('udp6', '::1');
    try {
      tx.send(Buffer.from('hello'), socket.port, '::1');
      await until(() => got.length === 1, 'the datagram');
      assert.deepEqual([got[0]?.bytes.toString(), got[0]?.address, got[0]?.port], ['hello', '::1', tx.address().port]);
    } finally {
      socket.close();
      tx.close();
    }
  });

  test('a datagram longer than a slot is reported with its real length, not cut and delivered', async () => {
    const { socket, got, oversized } = openCollecting();
    const tx = await boundSocket();
    try {
      tx.send(randomBytes(SLOT_BYTES + 100), socket.port, '127.0.0.1');
      tx.send(Buffer.from('after'), socket.port, '127.0.0.1');
      await until(() => got.length === 1, 'the next datagram');
      assert.deepEqual(oversized, [SLOT_BYTES + 100]);
      assert.equal(got[0]?.bytes.toString(), 'after');
    } finally {
      socket.close();
      tx.close();
    }
  });

  test('sends reach the peer; a socket closed inside its handler hears nothing more and gives back its fd', async () => {
    const rx = await boundSocket();
    let heard = 0;
    const socket = NativeUdpSocket.open(4, '127.0.0.1', 0, {
      datagram: () => {
        heard++;
        socket.close();
      },
      oversized: () => assert.fail('oversized'),
      error: (err) => assert.fail(err),
    });
    const fdLink = readlinkSync(`/proc/self/fd/${socket.fd}`);
    assert.match(fdLink, /^socket:/);
    try {
      const arriving = receiveDatagrams(rx, 2);
      let done = 0;
      socket.send(Buffer.from('one'), rx.address().port, '127.0.0.1', (err) => {
        assert.equal(err, null);
        done++;
      });
      socket.send(Buffer.from('two'), rx.address().port, '127.0.0.1');
      assert.deepEqual(
        (await arriving).map((b) => b.toString()),
        ['one', 'two'],
      );
      assert.equal(done, 1);
      for (let i = 0; i < 5; i++) rx.send(Buffer.from([i]), socket.port, '127.0.0.1');
      await until(() => heard > 0, 'the first datagram');
      await new Promise((resolve) => setTimeout(resolve, 50));
      assert.equal(heard, 1);
      let now: string | null = null;
      try {
        now = readlinkSync(`/proc/self/fd/${socket.fd}`);
      } catch {
        // closed, as it should be
      }
      assert.notEqual(now, fdLink, 'the fd was closed');
      let failed: Error | null = null;
      socket.send(Buffer.from('late'), rx.address().port, '127.0.0.1', (err) => {
        failed = err;
      });
      assert.ok(failed !== null, 'a send after close fails');
      socket.close();
    } finally {
      socket.close();
      rx.close();
    }
  });

  test('a tap sees copies of what arrives and what is sent; off again, it sees nothing; close is announced', async () => {
    const rx = await boundSocket();
    const announced: unknown[] = [];
    const onOpen = (message: unknown): void => void announced.push((message as { socket: unknown }).socket);
    subscribe(NATIVE_UDP_CHANNEL, onOpen);
    const c = openCollecting();
    unsubscribe(NATIVE_UDP_CHANNEL, onOpen);
    assert.deepEqual(announced, [c.socket], 'published on open');
    assert.deepEqual(c.socket.address(), { address: '127.0.0.1', port: c.socket.port });
    const seen: string[] = [];
    const untap = c.socket.tap({
      incoming: (bytes, from) => seen.push(`in ${bytes.toString()} ${from.address}:${from.port === rx.address().port ? 'rx' : from.port}`),
      outgoing: (bytes, to) => seen.push(`out ${bytes.toString()} ${to?.address}:${to?.port === rx.address().port ? 'rx' : to?.port}`),
    });
    assert.equal(c.socket.directFd(), null, 'no batch sends past the tap');
    let closed = 0;
    c.socket.whenClosed(() => closed++);
    try {
      const arriving = receiveDatagrams(rx, 2);
      c.socket.send(Buffer.from('hello'), rx.address().port, '127.0.0.1');
      rx.send('back', c.socket.port, '127.0.0.1');
      await until(() => c.got.length === 1, 'the datagram');
      untap();
      assert.equal(c.socket.directFd(), c.socket.fd);
      c.socket.send(Buffer.from('quiet'), rx.address().port, '127.0.0.1');
      await arriving;
      assert.deepEqual(seen, ['out hello 127.0.0.1:rx', 'in back 127.0.0.1:rx']);
    } finally {
      c.socket.close();
      rx.close();
    }
    assert.equal(closed, 1);
    c.socket.whenClosed(() => closed++);
    assert.equal(closed, 2, 'at once when already closed');
  });

  test('reuseAddr lets a socket share a port with one bound to another address of it (DHCP: 0.0.0.0:67 and its own:67)', () => {
    const handlers = { datagram: () => {}, oversized: () => {}, error: () => {} };
    const wild = NativeUdpSocket.open(4, '0.0.0.0', 0, handlers, { reuseAddr: true, broadcast: true, receiveBufferBytes: 1 << 20 });
    try {
      assert.throws(() => NativeUdpSocket.open(4, '127.0.0.1', wild.port, handlers), (err: unknown) => (err as { code?: string }).code === 'EADDRINUSE', 'not without it');
      const local = NativeUdpSocket.open(4, '127.0.0.1', wild.port, handlers, { reuseAddr: true });
      assert.equal(local.port, wild.port);
      local.close();
    } finally {
      wild.close();
    }
  });

  // A file on disk (RWF_NOWAIT reads) and one on tmpfs (plain reads: RWF_NOWAIT is refused there).
  for (const base of [tmpdir(), ...(existsSync('/dev/shm') ? ['/dev/shm'] : [])]) {
    test(`the pump answers the outstanding ACK from the file (in ${base}), and leaves everything to JavaScript while tapped`, async () => {
      const dir = mkdtempSync(join(base, 'diskless-pump-'));
      const file = join(dir, 'f.bin');
      const data = randomBytes(1000);
      writeFileSync(file, data);
      const fd = openSync(file, 'r');
      const peer = await boundSocket();
      const c = openCollecting();
      try {
        const pump = c.socket.startPump(fd, data.length, 300, 1, { address: '127.0.0.1', port: peer.address().port }, 0, 1);
        assert.ok(pump !== null, 'this helper has the pump');
        const ack = (block: number): void => void peer.send(Buffer.from([0, 4, block >> 8, block & 0xff]), c.socket.port, '127.0.0.1');
        // Block 1 is out (JavaScript sent it): ACK 1 gets DATA 2, bytes 300..599, from the pump.
        const two = receiveDatagrams(peer, 1);
        ack(1);
        assert.deepEqual((await two)[0], Buffer.concat([Buffer.from([0, 3, 0, 2]), data.subarray(300, 600)]));
        assert.deepEqual([...pump.cells], [1, 2, 1, 1]);
        // A duplicate ACK 1 is not the outstanding block's: JavaScript hears it.
        ack(1);
        await until(() => c.got.length === 1, 'the duplicate in JavaScript');
        assert.deepEqual([...pump.cells], [1, 2, 1, 1]);
        // Tapped: the capture must see the ACK, so JavaScript gets it and the pump does nothing.
        const untap = c.socket.tap({ incoming: () => {}, outgoing: () => {} });
        ack(2);
        await until(() => c.got.length === 2, 'the ACK in JavaScript');
        assert.deepEqual([...pump.cells], [1, 2, 1, 0]);
        untap();
        assert.equal(pump.cells[3], 1);
        c.socket.stopPump();
      } finally {
        c.socket.close();
        peer.close();
        closeSync(fd);
        rmSync(dir, { recursive: true, force: true });
      }
    });
  }

  test('binding a port in use fails with EADDRINUSE', async () => {
    const taken = await boundSocket();
    try {
      assert.throws(
        () => NativeUdpSocket.open(4, '127.0.0.1', taken.address().port, { datagram: () => {}, oversized: () => {}, error: () => {} }),
        (err: unknown) => (err as { code?: string }).code === 'EADDRINUSE',
      );
    } finally {
      taken.close();
    }
  });
});

describe('NativeUdpSocket send queue (a stand-in helper whose send buffer fills)', () => {
  test('a full buffer queues datagrams in order, waits for writable once, and drains when told', () => {
    let room = 1;
    let onBatch: (count: number) => void = () => {};
    const wire: string[] = [];
    let waits = 0;
    const fake: UdpSocketNative = {
      open: (_family, _address, _port, _arena, _meta, _slot, cb) => {
        onBatch = cb;
        return [{}, 99, 4242];
      },
      sendTo: (_fd, datagram) => {
        if (room === 0) return -1;
        room--;
        wire.push(datagram.toString());
        return datagram.length;
      },
      waitWritable: () => {
        waits++;
      },
      close: () => {},
    };
    const socket = NativeUdpSocket.open(4, '127.0.0.1', 0, { datagram: () => {}, oversized: () => {}, error: () => {} }, {}, fake);
    const done: string[] = [];
    for (const text of ['a', 'b', 'c', 'd']) socket.send(Buffer.from(text), 9, '127.0.0.1', (err) => done.push(`${text}:${err === null ? 'ok' : err.message}`));
    assert.deepEqual(wire, ['a']);
    assert.deepEqual(done, ['a:ok']);
    assert.equal(socket.queued, 3);
    assert.equal(waits, 1, 'asked for writable once');
    room = 1;
    onBatch(0);
    assert.deepEqual(wire, ['a', 'b']);
    assert.equal(waits, 2, 'full again after one: asked again');
    room = 10;
    onBatch(0);
    assert.deepEqual(wire, ['a', 'b', 'c', 'd']);
    assert.deepEqual(done, ['a:ok', 'b:ok', 'c:ok', 'd:ok']);
    assert.equal(socket.queued, 0);
    room = 0;
    socket.send(Buffer.from('e'), 9, '127.0.0.1', (err) => done.push(`e:${err === null ? 'ok' : 'dropped'}`));
    socket.close();
    assert.deepEqual(done.at(-1), 'e:dropped', 'close fails what is still queued');
  });
});
