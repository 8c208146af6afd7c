// Block command semantics on a memory device: data movement, ranges, protection, errors.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { MemoryDevice } from '../storage/memory-device.ts';
import { BlockLogicalUnit } from './logical-unit.ts';
import { ScsiStatus } from './types.ts';
import { cdb, hex, run, senseOf } from './test-support.ts';

const BS = 512;
const BLOCKS = 64;
function setup(options: { readOnly?: boolean; writeCacheEnabled?: boolean } = {}): { device: MemoryDevice; unit: BlockLogicalUnit } {
  const device = new MemoryDevice({ sizeBytes: BLOCKS * BS, readOnly: options.readOnly ?? false });
  const unit = new BlockLogicalUnit(device, { productId: 'T', ...(options.writeCacheEnabled === undefined ? {} : { writeCacheEnabled: options.writeCacheEnabled }) });
  return { device, unit };
}
const pattern = (blocks: number, seed: number): Buffer => Buffer.from(Array.from({ length: blocks * BS }, (_, i) => (i * 7 + seed) & 0xff));
const read10 = (lba: number, blocks: number): Buffer => cdb(0x28, 0, ...u32(lba), 0, blocks >> 8, blocks & 0xff);
const write10 = (lba: number, blocks: number, flags = 0): Buffer => cdb(0x2a, flags, ...u32(lba), 0, blocks >> 8, blocks & 0xff);
const read16 = (lba: bigint, blocks: number): Buffer => cdb(0x88, 0, ...u64(lba), ...u32(blocks));
function u32(n: number): number[] {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(n);
  return [...b];
}
function u64(n: bigint): number[] {
  const b = Buffer.alloc(8);
  b.writeBigUInt64BE(n);
  return [...b];
}
const LBA_OUT_OF_RANGE = { key: 5, asc: 0x21, ascq: 0 };
const INVALID_FIELD_IN_CDB = { key: 5, asc: 0x24, ascq: 0 };
const WRITE_PROTECTED = { key: 7, asc: 0x27, ascq: 0 };

test('WRITE(10) then READ(10), READ(12), READ(16), READ(6) return the data', async () => {
  const { unit } = setup();
  const data = pattern(4, 1);
  assert.equal((await run(unit, write10(10, 4), data)).status, ScsiStatus.Good);
  assert.deepEqual((await run(unit, read10(10, 4))).dataIn, data);
  assert.deepEqual((await run(unit, cdb(0xa8, 0, 0, 0, 0, 11, 0, 0, 0, 2))).dataIn, data.subarray(BS, 3 * BS));
  assert.deepEqual((await run(unit, read16(12n, 2))).dataIn, data.subarray(2 * BS));
  assert.deepEqual((await run(unit, cdb(0x08, 0, 0, 13, 1))).dataIn, data.subarray(3 * BS));
});

test('WRITE(6), WRITE(12), WRITE(16) land where they say', async () => {
  const { unit, device } = setup();
  await run(unit, cdb(0x0a, 0, 0, 1, 1), pattern(1, 2));
  await run(unit, cdb(0xaa, 0, 0, 0, 0, 2, 0, 0, 0, 1), pattern(1, 3));
  await run(unit, cdb(0x8a, 0, ...u64(3n), ...u32(1)), pattern(1, 4));
  assert.deepEqual(device.data.subarray(BS, 2 * BS), pattern(1, 2));
  assert.deepEqual(device.data.subarray(2 * BS, 3 * BS), pattern(1, 3));
  assert.deepEqual(device.data.subarray(3 * BS, 4 * BS), pattern(1, 4));
});

test('READ(6) with TRANSFER LENGTH 0 reads 256 blocks', async () => {
  const device = new MemoryDevice({ sizeBytes: 300 * BS });
  const res = await run(new BlockLogicalUnit(device), cdb(0x08, 0, 0, 0, 0));
  assert.equal(res.dataIn?.length, 256 * BS);
});

