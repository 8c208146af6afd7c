import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { decodeCdb } from './cdb.ts';
import { COMMANDS, reserveReleaseRows } from './cdb-table.ts';
import type { ScsiCommand } from './command.ts';
import { ScsiError, encodeFixedSense } from './sense.ts';
import { cdb } from './test-support.ts';

/** Asserts that decoding throws ScsiError with this ASC and (optionally) field pointer. */
function rejects(bytes: Buffer, asc: number, pointer?: { byte: number; bit?: number }): void {
  assert.throws(
    () => decodeCdb(bytes),
    (err: unknown) => {
      assert.ok(err instanceof ScsiError, `expected ScsiError, got ${String(err)}`);
      assert.equal(err.asc, asc);
      if (pointer !== undefined) {
        assert.equal(err.fieldPointer?.byte, pointer.byte);
        assert.equal(err.fieldPointer?.bit, pointer.bit);
        assert.equal(err.fieldPointer?.inCdb, true);
      }
      return true;
    },
  );
}

const KNOWN: readonly [string, Buffer, ScsiCommand][] = [
  ['TEST UNIT READY', cdb(0x00), { kind: 'testUnitReady' }],
  ['REQUEST SENSE desc', cdb(0x03, 0x01, 0, 0, 0xfc), { kind: 'requestSense', desc: true, allocationLength: 252 }],
  ['READ(6)', cdb(0x08, 0x1f, 0xff, 0xfe, 0x10), { kind: 'read', lba: 0x1ffffen, blocks: 16, lengthOffset: 4, dpo: false, fua: false }],
  ['READ(6) length 0 = 256', cdb(0x08, 0, 0, 1, 0), { kind: 'read', lba: 1n, blocks: 256, lengthOffset: 4, dpo: false, fua: false }],
  ['WRITE(6)', cdb(0x0a, 0, 0, 2, 1), { kind: 'write', lba: 2n, blocks: 1, lengthOffset: 4, dpo: false, fua: false }],
  ['INQUIRY std', cdb(0x12, 0, 0, 0, 0x24), { kind: 'inquiry', evpd: false, pageCode: 0, allocationLength: 36 }],
  ['INQUIRY vpd', cdb(0x12, 1, 0x83, 0x01, 0x00), { kind: 'inquiry', evpd: true, pageCode: 0x83, allocationLength: 256 }],
  ['MODE SELECT(6)', cdb(0x15, 0x10, 0, 0, 24), { kind: 'modeSelect', cdbLength: 6, pf: true, parameterListLength: 24 }],
  [
    'MODE SENSE(6)',
    cdb(0x1a, 0x08, 0x48, 0, 0xff),
    { kind: 'modeSense', cdbLength: 6, dbd: true, llbaa: false, pageControl: 1, pageCode: 8, subpageCode: 0, allocationLength: 255 },
  ],
  ['START STOP UNIT', cdb(0x1b, 1, 0, 0, 0x03), { kind: 'startStopUnit', immed: true, powerCondition: 0, loej: true, start: true }],
  ['PREVENT ALLOW', cdb(0x1e, 0, 0, 0, 1), { kind: 'preventAllowMediumRemoval', prevent: 1 }],
  ['READ CAPACITY(10)', cdb(0x25), { kind: 'readCapacity10' }],
  ['READ CAPACITY(10) PMI', cdb(0x25, 0, 0, 0, 0, 9, 0, 0, 1), { kind: 'readCapacity10' }],
  ['READ(10) DPO FUA', cdb(0x28, 0x18, 0x12, 0x34, 0x56, 0x78, 0x1f, 0x01, 0x00), { kind: 'read', lba: 0x12345678n, blocks: 256, lengthOffset: 7, dpo: true, fua: true }],
  ['WRITE(10) FUA_NV', cdb(0x2a, 0x02, 0, 0, 0, 1, 0, 0, 8), { kind: 'write', lba: 1n, blocks: 8, lengthOffset: 7, dpo: false, fua: false }],
  ['WRITE AND VERIFY(10)', cdb(0x2e, 0x02, 0, 0, 0, 9, 0, 0, 2), { kind: 'writeAndVerify', lba: 9n, blocks: 2, lengthOffset: 7, bytchk: 1 }],
  ['VERIFY(10) BYTCHK 0', cdb(0x2f, 0, 0, 0, 0, 3, 0, 0, 4), { kind: 'verify', lba: 3n, blocks: 4, lengthOffset: 7, bytchk: 0 }],
  ['VERIFY(10) BYTCHK 1', cdb(0x2f, 0x02, 0, 0, 0, 3, 0, 0, 4), { kind: 'verify', lba: 3n, blocks: 4, lengthOffset: 7, bytchk: 1 }],
  ['VERIFY(10) BYTCHK 3', cdb(0x2f, 0x06, 0, 0, 0, 3, 0, 0, 4), { kind: 'verify', lba: 3n, blocks: 4, lengthOffset: 7, bytchk: 3 }],
  ['SYNCHRONIZE CACHE(10) IMMED', cdb(0x35, 0x02, 0, 0, 0, 0, 0, 0, 0), { kind: 'synchronizeCache', lba: 0n, blocks: 0, lengthOffset: 7, immed: true }],
  ['WRITE SAME(10) UNMAP', cdb(0x41, 0x08, 0, 0, 0, 5, 0, 0, 7), { kind: 'writeSame', lba: 5n, blocks: 7, lengthOffset: 7, unmap: true, ndob: false }],
  ['UNMAP', cdb(0x42, 0, 0, 0, 0, 0, 0, 0, 24), { kind: 'unmap', parameterListLength: 24 }],
  ['MODE SELECT(10)', cdb(0x55, 0x10, 0, 0, 0, 0, 0, 0x01, 0x00), { kind: 'modeSelect', cdbLength: 10, pf: true, parameterListLength: 256 }],
  [
    'MODE SENSE(10) LLBAA',
    cdb(0x5a, 0x10, 0x3f, 0xff, 0, 0, 0, 0x10, 0x00),
    { kind: 'modeSense', cdbLength: 10, dbd: false, llbaa: true, pageControl: 0, pageCode: 0x3f, subpageCode: 0xff, allocationLength: 4096 },
  ],
  [
    'READ(16) max LBA',
    cdb(0x88, 0, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0, 0, 0, 1),
    { kind: 'read', lba: 0xffff_ffff_ffff_ffffn, blocks: 1, lengthOffset: 10, dpo: false, fua: false },
  ],
  [
    'COMPARE AND WRITE',
    cdb(0x89, 0x08, 0, 0, 0, 0, 0, 0, 0, 0x10, 0, 0, 0, 1),
    { kind: 'compareAndWrite', lba: 16n, blocks: 1, lengthOffset: 13, fua: true },
  ],
  ['WRITE(16)', cdb(0x8a, 0x08, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 1, 0), { kind: 'write', lba: 1n << 32n, blocks: 256, lengthOffset: 10, dpo: false, fua: true }],
  ['WRITE AND VERIFY(16)', cdb(0x8e, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 1), { kind: 'writeAndVerify', lba: 1n, blocks: 1, lengthOffset: 10, bytchk: 0 }],
  ['VERIFY(16)', cdb(0x8f, 0x02, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 1), { kind: 'verify', lba: 1n, blocks: 1, lengthOffset: 10, bytchk: 1 }],
  ['SYNCHRONIZE CACHE(16)', cdb(0x91, 0, 0, 0, 0, 0, 0, 0, 0, 8, 0, 0, 0, 8), { kind: 'synchronizeCache', lba: 8n, blocks: 8, lengthOffset: 10, immed: false }],
  ['WRITE SAME(16) NDOB', cdb(0x93, 0x09, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 4), { kind: 'writeSame', lba: 0n, blocks: 4, lengthOffset: 10, unmap: true, ndob: true }],
  ['READ CAPACITY(16)', cdb(0x9e, 0x10, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 32), { kind: 'readCapacity16', allocationLength: 32 }],
  ['REPORT LUNS', cdb(0xa0, 0, 0x02, 0, 0, 0, 0, 0, 0x10, 0), { kind: 'reportLuns', selectReport: 2, allocationLength: 4096 }],
  [
    'REPORT SUPPORTED OPERATION CODES',
    cdb(0xa3, 0x0c, 0x82, 0x9e, 0x00, 0x10, 0, 0, 0x02, 0),
    { kind: 'reportSupportedOperationCodes', rctd: true, reportingOptions: 2, requestedOperationCode: 0x9e, requestedServiceAction: 0x10, allocationLength: 512 },
  ],
  ['READ(12)', cdb(0xa8, 0x10, 0, 0, 1, 0, 0, 0, 0, 2), { kind: 'read', lba: 256n, blocks: 2, lengthOffset: 6, dpo: true, fua: false }],
  ['WRITE(12)', cdb(0xaa, 0, 0, 0, 0, 1, 0, 1, 0, 0), { kind: 'write', lba: 1n, blocks: 65536, lengthOffset: 6, dpo: false, fua: false }],
  ['WRITE AND VERIFY(12)', cdb(0xae, 0x12, 0, 0, 0, 1, 0, 0, 0, 1), { kind: 'writeAndVerify', lba: 1n, blocks: 1, lengthOffset: 6, bytchk: 1 }],
  ['VERIFY(12)', cdb(0xaf, 0x00, 0, 0, 0, 1, 0, 0, 0, 1), { kind: 'verify', lba: 1n, blocks: 1, lengthOffset: 6, bytchk: 0 }],
  ['PRE-FETCH(10) IMMED', cdb(0x34, 0x02, 0, 0, 0, 7, 3, 0, 9), { kind: 'preFetch', lba: 7n, blocks: 9, lengthOffset: 7, immed: true }],
  ['PRE-FETCH(16)', cdb(0x90, 0, 0, 0, 0, 0, 0, 0, 0, 7, 0, 0, 1, 0), { kind: 'preFetch', lba: 7n, blocks: 256, lengthOffset: 10, immed: false }],
  [
    'READ DEFECT DATA(10)',
    cdb(0x37, 0, 0x1b, 0, 0, 0, 0, 0x01, 0x00),
    { kind: 'readDefectData', cdbLength: 10, reqPlist: true, reqGlist: true, defectListFormat: 3, allocationLength: 256 },
  ],
  [
    'READ DEFECT DATA(12)',
    cdb(0xb7, 0x0d, 0, 0, 0, 0, 0, 0, 0x10, 0),
    { kind: 'readDefectData', cdbLength: 12, reqPlist: false, reqGlist: true, defectListFormat: 5, allocationLength: 4096 },
  ],
  ['ORWRITE(16) FUA', cdb(0x8b, 0x08, 0, 0, 0, 0, 0, 0, 0, 2, 0, 0, 0, 4), { kind: 'orWrite', lba: 2n, blocks: 4, lengthOffset: 10, fua: true }],
  ['WRITE ATOMIC(16) DPO', cdb(0x9c, 0x10, 0, 0, 0, 0, 0, 0, 0, 2, 0, 0, 0x01, 0x02), { kind: 'writeAtomic', lba: 2n, blocks: 258, lengthOffset: 12, fua: false }],
  ['PERSISTENT RESERVE IN READ KEYS', cdb(0x5e, 0x00, 0, 0, 0, 0, 0, 0x20, 0x00), { kind: 'persistentReserveIn', serviceAction: 0, allocationLength: 8192 }],
  ['PERSISTENT RESERVE IN READ FULL STATUS', cdb(0x5e, 0x03, 0, 0, 0, 0, 0, 0, 8), { kind: 'persistentReserveIn', serviceAction: 3, allocationLength: 8 }],
  [
    'PERSISTENT RESERVE OUT RESERVE',
    cdb(0x5f, 0x01, 0x03, 0, 0, 0, 0, 0, 24),
    { kind: 'persistentReserveOut', serviceAction: 1, scope: 0, type: 3, parameterListLength: 24 },
  ],
  [
    'PERSISTENT RESERVE OUT REGISTER AND IGNORE EXISTING KEY',
    cdb(0x5f, 0x06, 0, 0, 0, 0, 0, 0, 24),
    { kind: 'persistentReserveOut', serviceAction: 6, scope: 0, type: 0, parameterListLength: 24 },
  ],
  ['RESERVE(6)', cdb(0x16), { kind: 'reserve' }],
  ['RELEASE(6)', cdb(0x17), { kind: 'release' }],
  ['RESERVE(10)', cdb(0x56, 0, 0, 0, 0, 0, 0, 0, 0, 0), { kind: 'reserve' }],
  ['RELEASE(10)', cdb(0x57, 0, 0, 0, 0, 0, 0, 0, 0, 0), { kind: 'release' }],
];

