// PRE-FETCH, ORWRITE, WRITE ATOMIC and READ DEFECT DATA through BlockLogicalUnit.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { MemoryDevice } from '../storage/memory-device.ts';
import { BlockLogicalUnit } from './logical-unit.ts';
import { cdb, hex, run, senseOf } from './test-support.ts';
import { ScsiStatus } from './types.ts';

const BLOCKS = 64;
function makeUnit(readOnly = false): { unit: BlockLogicalUnit; device: MemoryDevice } {
  const device = new MemoryDevice({ sizeBytes: BLOCKS * 512, readOnly });
  return { unit: new BlockLogicalUnit(device), device };
}
const lba16 = (lba: number): number[] => [0, 0, 0, 0, (lba >>> 24) & 0xff, (lba >>> 16) & 0xff, (lba >>> 8) & 0xff, lba & 0xff];

test('PRE-FETCH(10)/(16): GOOD inside the medium (no cache to fill, so not CONDITION MET), LBA OUT OF RANGE past it', async () => {
  const { unit } = makeUnit();
  assert.deepEqual(await run(unit, cdb(0x34, 0, 0, 0, 0, BLOCKS - 8, 0, 0, 8)), { status: ScsiStatus.Good, dataIn: null, sense: null });
  assert.equal((await run(unit, cdb(0x34, 0x02, 0, 0, 0, 0, 3, 0, 0))).status, ScsiStatus.Good);
  assert.equal((await run(unit, cdb(0x90, 0, ...lba16(BLOCKS - 1), 0, 0, 0, 1))).status, ScsiStatus.Good);
  assert.deepEqual(senseOf(await run(unit, cdb(0x34, 0, 0, 0, 0, BLOCKS - 1, 0, 0, 2))), { key: 5, asc: 0x21, ascq: 0 });
  assert.deepEqual(senseOf(await run(unit, cdb(0x90, 0, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0))), { key: 5, asc: 0x21, ascq: 0 });
});

test('ORWRITE(16): the medium becomes medium OR data-out', async () => {
  const { unit, device } = makeUnit();
  device.data.fill(0x0f, 512, 1024);
  const res = await run(unit, cdb(0x8b, 0, ...lba16(1), 0, 0, 0, 1), Buffer.alloc(512, 0xa0));
  assert.equal(res.status, ScsiStatus.Good);
  assert.equal(res.dataOutLength, 512);
  assert.equal(hex(device.data.subarray(512, 516)), 'afafafaf');
  assert.equal(device.data[511], 0);
  assert.equal((await run(unit, cdb(0x8b, 0, ...lba16(0), 0, 0, 0, 0))).status, ScsiStatus.Good);
  assert.deepEqual(senseOf(await run(unit, cdb(0x8b, 0, ...lba16(BLOCKS + 1), 0, 0, 0, 0))), { key: 5, asc: 0x21, ascq: 0 });
  assert.deepEqual(senseOf(await run(makeUnit(true).unit, cdb(0x8b, 0, ...lba16(0), 0, 0, 0, 1), Buffer.alloc(512))), { key: 7, asc: 0x27, ascq: 0 });
});

test('ORWRITEs of the same blocks do not interleave their read-modify-write', async () => {
  const { unit, device } = makeUnit();
  const bits = [0x01, 0x02, 0x04, 0x08, 0x10, 0x20, 0x40, 0x80];
  await Promise.all(bits.map((bit) => run(unit, cdb(0x8b, 0, ...lba16(2), 0, 0, 0, 1), Buffer.alloc(512, bit))));
  assert.equal(device.data[2 * 512], 0xff);
});

test('WRITE ATOMIC(16): writes whole; limited to MAXIMUM ATOMIC TRANSFER LENGTH; no partial data-out', async () => {
  const { unit, device } = makeUnit();
  const res = await run(unit, cdb(0x9c, 0x08, ...lba16(3), 0, 0, 0, 2), Buffer.alloc(1024, 0x5a));
  assert.equal(res.status, ScsiStatus.Good);
  assert.equal(res.dataOutLength, 1024);
  assert.equal(device.data[3 * 512], 0x5a);
  assert.equal(device.data[5 * 512 - 1], 0x5a);
  assert.equal(device.calls.durableWrite, 1, 'FUA');
  assert.equal((await run(unit, cdb(0x9c, 0, ...lba16(0), 0, 0, 0, 0))).status, ScsiStatus.Good);
  assert.deepEqual(senseOf(await run(unit, cdb(0x9c, 0, ...lba16(BLOCKS - 1), 0, 0, 0, 2), Buffer.alloc(1024))), { key: 5, asc: 0x21, ascq: 0 });
  assert.deepEqual(senseOf(await run(unit, cdb(0x9c, 0, ...lba16(0), 0, 0, 0, 2), Buffer.alloc(512))), { key: 5, asc: 0x0e, ascq: 3 });
  Object.assign(unit.state, { limits: { ...unit.state.limits, maxAtomicTransferBlocks: 1 } });
  assert.equal(hex((await run(unit, cdb(0x9c, 0, ...lba16(0), 0, 0, 0, 2), Buffer.alloc(1024))).sense), '700005000000000a00000000240000c0000c');
});

test('READ DEFECT DATA(10)/(12): empty lists, valid as requested, in the requested format', async () => {
  const { unit } = makeUnit();
  assert.equal(hex((await run(unit, cdb(0x37, 0, 0x1b, 0, 0, 0, 0, 0, 0xff))).dataIn), '001b0000');
  assert.equal(hex((await run(unit, cdb(0x37, 0, 0x05, 0, 0, 0, 0, 0, 2))).dataIn), '0005');
  assert.equal(hex((await run(unit, cdb(0xb7, 0x14, 0, 0, 0, 0, 0, 0, 0, 0xff))).dataIn), '0014000000000000');
});
