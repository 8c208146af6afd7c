// INQUIRY, VPD pages, MODE SENSE/SELECT, READ CAPACITY, REQUEST SENSE and REPORT SUPPORTED
// OPERATION CODES through BlockLogicalUnit.execute, checked byte for byte.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { MemoryDevice } from '../storage/memory-device.ts';
import { BlockLogicalUnit } from './logical-unit.ts';
import { ScsiStatus } from './types.ts';
import { cdb, hex, run, senseOf } from './test-support.ts';
import { naaForDevice } from './unit-state.ts';

const MiB = 1024 * 1024;
function makeUnit(options: { readOnly?: boolean; sizeBytes?: number; canDiscard?: boolean } = {}): BlockLogicalUnit {
  const device = new MemoryDevice({ sizeBytes: options.sizeBytes ?? MiB, readOnly: options.readOnly ?? false, canDiscard: options.canDiscard ?? true, id: 'abcdef0123456789' });
  return new BlockLogicalUnit(device, { productId: 'TEST DISK', revision: '0001' });
}
const ascii = (s: string): string => Buffer.from(s, 'ascii').toString('hex');
const zeros = (n: number): string => '00'.repeat(n);

test('standard INQUIRY: direct access, SPC-4, HiSup, CmdQue, identity, version descriptors', async () => {
  const res = await run(makeUnit(), cdb(0x12, 0, 0, 0, 0xff));
  assert.equal(res.status, ScsiStatus.Good);
  const expected = '0000061245000002' + ascii('DISKLESS') + ascii('TEST DISK       ') + ascii('0001') + zeros(22) + '00a0046004c0' + zeros(10);
  assert.equal(hex(res.dataIn), expected);
  assert.equal(res.dataIn?.length, 74);
});

test('INQUIRY truncates to the allocation length, including 0', async () => {
  const unit = makeUnit();
  assert.equal((await run(unit, cdb(0x12, 0, 0, 0, 36))).dataIn?.length, 36);
  assert.equal((await run(unit, cdb(0x12, 0, 0, 0, 5))).dataIn?.length, 5);
  const none = await run(unit, cdb(0x12, 0, 0, 0, 0));
  assert.equal(none.status, ScsiStatus.Good);
  assert.equal(none.dataIn?.length, 0);
  assert.equal((await run(unit, cdb(0x12, 1, 0xb0, 0, 10))).dataIn?.length, 10);
});

test('VPD 00h lists the supported pages', async () => {
  assert.equal(hex((await run(makeUnit(), cdb(0x12, 1, 0x00, 0, 0xff))).dataIn), '000000060080' + '83b0b1b2');
});

test('VPD 80h unit serial number defaults to the device id', async () => {
  assert.equal(hex((await run(makeUnit(), cdb(0x12, 1, 0x80, 0, 0xff))).dataIn), '00800010' + ascii('abcdef0123456789'));
});

test('VPD 83h: NAA 6 designator stable per device, then T10 vendor id', async () => {
  const naa = naaForDevice('abcdef0123456789');
  assert.equal(naa[0]! >> 4, 6);
  assert.equal(naa.readUIntBE(0, 4) >> 4 & 0xffffff, 0x02d15c);
  assert.deepEqual(naaForDevice('abcdef0123456789'), naa);
  assert.notDeepEqual(naaForDevice('other'), naa);
  const t10 = ascii('DISKLESS') + ascii('abcdef0123456789');
  const expected = '00830030' + '01030010' + naa.toString('hex') + '02010018' + t10;
  assert.equal(hex((await run(makeUnit(), cdb(0x12, 1, 0x83, 0, 0xff))).dataIn), expected);
});

test('VPD B0h block limits', async () => {
  const expected =
    '00b0003c' + '01' + 'ff' + '0008' + '00004000' + '00000000' + '00000000' + '00080000' + '00000100' + '00000008' + '80000000' + '0000000000008000' + '00004000' + zeros(16);
  assert.equal(hex((await run(makeUnit(), cdb(0x12, 1, 0xb0, 0, 0xff))).dataIn), expected);
});