for (const [name, bytes, expected] of KNOWN) {
  test(`decode ${name}`, () => assert.deepEqual(decodeCdb(bytes), expected));
}

test('every table row has a known-answer test', () => {
  const covered = new Set(KNOWN.map(([, bytes]) => bytes[0]));
  for (const spec of COMMANDS) assert.ok(covered.has(spec.opcode), spec.name);
});

test('RESERVE/RELEASE rows (offered because the transport reports nexus loss) decode and check usage', () => {
  const rows = reserveReleaseRows();
  assert.deepEqual(rows.map((r) => [r.opcode, r.usage.length]), [[0x16, 6], [0x17, 6], [0x56, 10], [0x57, 10]]);
  assert.deepEqual(rows[0]?.decode(cdb(0x16)), { kind: 'reserve' });
  assert.deepEqual(rows[3]?.decode(cdb(0x57)), { kind: 'release' });
  // SPC-2 7.21: third-party and extent bits sit outside the usage map.
  for (const row of rows) for (let i = 1; i < row.usage.length - 1; i++) assert.equal(row.usage[i], 0, row.name);
});

test('PERSISTENT RESERVE IN/OUT: service actions outside the table are INVALID FIELD IN CDB', () => {
  for (const sa of [0x04, 0x1f]) rejects(cdb(0x5e, sa, 0, 0, 0, 0, 0, 0, 8), 0x24, { byte: 1, bit: 4 });
  rejects(cdb(0x5f, 0x07, 0, 0, 0, 0, 0, 0, 24), 0x24, { byte: 1, bit: 4 }); // REGISTER AND MOVE
  rejects(cdb(0x9c, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 1), 0x24, { byte: 11, bit: 0 }); // ATOMIC BOUNDARY
  rejects(cdb(0x8b, 0x20, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1), 0x24, { byte: 1, bit: 5 }); // ORPROTECT
});