test('zero-length READ(10)/WRITE(10) are GOOD without data, even at LBA = capacity', async () => {
  const { unit, device } = setup();
  assert.deepEqual(await run(unit, read10(BLOCKS, 0)), { status: ScsiStatus.Good, dataIn: null, sense: null });
  assert.equal((await run(unit, write10(0, 0))).status, ScsiStatus.Good);
  assert.equal(device.calls.write, 0);
  assert.deepEqual(senseOf(await run(unit, read10(BLOCKS + 1, 0))), LBA_OUT_OF_RANGE);
});

test('out-of-range LBAs, including 64-bit LBAs near 2^64', async () => {
  const { unit } = setup();
  assert.deepEqual(senseOf(await run(unit, read10(BLOCKS - 1, 2))), LBA_OUT_OF_RANGE);
  assert.deepEqual(senseOf(await run(unit, read10(0xffffffff, 1))), LBA_OUT_OF_RANGE);
  assert.equal((await run(unit, read10(BLOCKS - 1, 1))).status, ScsiStatus.Good);
  for (const lba of [2n ** 64n - 1n, 2n ** 63n, 2n ** 53n, 2n ** 53n + 1n, BigInt(BLOCKS)]) {
    const res = await run(unit, read16(lba, 1));
    assert.equal(hex(res.sense), '700005000000000a00000000210000000000', lba.toString());
  }
  // LBA + length wrapping past 2^64 must not look small.
  assert.deepEqual(senseOf(await run(unit, read16(2n ** 64n - 1n, 0xffffffff))), LBA_OUT_OF_RANGE);
  assert.deepEqual(senseOf(await run(unit, cdb(0x8a, 0, ...u64(2n ** 64n - 2n), ...u32(2)), pattern(2, 0))), LBA_OUT_OF_RANGE);
});

test('transfer length beyond MAXIMUM TRANSFER LENGTH is INVALID FIELD IN CDB at the length field', async () => {
  const device = new MemoryDevice({ sizeBytes: 64 * 1024 * 1024 });
  const unit = new BlockLogicalUnit(device, { maxTransferBytes: 64 * 1024 });
  const res = await run(unit, read10(0, 129));
  assert.equal(hex(res.sense), '700005000000000a00000000240000c00007');
  assert.equal((await run(unit, read10(0, 128))).status, ScsiStatus.Good);
});

test('writes to a read-only device: DATA PROTECT, WRITE PROTECTED; reads still work', async () => {
  const { unit, device } = setup({ readOnly: true });
  const expectProtected = async (c: Buffer, data: Buffer | null): Promise<void> => {
    const res = await run(unit, c, data);
    assert.equal(hex(res.sense), '700007000000000a00000000270000000000');
  };
  await expectProtected(write10(0, 1), pattern(1, 0));
  await expectProtected(cdb(0x41, 0, 0, 0, 0, 0, 0, 0, 1), Buffer.alloc(BS));
  await expectProtected(cdb(0x42, 0, 0, 0, 0, 0, 0, 0, 24), Buffer.alloc(24));
  await expectProtected(cdb(0x89, 0, ...u64(0n), 0, 0, 0, 1), Buffer.alloc(2 * BS));
  await expectProtected(cdb(0x2e, 0, 0, 0, 0, 0, 0, 0, 1), Buffer.alloc(BS));
  assert.equal(device.calls.write, 0);
  assert.equal((await run(unit, read10(0, 1))).status, ScsiStatus.Good);
  assert.deepEqual(senseOf(await run(unit, write10(BLOCKS, 1), pattern(1, 0))), WRITE_PROTECTED);
});

test('FUA or WCE=0 makes writes durable; otherwise they are not', async () => {
  const { unit, device } = setup();
  await run(unit, write10(0, 1), pattern(1, 0));
  assert.equal(device.calls.durableWrite, 0);
  await run(unit, write10(0, 1, 0x08), pattern(1, 0));
  assert.equal(device.calls.durableWrite, 1);
  const noCache = setup({ writeCacheEnabled: false });
  await run(noCache.unit, write10(0, 1), pattern(1, 0));
  assert.equal(noCache.device.calls.durableWrite, 1);
});

