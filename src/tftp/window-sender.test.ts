import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, test } from 'node:test';
import { CACHED_READ_MAX_BYTES } from '../storage/cached-read.ts';
import type { FileSource } from './files.ts';
import { bufferSource } from './files.ts';
import { eachDatagram, WindowSender } from './window-sender.ts';
import type { SendDatagram, SendWindow } from './window-sender.ts';

interface Harness {
  readonly sender: WindowSender;
  readonly packets: Buffer[];
  readonly reads: Array<[number, number]>;
  readonly errors: Error[];
  /** Completes the sends still pending (only with deferSends). */
  flush(): void;
}

function harness(data: Buffer, blockSize: number, windowSize: number, opts: { deferSends?: boolean; source?: FileSource } = {}): Harness {
  const packets: Buffer[] = [];
  const reads: Array<[number, number]> = [];
  const errors: Error[] = [];
  const pending: Array<() => void> = [];
  const inner = opts.source ?? bufferSource(data);
  const source: FileSource = {
    size: inner.size,
    read(offset, length, into, cb) {
      reads.push([offset, length]);
      inner.read(offset, length, into, cb);
    },
    close: () => inner.close(),
  };
  const send: SendDatagram = (parts, cb) => {
    // Copy now: the sender owns these buffers and reuses them after the callback.
    packets.push(Buffer.concat(parts));
    if (opts.deferSends === true) pending.push(() => cb(null));
    else cb(null);
  };
  const sender = new WindowSender(source, blockSize, windowSize, eachDatagram(send), (e) => errors.push(e), (e) => errors.push(e));
  return { sender, packets, reads, errors, flush: () => pending.splice(0).forEach((f) => f()) };
}

function expectedPacket(data: Buffer, blockSize: number, block: number): Buffer {
  const header = Buffer.from([0, 3, (block >> 8) & 0xff, block & 0xff]);
  return Buffer.concat([header, data.subarray((block - 1) * blockSize, block * blockSize)]);
}

