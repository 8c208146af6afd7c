// The reply outbox with real dgram sockets on loopback: what leaves through the native sendMany
// (or Node's send when the helper is missing, takes fewer than asked, or fails) arrives byte
// for byte, in order per destination, and every queued reply is reported once.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import type { Socket } from 'node:dgram';
import { after, before, describe, test } from 'node:test';
import { boundSocket as bound, receiveDatagrams as receive } from '../lib/datagram-test-kit.ts';
import type { ReplyBatchNative } from './reply-batch.ts';
import { dgramOutboxSocket, loadReplyBatch, ReplyOutbox, replyBatchStats } from './reply-batch.ts';

const turn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

interface Item {
  readonly to: number; // index of the receiving socket
  readonly bytes: Buffer;
}

/** `count` datagrams of DHCP-like sizes, spread round-robin over `destinations` receivers. */
function items(count: number, destinations: number): Item[] {
  return Array.from({ length: count }, (_, i) => ({ to: i % destinations, bytes: randomBytes(240 + ((i * 37) % 300)) }));
}

function recorder(): { sent: Item[]; failed: Error[]; hooks: { sent: (item: Item) => void; failed: (err: Error) => void } } {
  const sent: Item[] = [];
  const failed: Error[] = [];
  return { sent, failed, hooks: { sent: (item) => sent.push(item), failed: (err) => failed.push(err) } };
}

const real = ((): ReplyBatchNative | null => {
  const loaded = loadReplyBatch();
  return 'native' in loaded ? loaded.native : null;
})();
const NO_HELPER = real === null ? `native helper not available: ${(loadReplyBatch() as { error: string }).error}` : false;