test('VPD B1h: non-rotating medium', async () => {
  assert.equal(hex((await run(makeUnit(), cdb(0x12, 1, 0xb1, 0, 0xff))).dataIn), '00b1003c0001' + zeros(58));
});

test('VPD B2h: LBPU, LBPWS, LBPWS10, LBPRZ; thin only when the device can discard', async () => {
  assert.equal(hex((await run(makeUnit(), cdb(0x12, 1, 0xb2, 0, 0xff))).dataIn), '00b2000400e40200');
  assert.equal(hex((await run(makeUnit({ canDiscard: false }), cdb(0x12, 1, 0xb2, 0, 0xff))).dataIn), '00b2000400e40000');
});

test('unsupported VPD page: INVALID FIELD IN CDB pointing at the page code', async () => {
  const res = await run(makeUnit(), cdb(0x12, 1, 0x86, 0, 0xff));
  assert.equal(res.status, ScsiStatus.CheckCondition);
  assert.equal(hex(res.sense), '700005000000000a00000000240000c00002');
});

test('READ CAPACITY(10) and (16)', async () => {
  const unit = makeUnit();
  assert.equal(hex((await run(unit, cdb(0x25))).dataIn), '000007ff00000200');
  assert.equal(hex((await run(unit, cdb(0x9e, 0x10, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 32))).dataIn), '00000000000007ff' + '00000200' + '0003c000' + zeros(16));
  assert.equal(hex((await run(unit, cdb(0x9e, 0x10, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 12))).dataIn), '00000000000007ff00000200');
});

test('READ CAPACITY(10) reports FFFFFFFFh when the last LBA does not fit', async () => {
  const unit = makeUnit();
  Object.assign(unit.state, { capacityBlocks: 2 ** 33 });
  assert.equal(hex((await run(unit, cdb(0x25))).dataIn), 'ffffffff00000200');
  assert.equal(hex((await run(unit, cdb(0x9e, 0x10, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 12))).dataIn), '00000001ffffffff00000200');
});

const CACHING = '0812' + '04' + zeros(17);
const CONTROL = '0a0a0010' + zeros(8);
const IEC = '1c0a' + zeros(10);

test('MODE SENSE(6) all pages: header, short block descriptor, caching, control, IEC', async () => {
  const res = await run(makeUnit(), cdb(0x1a, 0, 0x3f, 0, 0xff));
  assert.equal(hex(res.dataIn), '37001008' + '00000800' + '00000200' + CACHING + CONTROL + IEC);
});

test('MODE SENSE(6) read-only sets WP; DBD drops the descriptor; truncation keeps the length', async () => {
  assert.equal(hex((await run(makeUnit({ readOnly: true }), cdb(0x1a, 0x08, 0x08, 0, 0xff))).dataIn), '17009000' + CACHING);
  assert.equal(hex((await run(makeUnit(), cdb(0x1a, 0x08, 0x3f, 0, 4))).dataIn), '2f001000');
});

test('MODE SENSE(10) with LLBAA: 16-byte block descriptor', async () => {
  const res = await run(makeUnit(), cdb(0x5a, 0x10, 0x0a, 0, 0, 0, 0, 0, 0xff));
  assert.equal(hex(res.dataIn), '0022' + '0010' + '0100' + '0010' + '0000000000000800' + '00000000' + '00000200' + CONTROL);
});

test('MODE SENSE changeable values: only WCE; default values; saved → SAVING PARAMETERS NOT SUPPORTED', async () => {
  const unit = makeUnit();
  assert.equal(hex((await run(unit, cdb(0x1a, 0x08, 0x48, 0, 0xff))).dataIn), '17001000' + CACHING);
  assert.equal(hex((await run(unit, cdb(0x1a, 0x08, 0x8a, 0, 0xff))).dataIn), '0f001000' + CONTROL);
  const saved = await run(unit, cdb(0x1a, 0x08, 0xc8, 0, 0xff));
  assert.deepEqual(senseOf(saved), { key: 5, asc: 0x39, ascq: 0 });
});

