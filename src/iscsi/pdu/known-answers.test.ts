// Hand-written known-answer PDUs, byte by byte from the layouts in RFC 7143 sections 11.3-11.19
// (not produced by the encoder). Each vector must encode to exactly these bytes and decode back
// to the same value. The login request is shaped like iPXE's first login (ISID with the IANA
// enterprise number format, type 01b, EN 10019 = Fen Systems; ITT with iPXE's 0x18ae tag magic).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { checkSegments, readAhsLength, readDataSegmentLength } from './bhs.ts';
import { decodeInitiatorPdu, encodeTargetHeader, encodeTargetPdu } from './index.ts';
import { encodeInitiatorPdu } from './initiator-encode.ts';
import { decodeTargetPdu } from './target-decode.ts';
import { BHS_LENGTH } from './types.ts';
import type { InitiatorPdu, TargetPdu } from './types.ts';

const hex = (s: string): Buffer => Buffer.from(s.replace(/\s+/g, ''), 'hex');
const text = (s: string): Buffer => Buffer.from(s, 'latin1');

/** Cut a whole PDU (no digests) into the three segments the framer would produce. */
function segments(pdu: Buffer): [Buffer, Buffer, Buffer] {
  const header = pdu.subarray(0, BHS_LENGTH);
  const ahsEnd = BHS_LENGTH + readAhsLength(header);
  const data = pdu.subarray(ahsEnd, ahsEnd + readDataSegmentLength(header));
  const parts: [Buffer, Buffer, Buffer] = [header, pdu.subarray(BHS_LENGTH, ahsEnd), data];
  checkSegments(...parts);
  return parts;
}

const ISID = hex('40 00 27 23 ab cd');
const LOGIN_DATA = text('InitiatorName=iqn.2010-04.org.ipxe:pc1\0TargetName=iqn.2024-01.dev.diskless:pc1\0SessionType=Normal\0AuthMethod=None\0');
const NOP_OUT_HEADER = hex(`
  40 80 00 00 00 00 00 00  00 00 00 00 00 00 00 00
  00 00 00 13 ff ff ff ff  00 00 00 05 00 00 00 04
  00 00 00 00 00 00 00 00  00 00 00 00 00 00 00 00`);

