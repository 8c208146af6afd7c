// Property tests: decode(encode(pdu)) deep-equals pdu for generated PDUs of every kind in both
// directions, and fuzzing: arbitrary bytes into the decoders only ever raise DecodeError.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { DecodeError } from '../../lib/errors.ts';
import { initiatorPduArb, targetPduArb } from './arbitraries.ts';
import { readAhsLength, readDataSegmentLength } from './bhs.ts';
import { decodeInitiatorPdu, encodeTargetHeader, encodeTargetPdu } from './index.ts';
import { encodeInitiatorPdu } from './initiator-encode.ts';
import { decodeTargetPdu } from './target-decode.ts';
import { BHS_LENGTH, Opcode } from './types.ts';

function segments(pdu: Buffer): [Buffer, Buffer, Buffer] {
  const header = pdu.subarray(0, BHS_LENGTH);
  const ahsEnd = BHS_LENGTH + readAhsLength(header);
  return [header, pdu.subarray(BHS_LENGTH, ahsEnd), pdu.subarray(ahsEnd, ahsEnd + readDataSegmentLength(header))];
}

/** Run fn; it may return or throw DecodeError, nothing else. */
function onlyDecodeError(fn: () => unknown): void {
  try {
    fn();
  } catch (err) {
    assert.ok(err instanceof DecodeError, `expected DecodeError, got ${String(err)}`);
  }
}

const ALL_KINDS_RUNS = 2000;

test('round trip: every initiator PDU kind, decodeInitiatorPdu(encodeInitiatorPdu(pdu)) = pdu', () => {
  fc.assert(
    fc.property(initiatorPduArb, (pdu) => {
      const wire = encodeInitiatorPdu(pdu);
      assert.equal(wire.length % 4, 0);
      assert.deepEqual(decodeInitiatorPdu(...segments(wire)), pdu);
    }),
    { numRuns: ALL_KINDS_RUNS },
  );
});

test('round trip: every target PDU kind, decodeTargetPdu(encodeTargetPdu(pdu)) = pdu', () => {
  fc.assert(
    fc.property(targetPduArb, (pdu) => {
      const wire = encodeTargetPdu(pdu);
      assert.equal(wire.length % 4, 0);
      assert.deepEqual(decodeTargetPdu(...segments(wire)), pdu);
    }),
    { numRuns: ALL_KINDS_RUNS },
  );
});

test('round trip: re-encoding a decoded target PDU gives the same bytes (encode ∘ decode = id)', () => {
  fc.assert(
    fc.property(targetPduArb, (pdu) => {
      const wire = encodeTargetPdu(pdu);
      assert.ok(encodeTargetPdu(decodeTargetPdu(...segments(wire))).equals(wire));
    }),
    { numRuns: 500 },
  );
});

// The vector's ITT bytes are 14 00 00 00 (big-endian 0x14000000) as printed in the RFC.
test('RFC 3720 B.4 iSCSI read command decodes as READ(10) of 2 blocks', () => {
  const bytes = Buffer.from(
    '01c00000000000000000000000000000' + '14000000000004000000001400000018' + '28000000000000000200000000000000',
    'hex',
  );
  const pdu = decodeInitiatorPdu(bytes, Buffer.alloc(0), Buffer.alloc(0));
  assert.equal(pdu.kind, 'scsi-command');
  if (pdu.kind !== 'scsi-command') return;
  assert.deepEqual(
    { final: pdu.final, read: pdu.read, write: pdu.write, attr: pdu.taskAttribute, itt: pdu.initiatorTaskTag, edtl: pdu.expectedDataTransferLength, cmdSn: pdu.cmdSn, expStatSn: pdu.expStatSn },
    { final: true, read: true, write: false, attr: 0, itt: 0x14000000, edtl: 1024, cmdSn: 0x14, expStatSn: 0x18 },
  );
  assert.equal(encodeInitiatorPdu(pdu).toString('hex'), bytes.toString('hex'));
});

test('decodeInitiatorPdu: target-only and unassigned opcodes are ISCSI_UNKNOWN_OPCODE', () => {
  const initiatorOpcodes = new Set<number>([0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x10]);
  for (let opcode = 0; opcode < 64; opcode++) {
    const header = Buffer.alloc(BHS_LENGTH);
    header[0] = opcode;
    if (initiatorOpcodes.has(opcode)) {
      decodeInitiatorPdu(header, Buffer.alloc(0), Buffer.alloc(0));
      continue;
    }
    assert.throws(
      () => decodeInitiatorPdu(header, Buffer.alloc(0), Buffer.alloc(0)),
      (err: unknown) => err instanceof DecodeError && err.code === 'ISCSI_UNKNOWN_OPCODE' && err.message.includes(`0x${opcode.toString(16).padStart(2, '0')}`),
    );
  }
  assert.throws(() => decodeTargetPdu(Buffer.alloc(BHS_LENGTH), Buffer.alloc(0), Buffer.alloc(0)), { code: 'ISCSI_UNKNOWN_OPCODE' });
});