test('MODE SENSE: unknown page or subpage is INVALID FIELD IN CDB', async () => {
  const unit = makeUnit();
  assert.equal(hex((await run(unit, cdb(0x1a, 0, 0x19, 0, 0xff))).sense), '700005000000000a00000000240000cd0002');
  assert.deepEqual(senseOf(await run(unit, cdb(0x1a, 0, 0x08, 0x01, 0xff))), { key: 5, asc: 0x24, ascq: 0 });
  assert.equal((await run(unit, cdb(0x1a, 0, 0x3f, 0xff, 0xff))).status, ScsiStatus.Good);
});

test('MODE SELECT(6) toggles WCE, which MODE SENSE then reports', async () => {
  const unit = makeUnit();
  const params = Buffer.from('00000000' + '0812' + '00' + zeros(17), 'hex');
  const res = await run(unit, cdb(0x15, 0x10, 0, 0, params.length), params);
  assert.equal(res.status, ScsiStatus.Good);
  assert.equal(unit.state.writeCacheEnabled, false);
  assert.equal(hex((await run(unit, cdb(0x1a, 0x08, 0x08, 0, 0xff))).dataIn), '17001000' + '0812' + zeros(18));
});

test('MODE SELECT(10) with a matching block descriptor and the current page is accepted', async () => {
  const unit = makeUnit();
  const params = Buffer.from('000000000000' + '0008' + '00000800' + '00000200' + CACHING, 'hex');
  assert.equal((await run(unit, cdb(0x55, 0x10, 0, 0, 0, 0, 0, 0, params.length), params)).status, ScsiStatus.Good);
});

test('MODE SELECT rejects: a non-changeable bit, an unknown page, a new block size, PF=0, short list', async () => {
  const unit = makeUnit();
  const rcd = Buffer.from('00000000' + '0812' + '05' + zeros(17), 'hex');
  assert.equal(hex((await run(unit, cdb(0x15, 0x10, 0, 0, rcd.length), rcd)).sense), '700005000000000a00000000260000880006');
  const unknown = Buffer.from('00000000' + '0306' + zeros(6), 'hex');
  assert.deepEqual(senseOf(await run(unit, cdb(0x15, 0x10, 0, 0, unknown.length), unknown)), { key: 5, asc: 0x26, ascq: 0 });
  const geometry = Buffer.from('00000008' + '00000000' + '00001000', 'hex');
  assert.deepEqual(senseOf(await run(unit, cdb(0x15, 0x10, 0, 0, geometry.length), geometry)), { key: 5, asc: 0x26, ascq: 0 });
  assert.deepEqual(senseOf(await run(unit, cdb(0x15, 0x00, 0, 0, rcd.length), rcd)), { key: 5, asc: 0x24, ascq: 0 });
  assert.deepEqual(senseOf(await run(unit, cdb(0x15, 0x10, 0, 0, 3), Buffer.alloc(3))), { key: 5, asc: 0x1a, ascq: 0 });
  const truncatedPage = Buffer.from('00000000' + '0812' + '04', 'hex');
  assert.deepEqual(senseOf(await run(unit, cdb(0x15, 0x10, 0, 0, truncatedPage.length), truncatedPage)), { key: 5, asc: 0x1a, ascq: 0 });
  assert.equal(unit.state.writeCacheEnabled, true);
  assert.equal((await run(unit, cdb(0x15, 0x10, 0, 0, 0))).status, ScsiStatus.Good);
});

