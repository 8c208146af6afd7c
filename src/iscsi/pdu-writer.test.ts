// The writer against a socket that sometimes keeps chunks unsent (a full TCP send buffer): the
// bytes that finally go out must be exactly the PDUs in order, with their digests, whatever the
// arena reuse, and pooled buffers must go back only once the socket is done with them.
import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import type { Socket } from 'node:net';
import { test } from 'node:test';
import fc from 'fast-check';
import { padTo4 } from '../lib/bytes.ts';
import { crc32c, writeDigest } from '../lib/crc32c.ts';
import { BufferPool } from './buffer-pool.ts';
import { targetPduArb } from './pdu/arbitraries.ts';
import { encodeTargetPdu, targetPduData } from './pdu/index.ts';
import { BHS_LENGTH, type DataIn, type TargetPdu } from './pdu/types.ts';
import { PduWriter } from './pdu-writer.ts';

/** Holds written chunks by reference (as libuv does) while `stalled`; copies them out on drain. */
class FakeSocket extends EventEmitter {
  destroyed = false;
  stalled = false;
  readonly out: Buffer[] = [];
  #pending: Array<{ chunk: Buffer; cb: (() => void) | undefined }> = [];
  writes = 0;

  get writableLength(): number {
    return this.#pending.reduce((n, p) => n + p.chunk.length, 0);
  }

  cork(): void {}
  uncork(): void {}
  pause(): void {}
  resume(): void {}
  end(): void {}

  write(chunk: Buffer, cb?: () => void): boolean {
    this.writes++;
    if (this.stalled || this.#pending.length > 0) {
      this.#pending.push({ chunk, cb });
      return false;
    }
    this.out.push(Buffer.from(chunk));
    cb?.();
    return true;
  }

  drain(): void {
    const pending = this.#pending;
    this.#pending = [];
    for (const { chunk, cb } of pending) {
      this.out.push(Buffer.from(chunk));
      cb?.();
    }
    this.emit('drain');
  }
}

/** What the PDU looks like on the wire (RFC 7143 section 11.2, digests per section 13.1). */
function wire(pdu: TargetPdu, headerDigest: boolean, dataDigest: boolean): Buffer {
  const plain = encodeTargetPdu(pdu);
  const header = plain.subarray(0, BHS_LENGTH);
  const rest = plain.subarray(BHS_LENGTH);
  const parts = [header];
  if (headerDigest) {
    const d = Buffer.alloc(4);
    writeDigest(d, 0, crc32c(header));
    parts.push(d);
  }
  if (rest.length > 0) {
    parts.push(rest);
    if (dataDigest) {
      const d = Buffer.alloc(4);
      writeDigest(d, 0, crc32c(rest));
      parts.push(d);
    }
  }
  return Buffer.concat(parts);
}

const turn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

const dataIn = (length: number, fill: number): DataIn => ({
  kind: 'data-in', final: true, acknowledge: false, residualOverflow: false, residualUnderflow: false, hasStatus: true,
  status: 0, lun: 0n, initiatorTaskTag: fill, targetTransferTag: 0xffffffff, statSn: fill, expCmdSn: 1, maxCmdSn: 2,
  dataSn: 0, bufferOffset: 0, residualCount: 0, data: Buffer.alloc(length, fill),
});

test('pdu writer: the bytes sent are the PDUs in order, with digests, across turns and stalled writes', async () => {
  await fc.assert(
    fc.asyncProperty(
      fc.array(fc.array(fc.oneof(targetPduArb, fc.integer({ min: 0, max: 70_000 }).map((n) => dataIn(n, n & 0xff))), { maxLength: 12 }), { minLength: 1, maxLength: 6 }),
      fc.boolean(),
      fc.boolean(),
      fc.array(fc.boolean(), { minLength: 6, maxLength: 6 }),
      async (turns, headerDigest, dataDigest, stalls) => {
        const socket = new FakeSocket();
        const writer = new PduWriter(socket as unknown as Socket);
        writer.headerDigest = headerDigest;
        writer.dataDigest = dataDigest;
        const expected: Buffer[] = [];
        for (const [i, pdus] of turns.entries()) {
          socket.stalled = stalls[i] ?? false;
          for (const pdu of pdus) {
            writer.send(pdu);
            expected.push(wire(pdu, headerDigest, dataDigest));
          }
          await turn();
          // Later turns encode while earlier chunks may still sit, unsent, in the socket.
          if (!socket.stalled) socket.drain();
        }
        socket.stalled = false;
        socket.drain();
        assert.ok(Buffer.concat(socket.out).equals(Buffer.concat(expected)));
        assert.equal(writer.bytesSent, Buffer.concat(expected).length);
      },
    ),
    { numRuns: 300 },
  );
});