test('every table row: usage byte 0 is the opcode and length matches the group code', () => {
  const groupLength = [6, 10, 10, 0, 16, 12, 0, 0];
  for (const spec of COMMANDS) {
    assert.equal(spec.usage[0], spec.opcode, spec.name);
    assert.equal(spec.usage.length, groupLength[spec.opcode >> 5], spec.name);
  }
});

test('unknown opcodes (incl. READ BUFFER, EXTENDED COPY) are INVALID COMMAND OPERATION CODE', () => {
  for (const op of [0x3c, 0x83, 0x7f, 0xff, 0x04]) rejects(cdb(op), 0x20);
  rejects(Buffer.alloc(0), 0x20);
});

test('unknown service action is INVALID FIELD IN CDB at byte 1', () => {
  rejects(cdb(0x9e, 0x11), 0x24, { byte: 1, bit: 4 });
  rejects(cdb(0xa3, 0x0a), 0x24, { byte: 1, bit: 4 });
});

test('a CDB shorter than its group length is INVALID FIELD IN CDB', () => {
  rejects(Buffer.from([0x88, 0, 0, 0]), 0x24);
});

test('RDPROTECT/WRPROTECT/VRPROTECT set: INVALID FIELD IN CDB at byte 1 bit 7..5', () => {
  rejects(cdb(0x28, 0x20, 0, 0, 0, 0, 0, 0, 1), 0x24, { byte: 1, bit: 5 });
  rejects(cdb(0x8a, 0xe0), 0x24, { byte: 1, bit: 7 });
  rejects(cdb(0xaf, 0x40), 0x24, { byte: 1, bit: 6 });
});