test('data-out shorter than the CDB: whole blocks written, a partial block refused', async () => {
  const { unit, device } = setup();
  device.data.fill(0x61, 0, 2 * BS);
  assert.equal((await run(unit, write10(0, 2), Buffer.alloc(BS, 0x62))).status, ScsiStatus.Good);
  assert.equal(device.data[0], 0x62);
  assert.equal(device.data[BS], 0x61);
  assert.equal((await run(unit, write10(0, 1), Buffer.alloc(0))).status, ScsiStatus.Good);
  assert.deepEqual(senseOf(await run(unit, write10(0, 1), Buffer.alloc(200))), { key: 5, asc: 0x0e, ascq: 0x03 });
  // More data-out than the CDB asks for: only the CDB's blocks are written.
  assert.equal((await run(unit, write10(0, 1), Buffer.alloc(2 * BS, 0x63))).status, ScsiStatus.Good);
  assert.equal(device.data[BS], 0x61);
});

test('device errors map to sense: EIO on read/write, ENOSPC, EROFS, flush failure', async () => {
  const { unit, device } = setup();
  device.failNext('read', 'EIO');
  assert.equal(hex((await run(unit, read10(0, 1))).sense), '700003000000000a00000000110000000000');
  device.failNext('write', 'EIO');
  assert.equal(hex((await run(unit, write10(0, 1), pattern(1, 0))).sense), '700003000000000a000000000c0000000000');
  device.failNext('write', 'ENOSPC');
  assert.equal(hex((await run(unit, write10(0, 1), pattern(1, 0))).sense), '700007000000000a00000000270700000000');
  device.failNext('write', 'EROFS');
  assert.deepEqual(senseOf(await run(unit, write10(0, 1), pattern(1, 0))), WRITE_PROTECTED);
  device.failNext('flush', 'EIO');
  assert.deepEqual(senseOf(await run(unit, cdb(0x35))), { key: 3, asc: 0x0c, ascq: 0 });
  device.failNext('discard', 'EIO');
  assert.deepEqual(senseOf(await run(unit, cdb(0x93, 0x09, ...u64(0n), ...u32(1)))), { key: 3, asc: 0x0c, ascq: 0 });
});

test('VERIFY: BYTCHK 0 range-checks only; BYTCHK 1 compares; miscompare reports the offset', async () => {
  const { unit, device } = setup();
  const data = pattern(2, 9);
  data.copy(device.data, 4 * BS);
  assert.equal((await run(unit, cdb(0x2f, 0, 0, 0, 0, 4, 0, 0, 2))).status, ScsiStatus.Good);
  assert.equal(device.calls.read, 0);
  assert.deepEqual(senseOf(await run(unit, cdb(0x2f, 0, 0, 0, 0, BLOCKS - 1, 0, 0, 2))), LBA_OUT_OF_RANGE);
  assert.equal((await run(unit, cdb(0x2f, 0x02, 0, 0, 0, 4, 0, 0, 2), data)).status, ScsiStatus.Good);
  const bad = Buffer.from(data);
  bad.writeUInt8(bad.readUInt8(BS + 17) ^ 0xff, BS + 17);
  const res = await run(unit, cdb(0x2f, 0x02, 0, 0, 0, 4, 0, 0, 2), bad);
  assert.equal(hex(res.sense), 'f0000e000002110a000000001d0000000000');
  assert.deepEqual(senseOf(await run(unit, cdb(0x8f, 0x02, ...u64(2n ** 64n - 1n), ...u32(1)), data)), LBA_OUT_OF_RANGE);
  assert.equal((await run(unit, cdb(0xaf, 0x02, 0, 0, 0, 4, 0, 0, 0, 2), data)).status, ScsiStatus.Good);
});

test('VERIFY BYTCHK 11b compares every block with one block of data-out', async () => {
  const { unit, device } = setup();
  device.data.fill(0x5a, 0, 3 * BS);
  assert.equal((await run(unit, cdb(0x2f, 0x06, 0, 0, 0, 0, 0, 0, 3), Buffer.alloc(BS, 0x5a))).status, ScsiStatus.Good);
  device.data[2 * BS + 3] = 0;
  const res = await run(unit, cdb(0x2f, 0x06, 0, 0, 0, 0, 0, 0, 3), Buffer.alloc(BS, 0x5a));
  assert.equal(hex(res.sense), 'f0000e000004030a000000001d0000000000');
});