const initiatorVectors: ReadonlyArray<{ name: string; bytes: Buffer; pdu: InitiatorPdu }> = [
  {
    name: 'login request (iPXE: T=1, CSG=security, NSG=operational)',
    bytes: Buffer.concat([
      hex(`
        43 81 00 00 00 00 00 72  40 00 27 23 ab cd 00 00
        18 ae 00 00 00 00 00 00  00 00 00 00 00 00 00 00
        00 00 00 00 00 00 00 00  00 00 00 00 00 00 00 00`),
      LOGIN_DATA,
      hex('00 00'),
    ]),
    pdu: {
      kind: 'login-request', transit: true, continue: false, csg: 0, nsg: 1, versionMax: 0, versionMin: 0,
      isid: ISID, tsih: 0, initiatorTaskTag: 0x18ae0000, cid: 0, cmdSn: 0, expStatSn: 0, data: LOGIN_DATA,
    },
  },
  {
    name: 'SCSI command READ(10) LBA 0x20, 8 blocks, simple',
    bytes: hex(`
      01 c1 00 00 00 00 00 00  00 00 00 00 00 00 00 00
      00 00 00 10 00 00 10 00  00 00 00 01 00 00 00 01
      28 00 00 00 00 20 00 00  08 00 00 00 00 00 00 00`),
    pdu: {
      kind: 'scsi-command', immediate: false, final: true, read: true, write: false, taskAttribute: 1, lun: 0n,
      initiatorTaskTag: 0x10, expectedDataTransferLength: 4096, cmdSn: 1, expStatSn: 1,
      cdb: hex('28 00 00 00 00 20 00 00 08 00 00 00 00 00 00 00'), ahs: Buffer.alloc(0), data: Buffer.alloc(0),
    },
  },
  {
    name: 'SCSI command WRITE(10) on LUN 1 with immediate data and an AHS',
    bytes: hex(`
      41 a1 00 00 01 00 00 05  00 01 00 00 00 00 00 00
      00 00 00 20 00 00 02 00  00 00 00 02 00 00 00 01
      2a 00 00 00 00 00 00 00  01 00 00 00 00 00 00 00
      00 01 02 00  aa bb cc dd ee 00 00 00`),
    pdu: {
      kind: 'scsi-command', immediate: true, final: true, read: false, write: true, taskAttribute: 1,
      lun: 0x0001000000000000n, initiatorTaskTag: 0x20, expectedDataTransferLength: 512, cmdSn: 2, expStatSn: 1,
      cdb: hex('2a 00 00 00 00 00 00 00 01 00 00 00 00 00 00 00'), ahs: hex('00 01 02 00'), data: hex('aa bb cc dd ee'),
    },
  },
  {
    name: 'NOP-Out ping (immediate, no data)',
    bytes: NOP_OUT_HEADER,
    pdu: {
      kind: 'nop-out', immediate: true, lun: 0n, initiatorTaskTag: 0x13, targetTransferTag: 0xffffffff,
      cmdSn: 5, expStatSn: 4, data: Buffer.alloc(0),
    },
  },
  {
    name: 'logout request (close session)',
    bytes: hex(`
      46 80 00 00 00 00 00 00  00 00 00 00 00 00 00 00
      00 00 00 14 00 00 00 00  00 00 00 06 00 00 00 06
      00 00 00 00 00 00 00 00  00 00 00 00 00 00 00 00`),
    pdu: { kind: 'logout-request', immediate: true, reasonCode: 0, initiatorTaskTag: 0x14, cid: 0, cmdSn: 6, expStatSn: 6 },
  },
  {
    name: 'text request SendTargets=All',
    bytes: Buffer.concat([
      hex(`
        04 80 00 00 00 00 00 10  00 00 00 00 00 00 00 00
        00 00 00 15 ff ff ff ff  00 00 00 07 00 00 00 07
        00 00 00 00 00 00 00 00  00 00 00 00 00 00 00 00`),
      text('SendTargets=All\0'),
    ]),
    pdu: {
      kind: 'text-request', immediate: false, final: true, continue: false, lun: 0n, initiatorTaskTag: 0x15,
      targetTransferTag: 0xffffffff, cmdSn: 7, expStatSn: 7, data: text('SendTargets=All\0'),
    },
  },
  {
    name: 'SCSI Data-Out (final, DataSN 1, offset 8192)',
    bytes: hex(`
      05 80 00 00 00 00 00 03  00 00 00 00 00 00 00 00
      00 00 00 20 00 00 00 07  00 00 00 00 00 00 00 08
      00 00 00 00 00 00 00 01  00 00 20 00 00 00 00 00
      01 02 03 00`),
    pdu: {
      kind: 'data-out', final: true, lun: 0n, initiatorTaskTag: 0x20, targetTransferTag: 7, expStatSn: 8,
      dataSn: 1, bufferOffset: 8192, data: hex('01 02 03'),
    },
  },
  {
    name: 'task management request (ABORT TASK)',
    bytes: hex(`
      42 81 00 00 00 00 00 00  00 00 00 00 00 00 00 00
      00 00 00 30 00 00 00 20  00 00 00 09 00 00 00 08
      00 00 00 02 00 00 00 00  00 00 00 00 00 00 00 00`),
    pdu: {
      kind: 'task-management-request', immediate: true, function: 1, lun: 0n, initiatorTaskTag: 0x30,
      referencedTaskTag: 0x20, cmdSn: 9, expStatSn: 8, refCmdSn: 2, expDataSn: 0,
    },
  },
  {
    name: 'SNACK request (status SNACK)',
    bytes: hex(`
      10 81 00 00 00 00 00 00  00 00 00 00 00 00 00 00
      00 00 00 31 ff ff ff ff  00 00 00 00 00 00 00 09
      00 00 00 00 00 00 00 00  00 00 00 03 00 00 00 02`),
    pdu: {
      kind: 'snack-request', type: 1, lun: 0n, initiatorTaskTag: 0x31, targetTransferTag: 0xffffffff,
      expStatSn: 9, begRun: 3, runLength: 2,
    },
  },
];

