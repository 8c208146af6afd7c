// fast-check generators for every PDU kind, in the value space the codecs can represent
// (field widths per RFC 7143 section 11). Test support only: imported by *.test.ts files.
import fc from 'fast-check';
import type { Arbitrary } from 'fast-check';
import type { InitiatorPdu, TargetPdu } from './types.ts';

// Plain-prototype objects, so node:assert deepStrictEqual compares them with decoded PDUs.
const plain = { noNullPrototype: true } as const;
const u32 = fc.nat({ max: 0xffffffff });
const u16 = fc.nat({ max: 0xffff });
const u8 = fc.nat({ max: 0xff });
const lun = fc.bigInt({ min: 0n, max: (1n << 64n) - 1n });
const stage = fc.nat({ max: 3 });
const bytes = (maxLength: number, minLength = 0): Arbitrary<Buffer> =>
  fc.uint8Array({ minLength, maxLength }).map((a) => Buffer.from(a));
const data = bytes(64);
const ahs = fc.nat({ max: 4 }).chain((words) => bytes(words * 4, words * 4));

export const initiatorPduArb: Arbitrary<InitiatorPdu> = fc.oneof(
  fc.record({
    kind: fc.constant('nop-out' as const), immediate: fc.boolean(), lun, initiatorTaskTag: u32,
    targetTransferTag: u32, cmdSn: u32, expStatSn: u32, data,
  }, plain),
  fc.record({
    kind: fc.constant('scsi-command' as const), immediate: fc.boolean(), final: fc.boolean(), read: fc.boolean(),
    write: fc.boolean(), taskAttribute: fc.nat({ max: 7 }), lun, initiatorTaskTag: u32,
    expectedDataTransferLength: u32, cmdSn: u32, expStatSn: u32, cdb: bytes(16, 16), ahs, data,
  }, plain),
  fc.record({
    kind: fc.constant('task-management-request' as const), immediate: fc.boolean(), function: fc.nat({ max: 0x7f }),
    lun, initiatorTaskTag: u32, referencedTaskTag: u32, cmdSn: u32, expStatSn: u32, refCmdSn: u32, expDataSn: u32,
  }, plain),
  fc.record({
    kind: fc.constant('login-request' as const), transit: fc.boolean(), continue: fc.boolean(), csg: stage, nsg: stage,
    versionMax: u8, versionMin: u8, isid: bytes(6, 6), tsih: u16, initiatorTaskTag: u32, cid: u16, cmdSn: u32,
    expStatSn: u32, data,
  }, plain),
  fc.record({
    kind: fc.constant('text-request' as const), immediate: fc.boolean(), final: fc.boolean(), continue: fc.boolean(),
    lun, initiatorTaskTag: u32, targetTransferTag: u32, cmdSn: u32, expStatSn: u32, data,
  }, plain),
  fc.record({
    kind: fc.constant('data-out' as const), final: fc.boolean(), lun, initiatorTaskTag: u32, targetTransferTag: u32,
    expStatSn: u32, dataSn: u32, bufferOffset: u32, data,
  }, plain),
  fc.record({
    kind: fc.constant('logout-request' as const), immediate: fc.boolean(), reasonCode: fc.nat({ max: 0x7f }),
    initiatorTaskTag: u32, cid: u16, cmdSn: u32, expStatSn: u32,
  }, plain),
  fc.record({
    kind: fc.constant('snack-request' as const), type: fc.nat({ max: 0x0f }), lun, initiatorTaskTag: u32,
    targetTransferTag: u32, expStatSn: u32, begRun: u32, runLength: u32,
  }, plain),
);

const seq = { statSn: u32, expCmdSn: u32, maxCmdSn: u32 };

// Data-In: StatSN and status exist only with the S bit (RFC 7143 section 11.7.3), so without it
// they are generated as the 0 the decoder reports.
const dataInArb = fc
  .record({
    kind: fc.constant('data-in' as const), final: fc.boolean(), acknowledge: fc.boolean(),
    residualOverflow: fc.boolean(), residualUnderflow: fc.boolean(), hasStatus: fc.boolean(), status: u8, lun,
    initiatorTaskTag: u32, targetTransferTag: u32, statSn: u32, expCmdSn: u32, maxCmdSn: u32, dataSn: u32,
    bufferOffset: u32, residualCount: u32, data,
  }, plain)
  .map((p) => (p.hasStatus ? p : { ...p, status: 0, statSn: 0 }));

export const targetPduArb: Arbitrary<TargetPdu> = fc.oneof(
  fc.record({ kind: fc.constant('nop-in' as const), lun, initiatorTaskTag: u32, targetTransferTag: u32, ...seq, data }, plain),
  fc.record({
    kind: fc.constant('scsi-response' as const), bidiReadResidualOverflow: fc.boolean(),
    bidiReadResidualUnderflow: fc.boolean(), residualOverflow: fc.boolean(), residualUnderflow: fc.boolean(),
    response: u8, status: u8, initiatorTaskTag: u32, snackTag: u32, ...seq, expDataSn: u32,
    bidiReadResidualCount: u32, residualCount: u32, data,
  }, plain),
  fc.record({ kind: fc.constant('task-management-response' as const), response: u8, initiatorTaskTag: u32, ...seq }, plain),
  fc.record({
    kind: fc.constant('login-response' as const), transit: fc.boolean(), continue: fc.boolean(), csg: stage,
    nsg: stage, versionMax: u8, versionActive: u8, isid: bytes(6, 6), tsih: u16, initiatorTaskTag: u32, ...seq,
    statusClass: u8, statusDetail: u8, data,
  }, plain),
  fc.record({
    kind: fc.constant('text-response' as const), final: fc.boolean(), continue: fc.boolean(), lun,
    initiatorTaskTag: u32, targetTransferTag: u32, ...seq, data,
  }, plain),
  dataInArb,
  fc.record({
    kind: fc.constant('logout-response' as const), response: u8, initiatorTaskTag: u32, ...seq, time2Wait: u16,
    time2Retain: u16,
  }, plain),
  fc.record({
    kind: fc.constant('r2t' as const), lun, initiatorTaskTag: u32, targetTransferTag: u32, ...seq, r2tSn: u32,
    bufferOffset: u32, desiredDataTransferLength: u32,
  }, plain),
  fc.record({
    kind: fc.constant('async-message' as const), lun, ...seq, asyncEvent: u8, asyncVCode: u8, parameter1: u16,
    parameter2: u16, parameter3: u16, data,
  }, plain),
  fc.record({ kind: fc.constant('reject' as const), reason: u8, ...seq, dataSn: u32, data: bytes(48, 48) }, plain),
);