test('WRITE AND VERIFY writes durably and verifies', async () => {
  const { unit, device } = setup();
  const data = pattern(2, 5);
  assert.equal((await run(unit, cdb(0x2e, 0x02, 0, 0, 0, 6, 0, 0, 2), data)).status, ScsiStatus.Good);
  assert.deepEqual(device.data.subarray(6 * BS, 8 * BS), data);
  assert.equal(device.calls.durableWrite, 1);
  assert.equal(device.calls.read, 1);
  assert.deepEqual(senseOf(await run(unit, cdb(0x8e, 0, ...u64(BigInt(BLOCKS)), ...u32(1)), data)), LBA_OUT_OF_RANGE);
});

test('COMPARE AND WRITE: match writes the second half; mismatch writes nothing', async () => {
  const { unit, device } = setup();
  const old = pattern(2, 1);
  const next = pattern(2, 2);
  old.copy(device.data, 8 * BS);
  const caw = cdb(0x89, 0, ...u64(8n), 0, 0, 0, 2);
  assert.equal((await run(unit, caw, Buffer.concat([old, next]))).status, ScsiStatus.Good);
  assert.deepEqual(device.data.subarray(8 * BS, 10 * BS), next);
  const res = await run(unit, caw, Buffer.concat([old, pattern(2, 3)]));
  assert.equal(res.status, ScsiStatus.CheckCondition);
  const firstDiff = [...old].findIndex((b, i) => b !== next[i]);
  assert.equal(res.sense?.readUInt32BE(3), firstDiff);
  assert.deepEqual(senseOf(res), { key: 0x0e, asc: 0x1d, ascq: 0 });
  assert.deepEqual(device.data.subarray(8 * BS, 10 * BS), next);
});

test('COMPARE AND WRITE: limits, zero blocks, wrong-sized data-out, range', async () => {
  const { unit, device } = setup();
  assert.equal((await run(unit, cdb(0x89, 0, ...u64(0n), 0, 0, 0, 0))).status, ScsiStatus.Good);
  // 256 blocks wraps to 0 in the one-byte field; the data-out gives it away.
  assert.equal(hex((await run(unit, cdb(0x89, 0, ...u64(0n), 0, 0, 0, 0), Buffer.alloc(512 * BS))).sense), '700005000000000a00000000240000c0000d');
  assert.deepEqual(senseOf(await run(unit, cdb(0x89, 0, ...u64(0n), 0, 0, 0, 1), Buffer.alloc(BS))), { key: 5, asc: 0x0e, ascq: 0x03 });
  assert.deepEqual(senseOf(await run(unit, cdb(0x89, 0, ...u64(0n), 0, 0, 0, 1), Buffer.alloc(4 * BS))), { key: 5, asc: 0x0e, ascq: 0x03 });
  assert.equal(device.calls.read, 0);
  assert.deepEqual(senseOf(await run(unit, cdb(0x89, 0, ...u64(BigInt(BLOCKS)), 0, 0, 0, 1), Buffer.alloc(2 * BS))), LBA_OUT_OF_RANGE);
});

test('COMPARE AND WRITE commands are serialised: concurrent ATS-style updates never both succeed', async () => {
  const { unit, device } = setup();
  const v0 = Buffer.alloc(BS, 0);
  const results = await Promise.all([1, 2, 3, 4].map((n) => run(unit, cdb(0x89, 0, ...u64(0n), 0, 0, 0, 1), Buffer.concat([v0, Buffer.alloc(BS, n)]))));
  assert.equal(results.filter((r) => r.status === ScsiStatus.Good).length, 1);
  assert.equal(device.data[0], 1);
});

test('WRITE SAME replicates one block in bounded chunks', async () => {
  const device = new MemoryDevice({ sizeBytes: 4096 * BS });
  const unit = new BlockLogicalUnit(device);
  const block = pattern(1, 4);
  assert.equal((await run(unit, cdb(0x93, 0, ...u64(10n), ...u32(3000)), block)).status, ScsiStatus.Good);
  for (let i = 10; i < 3010; i++) assert.deepEqual(device.data.subarray(i * BS, (i + 1) * BS), block);
  assert.equal(device.data[3010 * BS], 0);
  assert.equal(device.calls.write, 2, '3000 blocks = one 1 MiB chunk and the rest');
});