const SENSE = hex('00 12  70 00 05 00 00 00 00 0a 00 00 00 00 24 00 00 00 00 00');
const RESPONSE_DATA = text('HeaderDigest=None\0DataDigest=None\0');
const TEXT_RESPONSE_DATA = text('TargetName=iqn.2024-01.dev.diskless:pc1\0TargetAddress=10.0.0.1:3260,1\0');

const targetVectors: ReadonlyArray<{ name: string; bytes: Buffer; pdu: TargetPdu }> = [
  {
    name: 'login response (T=1, CSG=operational, NSG=full feature, TSIH 1)',
    bytes: Buffer.concat([
      hex(`
        23 87 00 00 00 00 00 22  40 00 27 23 ab cd 00 01
        18 ae 00 01 00 00 00 00  00 00 00 00 00 00 00 01
        00 00 00 01 00 00 00 00  00 00 00 00 00 00 00 00`),
      RESPONSE_DATA,
      hex('00 00'),
    ]),
    pdu: {
      kind: 'login-response', transit: true, continue: false, csg: 1, nsg: 3, versionMax: 0, versionActive: 0,
      isid: ISID, tsih: 1, initiatorTaskTag: 0x18ae0001, statSn: 0, expCmdSn: 1, maxCmdSn: 1,
      statusClass: 0, statusDetail: 0, data: RESPONSE_DATA,
    },
  },
  {
    name: 'login response (initiator error: authentication failure 02/01)',
    bytes: hex(`
      23 00 00 00 00 00 00 00  40 00 27 23 ab cd 00 00
      18 ae 00 00 00 00 00 00  00 00 00 00 00 00 00 00
      00 00 00 00 02 01 00 00  00 00 00 00 00 00 00 00`),
    pdu: {
      kind: 'login-response', transit: false, continue: false, csg: 0, nsg: 0, versionMax: 0, versionActive: 0,
      isid: ISID, tsih: 0, initiatorTaskTag: 0x18ae0000, statSn: 0, expCmdSn: 0, maxCmdSn: 0,
      statusClass: 2, statusDetail: 1, data: Buffer.alloc(0),
    },
  },
  {
    name: 'Data-In with status (F, S, GOOD) and padding',
    bytes: hex(`
      25 81 00 00 00 00 00 06  00 00 00 00 00 00 00 00
      00 00 00 10 ff ff ff ff  00 00 00 01 00 00 00 02
      00 00 00 21 00 00 00 00  00 00 00 00 00 00 00 00
      de ad be ef 01 02 00 00`),
    pdu: {
      kind: 'data-in', final: true, acknowledge: false, residualOverflow: false, residualUnderflow: false,
      hasStatus: true, status: 0, lun: 0n, initiatorTaskTag: 0x10, targetTransferTag: 0xffffffff,
      statSn: 1, expCmdSn: 2, maxCmdSn: 33, dataSn: 0, bufferOffset: 0, residualCount: 0, data: hex('de ad be ef 01 02'),
    },
  },
  {
    name: 'Data-In without status, underflow, DataSN 2 (StatSN and status reserved)',
    bytes: hex(`
      25 02 00 00 00 00 00 04  00 00 00 00 00 00 00 00
      00 00 00 10 ff ff ff ff  00 00 00 00 00 00 00 02
      00 00 00 21 00 00 00 02  00 00 40 00 00 00 02 00
      11 22 33 44`),
    pdu: {
      kind: 'data-in', final: false, acknowledge: false, residualOverflow: false, residualUnderflow: true,
      hasStatus: false, status: 0, lun: 0n, initiatorTaskTag: 0x10, targetTransferTag: 0xffffffff,
      statSn: 0, expCmdSn: 2, maxCmdSn: 33, dataSn: 2, bufferOffset: 0x4000, residualCount: 512, data: hex('11 22 33 44'),
    },
  },
  {
    name: 'SCSI response CHECK CONDITION with sense (ILLEGAL REQUEST, ASC 0x24)',
    bytes: Buffer.concat([
      hex(`
        21 80 00 02 00 00 00 14  00 00 00 00 00 00 00 00
        00 00 00 11 00 00 00 00  00 00 00 02 00 00 00 03
        00 00 00 22 00 00 00 00  00 00 00 00 00 00 00 00`),
      SENSE,
    ]),
    pdu: {
      kind: 'scsi-response', bidiReadResidualOverflow: false, bidiReadResidualUnderflow: false,
      residualOverflow: false, residualUnderflow: false, response: 0, status: 2, initiatorTaskTag: 0x11,
      snackTag: 0, statSn: 2, expCmdSn: 3, maxCmdSn: 34, expDataSn: 0, bidiReadResidualCount: 0,
      residualCount: 0, data: SENSE,
    },
  },
  {
    name: 'SCSI response GOOD with residual underflow',
    bytes: hex(`
      21 82 00 00 00 00 00 00  00 00 00 00 00 00 00 00
      00 00 00 12 00 00 00 00  00 00 00 03 00 00 00 04
      00 00 00 23 00 00 00 01  00 00 00 00 00 00 01 00`),
    pdu: {
      kind: 'scsi-response', bidiReadResidualOverflow: false, bidiReadResidualUnderflow: false,
      residualOverflow: false, residualUnderflow: true, response: 0, status: 0, initiatorTaskTag: 0x12,
      snackTag: 0, statSn: 3, expCmdSn: 4, maxCmdSn: 35, expDataSn: 1, bidiReadResidualCount: 0,
      residualCount: 256, data: Buffer.alloc(0),
    },
  },
  {
    name: 'R2T (64 KiB at offset 64 KiB)',
    bytes: hex(`
      31 80 00 00 00 00 00 00  00 00 00 00 00 00 00 00
      00 00 00 12 00 00 00 01  00 00 00 03 00 00 00 04
      00 00 00 23 00 00 00 00  00 01 00 00 00 01 00 00`),
    pdu: {
      kind: 'r2t', lun: 0n, initiatorTaskTag: 0x12, targetTransferTag: 1, statSn: 3, expCmdSn: 4, maxCmdSn: 35,
      r2tSn: 0, bufferOffset: 0x10000, desiredDataTransferLength: 0x10000,
    },
  },
  {
    name: 'NOP-In ping from the target',
    bytes: hex(`
      20 80 00 00 00 00 00 00  00 00 00 00 00 00 00 00
      ff ff ff ff 00 00 00 02  00 00 00 04 00 00 00 05
      00 00 00 24 00 00 00 00  00 00 00 00 00 00 00 00`),
    pdu: {
      kind: 'nop-in', lun: 0n, initiatorTaskTag: 0xffffffff, targetTransferTag: 2, statSn: 4, expCmdSn: 5,
      maxCmdSn: 36, data: Buffer.alloc(0),
    },
  },
  {
    name: 'Reject (invalid PDU field) carrying the rejected header',
    bytes: Buffer.concat([
      hex(`
        3f 80 09 00 00 00 00 30  00 00 00 00 00 00 00 00
        ff ff ff ff 00 00 00 00  00 00 00 05 00 00 00 06
        00 00 00 25 00 00 00 00  00 00 00 00 00 00 00 00`),
      NOP_OUT_HEADER,
    ]),
    pdu: { kind: 'reject', reason: 9, statSn: 5, expCmdSn: 6, maxCmdSn: 37, dataSn: 0, data: NOP_OUT_HEADER },
  },
  {
    name: 'logout response (closed, Time2Wait 2, Time2Retain 20)',
    bytes: hex(`
      26 80 00 00 00 00 00 00  00 00 00 00 00 00 00 00
      00 00 00 14 00 00 00 00  00 00 00 06 00 00 00 07
      00 00 00 26 00 00 00 00  00 02 00 14 00 00 00 00`),
    pdu: {
      kind: 'logout-response', response: 0, initiatorTaskTag: 0x14, statSn: 6, expCmdSn: 7, maxCmdSn: 38,
      time2Wait: 2, time2Retain: 20,
    },
  },
  {
    name: 'text response to SendTargets',
    bytes: Buffer.concat([
      hex(`
        24 80 00 00 00 00 00 46  00 00 00 00 00 00 00 00
        00 00 00 15 ff ff ff ff  00 00 00 07 00 00 00 08
        00 00 00 27 00 00 00 00  00 00 00 00 00 00 00 00`),
      TEXT_RESPONSE_DATA,
      hex('00 00'),
    ]),
    pdu: {
      kind: 'text-response', final: true, continue: false, lun: 0n, initiatorTaskTag: 0x15,
      targetTransferTag: 0xffffffff, statSn: 7, expCmdSn: 8, maxCmdSn: 39, data: TEXT_RESPONSE_DATA,
    },
  },
  {
    name: 'task management response (function complete)',
    bytes: hex(`
      22 80 00 00 00 00 00 00  00 00 00 00 00 00 00 00
      00 00 00 30 00 00 00 00  00 00 00 08 00 00 00 0a
      00 00 00 29 00 00 00 00  00 00 00 00 00 00 00 00`),
    pdu: { kind: 'task-management-response', response: 0, initiatorTaskTag: 0x30, statSn: 8, expCmdSn: 10, maxCmdSn: 41 },
  },
  {
    name: 'async message (logout requested, Parameter3 = 5 s)',
    bytes: hex(`
      32 80 00 00 00 00 00 00  00 00 00 00 00 00 00 00
      ff ff ff ff 00 00 00 00  00 00 00 09 00 00 00 0a
      00 00 00 29 01 00 00 00  00 00 00 05 00 00 00 00`),
    pdu: {
      kind: 'async-message', lun: 0n, statSn: 9, expCmdSn: 10, maxCmdSn: 41, asyncEvent: 1, asyncVCode: 0,
      parameter1: 0, parameter2: 0, parameter3: 5, data: Buffer.alloc(0),
    },
  },
];

