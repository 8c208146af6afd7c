// The data-out gathering rules (RFC 7143 sections 11.7 and 11.8) and in-place receiving.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { RESERVED_TAG } from './pdu/types.ts';
import { WriteCollector, type WriteLimits } from './write-collector.ts';

const LIMITS: WriteLimits = { immediateData: true, initialR2T: false, firstBurstLength: 8, maxBurstLength: 8, maxOutstandingR2T: 1 };

function collector(length: number, storage?: Buffer): WriteCollector {
  let tag = 100;
  return new WriteCollector(length, LIMITS, () => tag++, storage);
}

test('write collector: immediate, unsolicited and solicited data end up in order', () => {
  const w = collector(20);
  assert.equal(w.acceptImmediate(Buffer.from('abcd')), null);
  assert.equal(w.acceptDataOut(RESERVED_TAG, 0, 4, Buffer.from('efgh')), null);
  const [r2t, ...more] = w.nextR2ts();
  assert.deepEqual(r2t, { targetTransferTag: 100, r2tSn: 0, bufferOffset: 8, desiredDataTransferLength: 8 });
  assert.equal(more.length, 0, 'MaxOutstandingR2T=1');
  assert.equal(w.acceptDataOut(100, 0, 8, Buffer.from('ijklmnop')), null);
  const [last] = w.nextR2ts();
  assert.equal(last?.bufferOffset, 16);
  assert.equal(w.acceptDataOut(101, 0, 16, Buffer.from('qrst')), null);
  assert.equal(w.complete, true);
  assert.equal(w.buffer.toString(), 'abcdefghijklmnopqrst');
});

test('write collector: placeDataOut agrees with acceptDataOut and changes nothing', () => {
  const w = collector(16);
  assert.equal(w.placeDataOut(RESERVED_TAG, 1, 0, 4), null, 'DataSN must start at 0');
  assert.equal(w.placeDataOut(RESERVED_TAG, 0, 4, 8), null, 'past FirstBurstLength');
  assert.equal(w.placeDataOut(RESERVED_TAG, 0, 12, 8), null, 'past the transfer');
  assert.equal(w.placeDataOut(7, 0, 8, 8), null, 'no such R2T');
  const target = w.placeDataOut(RESERVED_TAG, 0, 0, 8);
  assert.ok(target);
  assert.equal(target.buffer, w.buffer.buffer);
  assert.equal(target.byteOffset, w.buffer.byteOffset);
  target.write('ABCDEFGH');
  // Placing twice is allowed (nothing was accepted yet); accepting advances the DataSN.
  assert.ok(w.placeDataOut(RESERVED_TAG, 0, 0, 8));
  assert.equal(w.acceptDataOut(RESERVED_TAG, 0, 0, target), null);
  assert.equal(w.received, 8);
  assert.equal(w.placeDataOut(RESERVED_TAG, 0, 0, 8), null, 'DataSN 0 is taken now');
  const [r2t] = w.nextR2ts();
  assert.ok(r2t);
  assert.equal(w.placeDataOut(r2t.targetTransferTag, 0, 4, 8), null, 'outside the R2T');
  const second = w.placeDataOut(r2t.targetTransferTag, 0, 8, 8);
  assert.ok(second);
  second.write('IJKLMNOP');
  assert.equal(w.acceptDataOut(r2t.targetTransferTag, 0, 8, second), null);
  assert.equal(w.complete, true);
  assert.equal(w.buffer.toString(), 'ABCDEFGHIJKLMNOP');
});

test('write collector: storage is used as the buffer; immediate data already there is not copied', () => {
  const storage = Buffer.alloc(32, 0);
  const w = collector(8, storage);
  assert.equal(w.buffer.length, 8);
  assert.equal(w.buffer.buffer, storage.buffer);
  const immediate = storage.subarray(0, 8);
  immediate.write('in place');
  assert.equal(w.acceptImmediate(immediate), null);
  assert.equal(w.complete, true);
  assert.equal(w.buffer.toString(), 'in place');
});