test('decodeInitiatorPdu: segment lengths are checked against the BHS', () => {
  const header = encodeInitiatorPdu({
    kind: 'nop-out', immediate: true, lun: 0n, initiatorTaskTag: 1, targetTransferTag: 0xffffffff, cmdSn: 1,
    expStatSn: 1, data: Buffer.from('abcde'),
  }).subarray(0, BHS_LENGTH);
  const empty = Buffer.alloc(0);
  assert.throws(() => decodeInitiatorPdu(header.subarray(0, 47), empty, empty), { code: 'ISCSI_BHS_TRUNCATED' });
  assert.throws(() => decodeInitiatorPdu(Buffer.alloc(49), empty, empty), { code: 'ISCSI_BHS_TOO_LONG' });
  assert.throws(() => decodeInitiatorPdu(header, empty, Buffer.from('abcd')), { code: 'ISCSI_DATA_LENGTH_MISMATCH' });
  assert.throws(() => decodeInitiatorPdu(header, Buffer.alloc(4), Buffer.from('abcde')), { code: 'ISCSI_AHS_LENGTH_MISMATCH' });
  assert.equal(decodeInitiatorPdu(header, empty, Buffer.from('abcde')).kind, 'nop-out');
});

test('decodeInitiatorPdu tolerates set reserved bits (iPXE, libiscsi are real clients)', () => {
  const wire = encodeInitiatorPdu({
    kind: 'logout-request', immediate: false, reasonCode: 1, initiatorTaskTag: 7, cid: 3, cmdSn: 9, expStatSn: 4,
  });
  for (const offset of [0, 2, 3, 8, 15, 22, 32, 47]) {
    const dirty = Buffer.from(wire);
    dirty[offset] = (dirty[offset] ?? 0) | 0x80;
    const pdu = decodeInitiatorPdu(dirty, Buffer.alloc(0), Buffer.alloc(0));
    assert.equal(pdu.kind, 'logout-request');
  }
});

test('encodeTargetHeader rejects what cannot be encoded with DisklessError codes', () => {
  const pdu = { kind: 'nop-in', lun: 0n, initiatorTaskTag: 0, targetTransferTag: 0, statSn: 0, expCmdSn: 0, maxCmdSn: 0, data: Buffer.alloc(0) } as const;
  assert.throws(() => encodeTargetHeader(pdu, Buffer.alloc(47)), { code: 'ISCSI_HEADER_BUFFER_TOO_SMALL' });
  assert.throws(() => encodeTargetHeader({ ...pdu, data: Buffer.alloc(0x1000000) }, Buffer.alloc(48)), { code: 'ISCSI_DATA_TOO_LONG' });
  assert.throws(
    () => encodeTargetHeader({
      kind: 'login-response', transit: false, continue: false, csg: 0, nsg: 0, versionMax: 0, versionActive: 0,
      isid: Buffer.alloc(5), tsih: 0, initiatorTaskTag: 0, statSn: 0, expCmdSn: 0, maxCmdSn: 0, statusClass: 0,
      statusDetail: 0, data: Buffer.alloc(0),
    }, Buffer.alloc(48)),
    { code: 'ISCSI_BAD_ISID' },
  );
});

// --- fuzz ----------------------------------------------------------------------------

const FUZZ_RUNS = 20_000;

test('fuzz: random header/AHS/data into decodeInitiatorPdu and decodeTargetPdu raise only DecodeError', () => {
  const buf = fc.uint8Array({ maxLength: 80 }).map((a) => Buffer.from(a));
  fc.assert(
    fc.property(buf, buf, buf, (header, ahs, data) => {
      onlyDecodeError(() => decodeInitiatorPdu(header, ahs, data));
      onlyDecodeError(() => decodeTargetPdu(header, ahs, data));
    }),
    { numRuns: FUZZ_RUNS },
  );
});

test('fuzz: random 48-byte headers with consistent segments decode or raise DecodeError', () => {
  // Random BHS bytes, but with TotalAHSLength/DataSegmentLength made to match the segments, so
  // the fuzz reaches every opcode decoder rather than stopping at the length checks.
  const arb = fc.record({
    header: fc.uint8Array({ minLength: 48, maxLength: 48 }),
    opcode: fc.oneof(fc.constantFrom(...Object.values(Opcode)), fc.nat({ max: 0xff })),
    ahsWords: fc.nat({ max: 3 }),
    data: fc.uint8Array({ maxLength: 40 }),
  });
  fc.assert(
    fc.property(arb, ({ header, opcode, ahsWords, data }) => {
      const h = Buffer.from(header);
      h[0] = opcode;
      h[4] = ahsWords;
      h.writeUIntBE(data.length, 5, 3);
      const ahs = Buffer.alloc(ahsWords * 4, 0x5a);
      const d = Buffer.from(data);
      onlyDecodeError(() => decodeInitiatorPdu(h, ahs, d));
      onlyDecodeError(() => decodeTargetPdu(h, ahs, d));
    }),
    { numRuns: FUZZ_RUNS },
  );
});