test('WRITE SAME with UNMAP: zero data discards, non-zero data is written; NDOB means zeros', async () => {
  const { unit, device } = setup();
  device.data.fill(0xee);
  await run(unit, cdb(0x41, 0x08, 0, 0, 0, 2, 0, 0, 3), Buffer.alloc(BS));
  assert.equal(device.calls.discard, 1);
  assert.ok(device.data.subarray(2 * BS, 5 * BS).every((b) => b === 0));
  await run(unit, cdb(0x41, 0x08, 0, 0, 0, 5, 0, 0, 1), Buffer.alloc(BS, 7));
  assert.equal(device.calls.discard, 1);
  assert.equal(device.data[5 * BS], 7);
  await run(unit, cdb(0x93, 0x01, ...u64(6n), ...u32(2)));
  assert.ok(device.data.subarray(6 * BS, 8 * BS).every((b) => b === 0));
  assert.equal(device.data[8 * BS], 0xee);
});

test('WRITE SAME: 0 blocks (WSNZ), beyond end, missing data-out, over the maximum', async () => {
  const { unit } = setup();
  assert.deepEqual(senseOf(await run(unit, cdb(0x41, 0, 0, 0, 0, 0, 0, 0, 0), Buffer.alloc(BS))), INVALID_FIELD_IN_CDB);
  assert.deepEqual(senseOf(await run(unit, cdb(0x41, 0, 0, 0, 0, BLOCKS + 1, 0, 0, 0), Buffer.alloc(BS))), LBA_OUT_OF_RANGE);
  assert.deepEqual(senseOf(await run(unit, cdb(0x41, 0, 0x80, 0, 0, 0, 0, 0, 0), Buffer.alloc(BS))), LBA_OUT_OF_RANGE);
  assert.deepEqual(senseOf(await run(unit, cdb(0x41, 0, 0, 0, 0, BLOCKS - 1, 0, 0, 2), Buffer.alloc(BS))), LBA_OUT_OF_RANGE);
  assert.deepEqual(senseOf(await run(unit, cdb(0x41, 0, 0, 0, 0, 0, 0, 0, 1), Buffer.alloc(10))), { key: 5, asc: 0x0e, ascq: 0x03 });
  assert.deepEqual(senseOf(await run(unit, cdb(0x41, 0x08, 0, 0, 0, 0, 0, 0, 1), Buffer.alloc(2 * BS))), { key: 5, asc: 0x0e, ascq: 0x03 });
  assert.deepEqual(senseOf(await run(unit, cdb(0x93, 0x01, ...u64(0n), ...u32(1)), Buffer.alloc(BS))), { key: 5, asc: 0x0e, ascq: 0x03 });
  const big = new BlockLogicalUnit(new MemoryDevice({ sizeBytes: 64 * BS }), { maxWriteSameBytes: 8 * BS });
  assert.deepEqual(senseOf(await run(big, cdb(0x41, 0, 0, 0, 0, 0, 0, 0, 9), Buffer.alloc(BS))), INVALID_FIELD_IN_CDB);
});

function unmapList(descriptors: readonly [bigint, number][]): Buffer {
  const b = Buffer.alloc(8 + 16 * descriptors.length);
  b.writeUInt16BE(6 + 16 * descriptors.length, 0);
  b.writeUInt16BE(16 * descriptors.length, 2);
  descriptors.forEach(([lba, blocks], i) => {
    b.writeBigUInt64BE(lba, 8 + 16 * i);
    b.writeUInt32BE(blocks, 16 + 16 * i);
  });
  return b;
}

test('UNMAP discards each descriptor; the ranges then read as zeros', async () => {
  const { unit, device } = setup();
  device.data.fill(0xaa);
  const list = unmapList([
    [1n, 2],
    [10n, 1],
    [20n, 0],
  ]);
  assert.equal((await run(unit, cdb(0x42, 0, 0, 0, 0, 0, 0, 0, list.length), list)).status, ScsiStatus.Good);
  assert.equal(device.calls.discard, 2);
  assert.deepEqual((await run(unit, read10(1, 2))).dataIn, Buffer.alloc(2 * BS));
  assert.equal(device.data[0], 0xaa);
  assert.equal(device.data[3 * BS], 0xaa);
  assert.deepEqual((await run(unit, read10(10, 1))).dataIn, Buffer.alloc(BS));
});