for (const v of initiatorVectors) {
  test(`known answer (initiator → target): ${v.name}`, () => {
    assert.equal(encodeInitiatorPdu(v.pdu).toString('hex'), v.bytes.toString('hex'));
    assert.deepEqual(decodeInitiatorPdu(...segments(v.bytes)), v.pdu);
  });
}

for (const v of targetVectors) {
  test(`known answer (target → initiator): ${v.name}`, () => {
    assert.equal(encodeTargetPdu(v.pdu).toString('hex'), v.bytes.toString('hex'));
    assert.deepEqual(decodeTargetPdu(...segments(v.bytes)), v.pdu);
    // The hot-path encoder overwrites a dirty, reused header buffer completely.
    const header = Buffer.alloc(BHS_LENGTH, 0xa5);
    encodeTargetHeader(v.pdu, header);
    assert.equal(header.toString('hex'), v.bytes.subarray(0, BHS_LENGTH).toString('hex'));
  });
}

test('decodeInitiatorPdu references the caller buffers (no copies)', () => {
  const v = initiatorVectors[2];
  assert.ok(v);
  const [header, ahs, data] = segments(v.bytes);
  const pdu = decodeInitiatorPdu(header, ahs, data);
  assert.equal(pdu.kind, 'scsi-command');
  if (pdu.kind !== 'scsi-command') return;
  assert.equal(pdu.data.buffer, v.bytes.buffer);
  assert.equal(pdu.cdb.buffer, v.bytes.buffer);
  assert.equal(pdu.ahs.buffer, v.bytes.buffer);
});