test('ANCHOR in WRITE SAME and UNMAP is refused (ANC_SUP=0)', () => {
  rejects(cdb(0x41, 0x18, 0, 0, 0, 0, 0, 0, 1), 0x24, { byte: 1, bit: 4 });
  rejects(cdb(0x93, 0x10), 0x24, { byte: 1, bit: 4 });
  rejects(cdb(0x42, 0x01, 0, 0, 0, 0, 0, 0, 24), 0x24, { byte: 1, bit: 0 });
});

test('reserved bits and NACA are refused with a pointer to the highest bad bit', () => {
  rejects(cdb(0x00, 0, 0, 0x80), 0x24, { byte: 3, bit: 7 });
  rejects(cdb(0x28, 0, 0, 0, 0, 0, 0, 0, 1, 0x04), 0x24, { byte: 9, bit: 2 }); // NACA
  rejects(cdb(0x12, 0x02, 0, 0, 36), 0x24, { byte: 1, bit: 1 }); // CMDDT
  rejects(cdb(0x15, 0x11, 0, 0, 12), 0x24, { byte: 1, bit: 0 }); // SP
  rejects(cdb(0x89, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x01, 0, 0, 1), 0x24, { byte: 10, bit: 0 });
});

test('value rules: INQUIRY page without EVPD, PMI, BYTCHK 10b, SELECT REPORT, REPORTING OPTIONS, POWER CONDITION', () => {
  rejects(cdb(0x12, 0, 0x80, 0, 36), 0x24, { byte: 2 });
  rejects(cdb(0x25, 0, 0, 0, 0, 1), 0x24, { byte: 2 });
  rejects(cdb(0x9e, 0x10, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 32), 0x24, { byte: 2 });
  rejects(cdb(0x2f, 0x04, 0, 0, 0, 0, 0, 0, 1), 0x24, { byte: 1, bit: 2 });
  rejects(cdb(0xa0, 0, 0x03, 0, 0, 0, 0, 0, 0x10, 0), 0x24, { byte: 2 });
  rejects(cdb(0xa3, 0x0c, 0x04), 0x24, { byte: 2, bit: 2 });
  rejects(cdb(0x1b, 0, 0, 0, 0x40), 0x24, { byte: 4, bit: 7 });
});

test('fuzz: any bytes decode or throw ScsiError whose sense encodes', () => {
  fc.assert(
    fc.property(fc.uint8Array({ minLength: 0, maxLength: 32 }), (bytes) => {
      try {
        decodeCdb(Buffer.from(bytes));
      } catch (err) {
        if (!(err instanceof ScsiError)) throw err;
        assert.equal(encodeFixedSense(err).length, 18);
      }
    }),
    { numRuns: 5000 },
  );
});

test('fuzz: every opcode in the table with random operands', () => {
  const opcodes = COMMANDS.map((c) => c.opcode);
  fc.assert(
    fc.property(fc.constantFrom(...opcodes), fc.uint8Array({ minLength: 15, maxLength: 15 }), (op, rest) => {
      try {
        decodeCdb(Buffer.from([op, ...rest]));
      } catch (err) {
        if (!(err instanceof ScsiError)) throw err;
      }
    }),
    { numRuns: 5000 },
  );
});