test('REQUEST SENSE: nothing pending, fixed or descriptor format', async () => {
  const unit = makeUnit();
  assert.equal(hex((await run(unit, cdb(0x03, 0, 0, 0, 0xfc))).dataIn), '700000000000000a00000000000000000000');
  assert.equal(hex((await run(unit, cdb(0x03, 1, 0, 0, 0xfc))).dataIn), '7200000000000000');
});

test('TEST UNIT READY, START STOP UNIT, PREVENT ALLOW MEDIUM REMOVAL are GOOD', async () => {
  const unit = makeUnit();
  for (const c of [cdb(0x00), cdb(0x1b, 0, 0, 0, 1), cdb(0x1b, 1, 0, 0, 0x02), cdb(0x1e, 0, 0, 0, 1)]) {
    assert.deepEqual(await run(unit, c), { status: ScsiStatus.Good, dataIn: null, sense: null });
  }
});

test('REPORT SUPPORTED OPERATION CODES: all commands, with and without timeouts', async () => {
  const unit = makeUnit();
  const all = (await run(unit, cdb(0xa3, 0x0c, 0, 0, 0, 0, 0, 0, 0x10, 0))).dataIn!;
  const length = all.readUInt32BE(0);
  assert.equal(length % 8, 0);
  assert.equal(all.length, length + 4);
  const ops = new Set<number>();
  for (let at = 4; at < all.length; at += 8) {
    ops.add(all[at]!);
    const servactv = (all[at + 5]! & 1) === 1;
    if (!servactv) assert.equal(all.readUInt16BE(at + 2), 0);
  }
  for (const op of [0x00, 0x28, 0x2a, 0x88, 0x8a, 0x9e, 0xa0, 0xa3, 0x89, 0x42]) assert.ok(ops.has(op), op.toString(16));
  const withTimeouts = (await run(unit, cdb(0xa3, 0x0c, 0x80, 0, 0, 0, 0, 0, 0x10, 0))).dataIn!;
  assert.equal(withTimeouts.readUInt32BE(0), (length / 8) * 20);
});

test('REPORT SUPPORTED OPERATION CODES: one command, usage data from the table', async () => {
  const unit = makeUnit();
  const read10 = await run(unit, cdb(0xa3, 0x0c, 0x01, 0x28, 0, 0, 0, 0, 0x10, 0));
  assert.equal(hex(read10.dataIn), '0003000a' + '281affffffff1fffff00');
  const rc16 = await run(unit, cdb(0xa3, 0x0c, 0x02, 0x9e, 0, 0x10, 0, 0, 0x10, 0));
  assert.equal(hex(rc16.dataIn), '00030010' + '9e10' + 'ff'.repeat(12) + '0100');
  const missing = await run(unit, cdb(0xa3, 0x0c, 0x01, 0x3c, 0, 0, 0, 0, 0x10, 0));
  assert.equal(hex(missing.dataIn), '00010000');
  assert.deepEqual(senseOf(await run(unit, cdb(0xa3, 0x0c, 0x01, 0x9e, 0, 0x10, 0, 0, 0x10, 0))), { key: 5, asc: 0x24, ascq: 0 });
  assert.deepEqual(senseOf(await run(unit, cdb(0xa3, 0x0c, 0x02, 0x28, 0, 0, 0, 0, 0x10, 0))), { key: 5, asc: 0x24, ascq: 0 });
  const withTimeouts = await run(unit, cdb(0xa3, 0x0c, 0x83, 0x00, 0, 0, 0, 0, 0x10, 0));
  assert.equal(hex(withTimeouts.dataIn), '00830006' + '000000000000' + '000a' + zeros(10));
});

test('unsupported opcode: INVALID COMMAND OPERATION CODE, exact sense', async () => {
  const res = await run(makeUnit(), cdb(0x3c, 0, 0, 0, 0, 0, 0, 0x10, 0));
  assert.equal(res.status, ScsiStatus.CheckCondition);
  assert.equal(hex(res.sense), '700005000000000a00000000200000000000');
});
