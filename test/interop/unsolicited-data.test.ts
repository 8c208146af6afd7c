// RFC 7143 section 11.3.1.1: F=1 on a SCSI Command means "no unsolicited Data-Out follows", and
// sections 13.10/13.14 let an initiator send *up to* FirstBurstLength unsolicited data
// (InitialR2T=No). The target must solicit everything from the end of what it got: a write
// whose command carried F=1 after partial (or no) immediate data used to hang, never solicited.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { RawInitiator } from '../helpers/initiator.ts';
import { login } from '../helpers/iscsi-client.ts';
import { startTestServer, TEST_IQN } from '../helpers/server.ts';

test('InitialR2T=No: F=1 after partial immediate data gets R2Ts for the rest', async () => {
  const s = await startTestServer({ diskBytes: 16 * 1024 * 1024 });
  try {
    for (const [immediate, blocks] of [[8192, 256], [0, 256], [65536, 1024]] as const) {
      const raw = await RawInitiator.connect(s.iscsiPort);
      await login(raw, { target: TEST_IQN }); // InitialR2T=No, ImmediateData=Yes, FirstBurstLength 256 KiB
      const cdb = Buffer.alloc(16);
      cdb[0] = 0x8a;
      cdb.writeBigUInt64BE(10n, 2);
      cdb.writeUInt32BE(blocks, 10);
      const length = blocks * 512;
      raw.send({
        kind: 'scsi-command', immediate: false, final: true, read: false, write: true, taskAttribute: 1, lun: 0n, initiatorTaskTag: 7,
        expectedDataTransferLength: length, cmdSn: raw.cmdSn++, expStatSn: raw.expStatSn, cdb, ahs: Buffer.alloc(0), data: Buffer.alloc(immediate, 0xab),
      });
      let covered = immediate;
      for (;;) {
        const pdu = await raw.next(3000);
        assert.ok(pdu !== null, `${immediate} bytes immediate of ${length}, F=1: the target sent nothing more (bytes ${covered}.. never solicited)`);
        if (pdu.kind === 'scsi-response') {
          assert.equal(pdu.status, 0);
          break;
        }
        assert.equal(pdu.kind, 'r2t');
        if (pdu.kind !== 'r2t') break;
        assert.equal(pdu.bufferOffset, covered, 'R2Ts start where the unsolicited data ended');
        // Data-Out segments within the target's MaxRecvDataSegmentLength (256 KiB).
        const end = pdu.bufferOffset + pdu.desiredDataTransferLength;
        for (let offset = pdu.bufferOffset, dataSn = 0; offset < end; offset += 262144, dataSn++) {
          const n = Math.min(262144, end - offset);
          raw.send({ kind: 'data-out', final: offset + n >= end, lun: 0n, initiatorTaskTag: 7, targetTransferTag: pdu.targetTransferTag, expStatSn: raw.expStatSn, dataSn, bufferOffset: offset, data: Buffer.alloc(n, 0xab) });
        }
        covered += pdu.desiredDataTransferLength;
      }
      raw.close();
    }
  } finally {
    await s.stop();
  }
});