test('pdu writer: one write per turn for small PDUs, and large data is sent by reference', async () => {
  const socket = new FakeSocket();
  const writer = new PduWriter(socket as unknown as Socket);
  const writesPerTurn: number[] = [];
  for (let t = 0; t < 4; t++) {
    socket.writes = 0;
    for (let i = 0; i < 32; i++) writer.send(dataIn(4096, i));
    await turn();
    writesPerTurn.push(socket.writes);
  }
  // The arena starts small and grows while turns overflow it.
  assert.equal(writesPerTurn.at(-1), 1, `thirty-two 4 KiB responses, one write (${writesPerTurn.join(',')})`);
  socket.writes = 0;
  socket.out.length = 0;
  const big = dataIn(256 * 1024, 9);
  socket.stalled = true;
  writer.send(big);
  writer.send(dataIn(512, 1));
  await turn();
  assert.equal(socket.writes, 3, 'header, the data itself, then the next PDU');
  big.data.fill(0x77); // the socket still holds the caller's buffer, not a copy
  socket.stalled = false;
  socket.drain();
  const sent = Buffer.concat(socket.out);
  assert.equal(sent[BHS_LENGTH + 100], 0x77);
});

test('pdu writer: pooled buffers go back once the socket has written their PDU and all before it', async () => {
  const pool = new BufferPool(16 * 1024 * 1024, 4096);
  const socket = new FakeSocket();
  const writer = new PduWriter(socket as unknown as Socket, pool);
  const small = pool.take(4096);
  socket.stalled = true;
  writer.send({ ...dataIn(0, 1), data: small }, small);
  await turn();
  assert.equal(pool.retainedBytes, 0, 'copied into the arena, but the socket has not written it yet');
  socket.stalled = false;
  socket.drain();
  assert.equal(pool.retainedBytes, 4096);

  // A 264 KiB read: a 256 KiB Data-In sent as a view of the pooled buffer, then an 8 KiB one
  // copied into the arena. The buffer must not go back while the first is still unsent.
  const large = pool.take(264 * 1024);
  socket.stalled = true;
  writer.send({ ...dataIn(0, 2), final: false, hasStatus: false, data: large.subarray(0, 256 * 1024) });
  writer.send({ ...dataIn(0, 2), data: large.subarray(256 * 1024, 264 * 1024), bufferOffset: 256 * 1024 }, large);
  await turn();
  assert.equal(pool.retainedBytes, 4096, 'still in the socket');
  socket.stalled = false;
  socket.drain();
  assert.equal(pool.retainedBytes, 4096 + 512 * 1024);
  assert.equal(targetPduData({ ...dataIn(0, 1), data: small }).length, 4096);
  assert.equal(padTo4(4096), 0);
});

test('pdu writer: Data-In budget comes back once the socket has written the PDU, after its pooled buffer', async () => {
  const pool = new BufferPool(16 * 1024 * 1024, 4096);
  const socket = new FakeSocket();
  const events: string[] = [];
  const writer = new PduWriter(socket as unknown as Socket, pool, (bytes) => events.push(`budget ${bytes} (pool ${pool.retainedBytes})`));
  // A 256 KiB read sent by reference, then two small reads copied into the arena, and a PDU
  // without budget (a SCSI Response): one callback per written chunk, with the sum of its budget.
  const large = pool.take(256 * 1024);
  socket.stalled = true;
  writer.send({ ...dataIn(0, 1), data: large }, large, 256 * 1024);
  writer.send(dataIn(4096, 2), null, 4096);
  writer.send(dataIn(512, 3), null, 512);
  writer.send(dataIn(0, 4));
  await turn();
  assert.deepEqual(events, [], 'nothing is written yet: no budget comes back');
  socket.stalled = false;
  socket.drain();
  assert.deepEqual(events, [`budget ${256 * 1024} (pool ${256 * 1024})`, 'budget 4608 (pool 262144)']);
  // Unstalled: the callback comes with the write.
  writer.send(dataIn(100, 5), null, 100);
  await turn();
  assert.equal(events.at(-1), 'budget 100 (pool 262144)');
});