test('UNMAP: empty list, short header, out-of-range descriptor changes nothing, too many blocks', async () => {
  const { unit, device } = setup();
  device.data.fill(0xaa);
  assert.equal((await run(unit, cdb(0x42, 0, 0, 0, 0, 0, 0, 0, 0))).status, ScsiStatus.Good);
  assert.deepEqual(senseOf(await run(unit, cdb(0x42, 0, 0, 0, 0, 0, 0, 0, 6), Buffer.alloc(6))), { key: 5, asc: 0x1a, ascq: 0 });
  const bad = unmapList([
    [0n, 1],
    [BigInt(BLOCKS), 1],
  ]);
  assert.deepEqual(senseOf(await run(unit, cdb(0x42, 0, 0, 0, 0, 0, 0, 0, bad.length), bad)), LBA_OUT_OF_RANGE);
  assert.equal(device.calls.discard, 0);
  const wrap = unmapList([[2n ** 64n - 1n, 2]]);
  assert.deepEqual(senseOf(await run(unit, cdb(0x42, 0, 0, 0, 0, 0, 0, 0, wrap.length), wrap)), LBA_OUT_OF_RANGE);
  const small = new BlockLogicalUnit(new MemoryDevice({ sizeBytes: 64 * BS }), { maxUnmapBytes: 4 * BS });
  const tooMany = unmapList([[0n, 5]]);
  assert.equal(hex((await run(small, cdb(0x42, 0, 0, 0, 0, 0, 0, 0, tooMany.length), tooMany)).sense), '700005000000000a00000000260000800010');
  // Only header: no descriptors, nothing to do.
  assert.equal((await run(unit, cdb(0x42, 0, 0, 0, 0, 0, 0, 0, 8), unmapList([]))).status, ScsiStatus.Good);
});

test('SYNCHRONIZE CACHE flushes; range is checked; IMMED answers before the flush completes', async () => {
  const { unit, device } = setup();
  assert.equal((await run(unit, cdb(0x35))).status, ScsiStatus.Good);
  assert.equal(device.calls.flush, 1);
  assert.equal((await run(unit, cdb(0x91, 0, ...u64(0n), ...u32(BLOCKS)))).status, ScsiStatus.Good);
  assert.deepEqual(senseOf(await run(unit, cdb(0x91, 0, ...u64(1n), ...u32(BLOCKS)))), LBA_OUT_OF_RANGE);
  device.failNext('flush', 'EIO');
  assert.equal((await run(unit, cdb(0x35, 0x02))).status, ScsiStatus.Good);
});

test('GOOD responses to data-out commands carry the CDB data-out length (for write residuals)', async () => {
  const { unit } = setup();
  assert.equal((await run(unit, write10(0, 2), Buffer.alloc(BS))).dataOutLength, 2 * BS);
  assert.equal((await run(unit, write10(0, 0))).dataOutLength, 0);
  assert.equal((await run(unit, cdb(0x89, 0, ...u64(0n), 0, 0, 0, 1), Buffer.alloc(2 * BS))).dataOutLength, 2 * BS);
  assert.equal((await run(unit, cdb(0x41, 0, 0, 0, 0, 0, 0, 0, 4), Buffer.alloc(BS))).dataOutLength, BS);
  assert.equal((await run(unit, cdb(0x42, 0, 0, 0, 0, 0, 0, 0, 24), unmapList([[0n, 1]]))).dataOutLength, 24);
  assert.equal((await run(unit, cdb(0x2f, 0x06, 0, 0, 0, 0, 0, 0, 3), Buffer.alloc(BS))).dataOutLength, BS);
  assert.equal((await run(unit, read10(0, 1))).dataOutLength, undefined);
  assert.equal((await run(unit, cdb(0x2f, 0, 0, 0, 0, 0, 0, 0, 3))).dataOutLength, undefined);
  assert.equal((await run(unit, write10(BLOCKS, 1), Buffer.alloc(BS))).dataOutLength, BS, 'also on CHECK CONDITION');
});