describe('ReplyOutbox', () => {
  let tx: Socket;
  let rx: Socket[];
  before(async () => {
    tx = await bound();
    rx = [await bound(), await bound(), await bound()];
  });
  after(() => {
    tx.close();
    for (const s of rx) s.close();
  });
  const portOf = (i: number): number => rx[i]?.address().port ?? assert.fail('no receiver');

  /** Queues every item, lets `drive` send them, and checks each receiver got its own in order. */
  async function roundTrip(outbox: ReplyOutbox<Item>, all: readonly Item[], drive: () => Promise<void>): Promise<void> {
    const arriving = rx.map((s, i) => receive(s, all.filter((it) => it.to === i).length));
    for (const it of all) outbox.push(it.bytes, '127.0.0.1', portOf(it.to), it);
    await drive();
    const got = await Promise.all(arriving);
    got.forEach((datagrams, i) => assert.deepEqual(datagrams, all.filter((it) => it.to === i).map((it) => it.bytes), `receiver ${i}`));
  }

  test('the helper sends a turn of replies to several destinations, byte for byte, in order, 64 per call', { skip: NO_HELPER }, async () => {
    const { sent, failed, hooks } = recorder();
    const outbox = new ReplyOutbox<Item>(dgramOutboxSocket(tx), hooks, real);
    const all = items(150, 3);
    const before = { ...replyBatchStats };
    await roundTrip(outbox, all, async () => {
      assert.equal(outbox.size, 150, 'nothing leaves before the end of the turn');
      await turn();
      assert.equal(outbox.size, 0);
    });
    assert.deepEqual(sent, all, 'every reply reported once, in queue order');
    assert.deepEqual(failed, []);
    assert.equal(replyBatchStats.viaKernel - before.viaKernel, 150);
    assert.equal(replyBatchStats.batches - before.batches, 3, '64 + 64 + 22');
    assert.equal(replyBatchStats.viaSocket - before.viaSocket, 0);
  });

  test('flush() sends at once (the ACKs of one journal sync), and an empty flush does nothing', { skip: NO_HELPER }, async () => {
    const { sent, hooks } = recorder();
    const outbox = new ReplyOutbox<Item>(dgramOutboxSocket(tx), hooks, real);
    outbox.flush();
    const all = items(5, 2);
    await roundTrip(outbox, all, async () => {
      outbox.flush();
      assert.equal(outbox.size, 0);
      assert.equal(sent.length, 5, 'reported before the flush returns');
    });
  });

  test('without the helper every reply goes through Node at once, as before', async () => {
    const { sent, failed, hooks } = recorder();
    const outbox = new ReplyOutbox<Item>(dgramOutboxSocket(tx), hooks, null);
    const all = items(20, 3);
    const before = replyBatchStats.viaSocket;
    await roundTrip(outbox, all, async () => {
      assert.equal(outbox.size, 0, 'not queued');
      assert.equal(sent.length, 20);
    });
    assert.deepEqual(failed, []);
    assert.equal(replyBatchStats.viaSocket - before, 20);
  });

  test('when the helper takes fewer than asked (a full send buffer), Node sends the rest, in order', { skip: NO_HELPER }, async () => {
    const helper = real ?? assert.fail();
    // Takes 3 of the first call, then reports EAGAIN (0) once; takes all afterwards.
    let calls = 0;
    const short: ReplyBatchNative = {
      sendMany(fd, datagrams, addresses, ports, from, count) {
        calls++;
        if (calls === 1) return helper.sendMany(fd, datagrams, addresses, ports, from, Math.min(count, 3));
        if (calls === 2) return 0;
        return helper.sendMany(fd, datagrams, addresses, ports, from, count);
      },
    };
    const { sent, failed, hooks } = recorder();
    const outbox = new ReplyOutbox<Item>(dgramOutboxSocket(tx), hooks, short);
    const before = { ...replyBatchStats };
    await roundTrip(outbox, items(12, 3), () => turn());
    assert.equal(calls, 2, 'once Node has some in flight, the rest of the flush follows through Node');
    assert.equal(replyBatchStats.viaKernel - before.viaKernel, 3);
    assert.equal(replyBatchStats.viaSocket - before.viaSocket, 9);
    assert.equal(sent.length, 12);
    assert.deepEqual(failed, []);
    // Node's callbacks have run by now: the next turn is the helper's again.
    await turn();
    await roundTrip(outbox, items(4, 2), () => turn());
    assert.equal(calls, 3);
  });

  test('a helper that throws for the first datagram: Node sends it and the rest', async () => {
    const throwing: ReplyBatchNative = {
      sendMany() {
        throw Object.assign(new Error('sendmmsg: No buffer space available'), { code: 'ENOBUFS' });
      },
    };
    const { sent, failed, hooks } = recorder();
    const outbox = new ReplyOutbox<Item>(dgramOutboxSocket(tx), hooks, throwing);
    await roundTrip(outbox, items(6, 3), () => turn());
    assert.equal(sent.length, 6);
    assert.deepEqual(failed, []);
  });

  test('a datagram that cannot be sent is reported once as failed; the others arrive', { skip: NO_HELPER }, async () => {
    const { sent, failed, hooks } = recorder();
    const outbox = new ReplyOutbox<Item>(dgramOutboxSocket(tx), hooks, real);
    const good = items(6, 3);
    const arriving = rx.map((s, i) => receive(s, good.filter((it) => it.to === i).length));
    const bad: Item = { to: -1, bytes: Buffer.from('to nowhere') };
    good.slice(0, 3).forEach((it) => outbox.push(it.bytes, '127.0.0.1', portOf(it.to), it));
    // An IPv6 destination on an IPv4 socket: the kernel refuses it (EAFNOSUPPORT), then Node does.
    outbox.push(bad.bytes, '::1', 9, bad);
    good.slice(3).forEach((it) => outbox.push(it.bytes, '127.0.0.1', portOf(it.to), it));
    await turn();
    const got = await Promise.all(arriving);
    got.forEach((datagrams, i) => assert.deepEqual(datagrams, good.filter((it) => it.to === i).map((it) => it.bytes)));
    for (let i = 0; i < 5 && failed.length === 0; i++) await turn();
    assert.equal(failed.length, 1, 'one failure, reported through the send callback');
    assert.deepEqual(sent, [...good.slice(0, 3), bad, ...good.slice(3)], 'reported as handed over, in order, failed one included (as before)');
  });

  test('a wrapped send() (a packet capture tap) sees every datagram', { skip: NO_HELPER }, async () => {
    const { sent, hooks } = recorder();
    const outbox = new ReplyOutbox<Item>(dgramOutboxSocket(tx), hooks, real);
    const seen: unknown[] = [];
    const original = tx.send;
    Object.defineProperty(tx, 'send', {
      configurable: true,
      writable: true,
      value: (...args: unknown[]) => {
        seen.push(args[0]);
        return (original as (...a: unknown[]) => void).apply(tx, args);
      },
    });
    try {
      const all = items(5, 3);
      await roundTrip(outbox, all, () => turn());
      assert.deepEqual(seen, all.map((it) => it.bytes));
      assert.equal(sent.length, 5);
    } finally {
      Reflect.deleteProperty(tx, 'send');
    }
  });

  test('IPv6 destinations', { skip: NO_HELPER }, async (t) => {
    let tx6: Socket;
    let rx6: Socket;
    try {
      tx6 = await bound('udp6', '::1');
      rx6 = await bound('udp6', '::1');
    } catch {
      t.skip('no ::1 here');
      return;
    }
    try {
      const { sent, hooks } = recorder();
      const outbox = new ReplyOutbox<Item>(dgramOutboxSocket(tx6), hooks, real);
      const all = items(70, 1);
      const before = replyBatchStats.viaKernel;
      const arriving = receive(rx6, all.length);
      for (const it of all) outbox.push(it.bytes, '::1', rx6.address().port, it);
      await turn();
      assert.deepEqual(await arriving, all.map((it) => it.bytes));
      assert.equal(replyBatchStats.viaKernel - before, 70);
      assert.equal(sent.length, 70);
    } finally {
      tx6.close();
      rx6.close();
    }
  });
});
