import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import type { Socket } from 'node:dgram';
import { after, before, describe, test } from 'node:test';
import pino from 'pino';
import { boundSocket as bound, receiveDatagrams as receive } from '../lib/datagram-test-kit.ts';
import { loadAddon } from '../lib/native-addon.ts';
import { socketFd } from '../lib/socket-fd.ts';
import { batchSendStats, windowSink } from './batch-send.ts';
import { tapUdp } from '../capture/socket-taps.ts';
import { nodeDatagramPath } from './transfer-socket.ts';
import type { SendWindow } from './window-sender.ts';

const log = pino({ level: 'silent' });

type Native = NonNullable<Parameters<typeof windowSink>[3]>;

/** A window as the TFTP sender builds it: [header, data] per datagram, the last data shorter. */
function window(count: number, blockSize: number, lastBytes: number): { parts: Buffer[]; ends: number[]; datagrams: Buffer[] } {
  const parts: Buffer[] = [];
  const ends: number[] = [];
  const datagrams: Buffer[] = [];
  for (let i = 0; i < count; i++) {
    const header = Buffer.from([0, 3, 0, i + 1]);
    const data = randomBytes(i === count - 1 ? lastBytes : blockSize);
    parts.push(header);
    if (data.length > 0) parts.push(data);
    ends.push(parts.length);
    datagrams.push(Buffer.concat([header, data]));
  }
  return { parts, ends, datagrams };
}

function send(sink: SendWindow, parts: Buffer[], ends: number[]): Promise<Error | null> {
  return new Promise((resolve) => sink(parts, ends, resolve));
}

describe('windowSink', () => {
  let rx: Socket;
  let tx: Socket;
  before(async () => {
    rx = await bound();
    tx = await bound();
  });
  after(() => {
    rx.close();
    tx.close();
  });
  const peer = (): { address: string; port: number } => ({ address: '127.0.0.1', port: rx.address().port });

  test('the socket fd is visible (else every window falls back to Node, slower but correct)', () => {
    const fd = socketFd(tx);
    assert.equal(typeof fd, 'number');
  });

  test('the native helper puts a window on the wire byte for byte, in order: segmented, or one sendmmsg for a lone datagram', async (t) => {
    const loaded = loadAddon<Native>('udp_batch', ['sendSegmented', 'sendEach']);
    if (!('native' in loaded)) {
      t.skip(`native helper not available: ${loaded.error}`);
      return;
    }
    for (const [count, last] of [
      [16, 1000],
      [16, 0],
      [1, 7],
      [50, 1468], // more than one IP packet of 1472-byte datagrams: split into batches
    ] as const) {
      const w = window(count, 1468, last);
      const before = { ...batchSendStats };
      const arriving = receive(rx, count);
      assert.equal(await send(windowSink(nodeDatagramPath(tx), peer(), log, loaded.native), w.parts, w.ends), null);
      const got = await arriving;
      assert.deepEqual(got, w.datagrams, `${count} datagrams, last ${last} bytes of data`);
      if (count === 1) assert.deepEqual([batchSendStats.segmented - before.segmented, batchSendStats.mmsg - before.mmsg], [0, 1], 'lock-step: one sendmmsg');
      else assert.ok(batchSendStats.segmented > before.segmented, 'sent segmented');
      assert.equal(batchSendStats.viaSocket, before.viaSocket, 'never through the socket');
    }
  });

  test('sendEach takes over when segmentation is refused, and Node when the send buffer is full', async () => {
    const calls: string[] = [];
    const w = window(6, 512, 100);
    const fake: Native = {
      sendSegmented: () => {
        calls.push('segmented');
        throw Object.assign(new Error('sendmsg: Input/output error'), { code: 'EIO' });
      },
      sendEach: (fd, parts, ends, address, port) => {
        calls.push(`each ${ends.length}`);
        // Sends the first two for real, then "EAGAIN": the rest must go through Node.
        let start = 0;
        for (const end of ends.slice(0, 2)) {
          tx.send(Buffer.concat(parts.slice(start, end)), port, address);
          start = end;
        }
        return Math.min(2, ends.length);
      },
    };
    const arriving = receive(rx, 6);
    const sink = windowSink(nodeDatagramPath(tx), peer(), log, fake);
    assert.equal(await send(sink, w.parts, w.ends), null);
    const got = await arriving;
    assert.deepEqual(
      got.map((d) => d.readUInt16BE(2)),
      [1, 2, 3, 4, 5, 6],
    );
    assert.deepEqual(got, w.datagrams);
    assert.deepEqual(calls, ['segmented', 'each 6']);
    // Segmentation stays off for this transfer after a refusal.
    const again = window(2, 512, 512);
    const arriving2 = receive(rx, 2);
    assert.equal(await send(sink, again.parts, again.ends), null);
    assert.deepEqual(await arriving2, again.datagrams);
    assert.deepEqual(calls, ['segmented', 'each 6', 'each 2']);
  });

  test('a send error that is not about segmentation reaches the callback', async () => {
    const fake: Native = {
      sendSegmented: () => {
        throw Object.assign(new Error('sendmsg: Network is unreachable'), { code: 'ENETUNREACH' });
      },
      sendEach: () => 0,
    };
    const w = window(3, 512, 10);
    const err = await send(windowSink(nodeDatagramPath(tx), peer(), log, fake), w.parts, w.ends);
    assert.match(String(err), /unreachable/);
  });

  test("a capture's tap on the socket sees the whole window: the sink leaves the fd alone", async () => {
    const calls: string[] = [];
    const fake: Native = {
      sendSegmented: () => {
        calls.push('segmented');
        return 0;
      },
      sendEach: () => {
        calls.push('each');
        return 0;
      },
    };
    const seen: number[] = [];
    const untap = tapUdp(tx, { incoming: () => {}, outgoing: (bytes) => void seen.push(bytes.readUInt16BE(2)) });
    try {
      const w = window(4, 512, 10);
      const arriving = receive(rx, 4);
      assert.equal(await send(windowSink(nodeDatagramPath(tx), peer(), log, fake), w.parts, w.ends), null);
      assert.deepEqual(await arriving, w.datagrams);
      assert.deepEqual(calls, [], 'no batch send past the tap');
      assert.deepEqual(seen, [1, 2, 3, 4]);
    } finally {
      untap();
    }
  });

  test('without the helper, every datagram goes through Node', async () => {
    const w = window(5, 512, 3);
    const arriving = receive(rx, 5);
    const before = batchSendStats.viaSocket;
    assert.equal(await send(windowSink(nodeDatagramPath(tx), peer(), log, null), w.parts, w.ends), null);
    assert.deepEqual(await arriving, w.datagrams);
    assert.equal(batchSendStats.viaSocket, before, 'the plain Node sink does not count as a fallback');
  });
});