describe('WindowSender', () => {
  test('sends exact DATA packets for every block, with the empty last one', () => {
    const data = randomBytes(4 * 512);
    const h = harness(data, 512, 4);
    h.sender.sendRange(1, 4);
    h.sender.sendRange(5, 5);
    assert.equal(h.packets.length, 5);
    for (let b = 1; b <= 4; b++) assert.deepEqual(h.packets[b - 1], expectedPacket(data, 512, b));
    assert.equal(h.packets[4]?.toString('hex'), '00030005');
    assert.deepEqual(h.reads, [[0, 2048]], 'one read for the whole file');
  });

  test('reads ahead in chunks, and a rollback or retransmission costs no read', () => {
    const data = randomBytes(3 * 1024 * 1024 + 7);
    const h = harness(data, 1468, 16);
    h.sender.sendRange(1, 16);
    h.sender.sendRange(5, 20); // rollback after a loss
    h.sender.sendRange(5, 20); // timeout
    assert.equal(h.reads.length, 1);
    const [offset, length] = h.reads[0] ?? [0, 0];
    assert.equal(offset, 0);
    // Whole blocks, as many as a read the page cache may serve on the event loop holds.
    assert.ok(length <= CACHED_READ_MAX_BYTES && length > CACHED_READ_MAX_BYTES - 1468 && length % 1468 === 0, `chunk ${length}`);
    assert.deepEqual(h.packets[16], expectedPacket(data, 1468, 5));
    // Moving past the chunk reads the next one, starting at the window's first block.
    const blocksPerChunk = length / 1468;
    h.sender.sendRange(blocksPerChunk - 2, blocksPerChunk + 13);
    assert.deepEqual(h.reads[1], [(blocksPerChunk - 3) * 1468, length]);
    assert.deepEqual(h.packets.at(-1), expectedPacket(data, 1468, blocksPerChunk + 13));
    assert.deepEqual(h.errors, []);
  });

  test('block numbers wrap to 0 after 65535', () => {
    const data = randomBytes(65537 * 8);
    const h = harness(data, 8, 1);
    h.sender.sendRange(65535, 65535);
    h.sender.sendRange(65536, 65536);
    h.sender.sendRange(65537, 65537);
    h.sender.sendRange(65538, 65538);
    assert.deepEqual(h.packets.map((p) => p.subarray(0, 4).toString('hex')), ['0003ffff', '00030000', '00030001', '00030002']);
    assert.deepEqual(h.packets[1]?.subarray(4), data.subarray(65535 * 8, 65536 * 8));
    assert.equal(h.packets[3]?.length, 4, 'the empty last block');
  });

  test('the chunk is not refilled while sends from it are still in flight', () => {
    const data = randomBytes(2 * 256 * 1024);
    const h = harness(data, 512, 1, { deferSends: true });
    const chunkBlocks = 512; // 256 KiB of 512-byte blocks
    h.sender.sendRange(1, 1);
    h.sender.sendRange(chunkBlocks + 1, chunkBlocks + 1); // needs the next chunk
    assert.equal(h.reads.length, 1);
    assert.equal(h.packets.length, 1);
    h.flush();
    assert.equal(h.reads.length, 2);
    assert.deepEqual(h.packets[1], expectedPacket(data, 512, chunkBlocks + 1));
  });

  test('a short read (the file shrank) is an error, not a short block', () => {
    const real = bufferSource(randomBytes(100));
    const lying: FileSource = { size: 1000, read: (o, l, into, cb) => real.read(o, l, into, cb), close: () => undefined };
    const h = harness(Buffer.alloc(0), 512, 1, { source: lying });
    h.sender.sendRange(1, 1);
    assert.equal(h.packets.length, 0);
    assert.match(h.errors[0]?.message ?? '', /short read/);
    h.sender.sendRange(2, 2);
    assert.equal(h.packets.length, 0, 'closed after the error');
  });

  test('close waits for a read in flight before the file may close', () => {
    let finishRead: (() => void) | null = null;
    const slow: FileSource = {
      size: 4096,
      read: (_o, l, _into, cb) => {
        finishRead = () => cb(null, l);
      },
      close: () => undefined,
    };
    const h = harness(Buffer.alloc(0), 512, 1, { source: slow });
    h.sender.sendRange(1, 1);
    let closed = false;
    h.sender.close(() => {
      closed = true;
    });
    assert.equal(closed, false);
    assert.ok(finishRead !== null);
    (finishRead as () => void)();
    assert.equal(closed, true);
    assert.equal(h.packets.length, 0);
  });

  test('a sink that finishes inside the call (the native batch send) keeps the windows in order', () => {
    const blocks = 1100; // past two read-ahead chunks of 512 blocks
    const data = randomBytes(blocks * 512 + 100);
    const packets: Buffer[] = [];
    let pending: (() => void) | null = null;
    // The first window completes later (as a Node send would); every other one inside the call,
    // among them the windows queued behind a chunk refill that the first one's callback pumps.
    const send: SendWindow = (parts, ends, cb) => {
      let start = 0;
      for (const end of ends) {
        packets.push(Buffer.concat(parts.slice(start, end)));
        start = end;
      }
      if (packets.length === ends.length) pending = () => cb(null);
      else cb(null);
    };
    const sender = new WindowSender(bufferSource(data), 512, 8, send, assert.fail, assert.fail);
    for (let first = 1; first <= blocks + 1; first += 8) sender.sendRange(first, Math.min(first + 7, blocks + 1));
    assert.ok(packets.length < blocks, 'the refill waits for the first window to be sent');
    (pending as (() => void) | null)?.();
    assert.equal(packets.length, blocks + 1);
    for (let b = 1; b <= blocks + 1; b++) assert.deepEqual(packets[b - 1], expectedPacket(data, 512, b), `block ${b}`);
  });
});
