import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DisklessError } from '../lib/errors.ts';
import { MemoryDevice } from '../storage/memory-device.ts';
import { BlockLogicalUnit } from './logical-unit.ts';
import { LunTable } from './target-device.ts';
import { ScsiStatus } from './types.ts';
import type { ScsiDone, ScsiRequest } from './types.ts';
import { cdb, hex, run, senseOf } from './test-support.ts';

const unit = (): BlockLogicalUnit => new BlockLogicalUnit(new MemoryDevice({ sizeBytes: 64 * 512 }));
const at = (table: LunTable, lun: number) => ({ execute: (r: ScsiRequest, d: ScsiDone) => table.execute(lun, r, d) });
const reportLuns = (select: number, allocationLength: number): Buffer => cdb(0xa0, 0, select, 0, 0, 0, ...[0, 0, allocationLength >> 8, allocationLength & 0xff], 0, 0);

test('REPORT LUNS lists LUNs in order (peripheral and flat forms), from any LUN', async () => {
  const table = new LunTable([
    [300, unit()],
    [0, unit()],
    [1, unit()],
  ]);
  const expected = '00000018' + '00000000' + '0000000000000000' + '0001000000000000' + '412c000000000000';
  assert.equal(hex((await run(at(table, 0), reportLuns(0, 4096))).dataIn), expected);
  assert.equal(hex((await run(at(table, 77), reportLuns(2, 4096))).dataIn), expected);
  assert.equal(hex((await run(at(table, 0), reportLuns(1, 4096))).dataIn), '0000000000000000');
  assert.equal(hex((await run(at(table, 0), reportLuns(0, 16))).dataIn), '00000018' + '00000000' + '0000000000000000');
  assert.deepEqual(senseOf(await run(at(table, 0), reportLuns(3, 4096))), { key: 5, asc: 0x24, ascq: 0 });
});

test('INQUIRY to a missing LUN: peripheral qualifier 011b, device type 1Fh', async () => {
  const table = new LunTable([[0, unit()]]);
  const std = await run(at(table, 5), cdb(0x12, 0, 0, 0, 0xff));
  assert.equal(std.status, ScsiStatus.Good);
  assert.equal(std.dataIn?.[0], 0x7f);
  assert.equal(hex((await run(at(table, 5), cdb(0x12, 1, 0, 0, 0xff))).dataIn), '7f00000100');
  assert.deepEqual(senseOf(await run(at(table, 5), cdb(0x12, 1, 0x83, 0, 0xff))), { key: 5, asc: 0x24, ascq: 0 });
  assert.equal((await run(at(table, 0), cdb(0x12, 0, 0, 0, 0xff))).dataIn?.[0], 0x00);
});

test('other commands to a missing LUN: LOGICAL UNIT NOT SUPPORTED, even invalid opcodes', async () => {
  const table = new LunTable([[0, unit()]]);
  for (const c of [cdb(0x00), cdb(0x28, 0, 0, 0, 0, 0, 0, 0, 1), cdb(0xff)]) {
    const res = await run(at(table, 1), c);
    assert.equal(hex(res.sense), '700005000000000a00000000250000000000');
  }
  assert.deepEqual(senseOf(await run(at(table, -1), cdb(0x00))), { key: 5, asc: 0x25, ascq: 0 });
});

test('REQUEST SENSE to a missing LUN returns LOGICAL UNIT NOT SUPPORTED as data', async () => {
  const table = new LunTable();
  const res = await run(at(table, 3), cdb(0x03, 0, 0, 0, 0xff));
  assert.equal(res.status, ScsiStatus.Good);
  assert.equal(hex(res.dataIn), '700005000000000a00000000250000000000');
});

test('commands route to the right unit', async () => {
  const a = unit();
  const b = unit();
  const table = new LunTable([
    [0, a],
    [1, b],
  ]);
  await run(at(table, 1), cdb(0x2a, 0, 0, 0, 0, 0, 0, 0, 1), Buffer.alloc(512, 9));
  assert.equal((b.device as MemoryDevice).data[0], 9);
  assert.equal((a.device as MemoryDevice).data[0], 0);
  assert.ok(table.hasLun(1));
  assert.ok(!table.hasLun(2));
  assert.deepEqual(table.luns(), [0, 1]);
  table.reset(null);
  table.reset(0);
});

test('add rejects duplicates and out-of-range LUNs; remove works', () => {
  const table = new LunTable([[0, unit()]]);
  assert.throws(() => table.add(0, unit()), DisklessError);
  assert.throws(() => table.add(16384, unit()), DisklessError);
  assert.ok(table.remove(0));
  assert.ok(!table.hasLun(0));
});
