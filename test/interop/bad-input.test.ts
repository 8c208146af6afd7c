// Hostile and broken input gets the RFC's answer, and other sessions keep working.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { RawInitiator } from '../helpers/initiator.ts';
import { startTestServer, TEST_IQN, type TestServer } from '../helpers/server.ts';
import { encodeTextKeys } from '../../src/iscsi/text-keys.ts';
import { encodeInitiatorPdu } from '../../src/iscsi/pdu/initiator-encode.ts';
import { RejectReason } from '../../src/iscsi/pdu/types.ts';

const NORMAL: Array<[string, string]> = [
  ['TargetName', TEST_IQN],
  ['SessionType', 'Normal'],
  ['HeaderDigest', 'None'],
  ['DataDigest', 'None'],
  ['MaxRecvDataSegmentLength', '65536'],
];
const READ_CAPACITY_10 = Buffer.from([0x25, 0, 0, 0, 0, 0, 0, 0, 0, 0]);

async function loggedIn(port: number, isidByte = 1): Promise<RawInitiator> {
  const initiator = await RawInitiator.connect(port);
  const response = await initiator.login(NORMAL, Buffer.from([0x80, 0, 0, 0, 0, isidByte]));
  assert.equal(response.statusClass, 0, `login failed: ${response.statusClass}/${response.statusDetail}`);
  return initiator;
}

/** A healthy session still gets READ CAPACITY answered. */
async function assertServerHealthy(port: number): Promise<void> {
  const probe = await loggedIn(port, 99);
  const pdus = await probe.command(READ_CAPACITY_10, 8);
  const last = pdus.at(-1);
  assert.ok(last?.kind === 'data-in' && last.hasStatus && last.status === 0, 'READ CAPACITY failed after bad input');
  probe.close();
}

describe('bad input', () => {
  let s: TestServer;
  before(async () => {
    s = await startTestServer();
  });
  after(async () => s.stop());

  test('a truncated BHS followed by a hang-up harms nothing', async () => {
    await new Promise<void>((resolve) => {
      const socket = connect(s.iscsiPort, '127.0.0.1', () => {
        socket.end(Buffer.alloc(20, 0x43));
      });
      socket.on('close', () => resolve());
      socket.on('error', () => resolve());
    });
    await assertServerHealthy(s.iscsiPort);
  });

  test('an unknown opcode is answered with Reject (command not supported)', async () => {
    const initiator = await loggedIn(s.iscsiPort);
    const header = Buffer.alloc(48);
    header[0] = 0x1e; // not an iSCSI opcode
    header.writeUInt32BE(0x1234, 16);
    initiator.sendRaw(header);
    const reply = await initiator.next();
    assert.equal(reply?.kind, 'reject');
    assert.ok(reply?.kind === 'reject');
    assert.equal(reply.reason, RejectReason.CommandNotSupported);
    assert.ok(reply.data.subarray(0, 48).equals(header), 'Reject must carry the rejected header');
    // The session goes on.
    const pdus = await initiator.command(READ_CAPACITY_10, 8);
    assert.equal(pdus.at(-1)?.kind, 'data-in');
    initiator.close();
  });

  test('a data segment over MaxRecvDataSegmentLength is rejected (protocol error)', async () => {
    const initiator = await loggedIn(s.iscsiPort);
    initiator.nopOut(Buffer.alloc(2 * 1024 * 1024, 1));
    const reply = await initiator.next();
    assert.ok(reply?.kind === 'reject', `expected a Reject, got ${reply?.kind}`);
    assert.equal(reply.reason, RejectReason.ProtocolError);
    initiator.close();
    await assertServerHealthy(s.iscsiPort);
  });

  test('garbage login keys get an initiator-error login status and the connection closes', async () => {
    const initiator = await RawInitiator.connect(s.iscsiPort);
    initiator.send({
      kind: 'login-request', transit: true, continue: false, csg: 1, nsg: 3, versionMax: 0, versionMin: 0,
      isid: Buffer.from([0x80, 0, 0, 0, 0, 7]), tsih: 0, initiatorTaskTag: 1, cid: 0, cmdSn: 1, expStatSn: 0,
      data: Buffer.from('this is not a key\0=\0\xff\xfe\0', 'latin1'),
    });
    const reply = await initiator.next();
    assert.ok(reply?.kind === 'login-response');
    assert.equal(reply.statusClass, 2);
    assert.ok(await initiator.waitClosed(), 'connection should close after a failed login');
  });

  test('an unknown target gets login status 0x0203 (not found)', async () => {
    const initiator = await RawInitiator.connect(s.iscsiPort);
    const reply = await initiator.login([['TargetName', 'iqn.2026-11.org.diskless.test:nope'], ['SessionType', 'Normal']]);
    assert.equal(reply.statusClass, 2);
    assert.equal(reply.statusDetail, 3);
    initiator.close();
  });

  test('a missing TargetName gets 0x0207 (missing parameter)', async () => {
    const initiator = await RawInitiator.connect(s.iscsiPort);
    const reply = await initiator.login([['SessionType', 'Normal']]);
    assert.equal(reply.statusClass, 2);
    assert.equal(reply.statusDetail, 7);
    initiator.close();
  });

  test('a command to a LUN that does not exist gets CHECK CONDITION, LOGICAL UNIT NOT SUPPORTED', async () => {
    const initiator = await loggedIn(s.iscsiPort);
    const pdus = await initiator.command(READ_CAPACITY_10, 8, 0x0005_0000_0000_0000n);
    const response = pdus.at(-1);
    assert.ok(response?.kind === 'scsi-response', `expected a SCSI Response, got ${response?.kind}`);
    assert.equal(response.status, 0x02);
    const sense = response.data.subarray(2);
    assert.equal(sense[2]! & 0x0f, 0x05, 'sense key ILLEGAL REQUEST');
    assert.equal(sense[12], 0x25, 'ASC LOGICAL UNIT NOT SUPPORTED');
    initiator.close();
  });

  test('a connection dropped in the middle of a write leaves the server serving', async () => {
    const initiator = await loggedIn(s.iscsiPort);
    const cdb = Buffer.alloc(16);
    cdb[0] = 0x2a; // WRITE(10) of 128 blocks at LBA 0
    cdb.writeUInt16BE(128, 7);
    initiator.send({
      kind: 'scsi-command', immediate: false, final: true, read: false, write: true, taskAttribute: 1, lun: 0n,
      initiatorTaskTag: 77, expectedDataTransferLength: 65536, cmdSn: initiator.cmdSn++, expStatSn: initiator.expStatSn,
      cdb, ahs: Buffer.alloc(0), data: Buffer.alloc(0),
    });
    const r2t = await initiator.next();
    assert.equal(r2t?.kind, 'r2t');
    initiator.sendRaw(Buffer.alloc(1000, 0xee)); // half a Data-Out header, then gone
    initiator.close();
    await assertServerHealthy(s.iscsiPort);
  });

  test('CRC32C header and data digests: negotiated, checked, and a bad digest is answered', async () => {
    const initiator = await RawInitiator.connect(s.iscsiPort);
    const login = await initiator.login([
      ['TargetName', TEST_IQN],
      ['SessionType', 'Normal'],
      ['HeaderDigest', 'CRC32C,None'],
      ['DataDigest', 'CRC32C,None'],
      ['ImmediateData', 'Yes'],
      ['MaxRecvDataSegmentLength', '65536'],
    ]);
    assert.equal(login.statusClass, 0);
    const keys = initiator.keysOf(login);
    assert.equal(keys.get('HeaderDigest'), 'CRC32C');
    assert.equal(keys.get('DataDigest'), 'CRC32C');
    initiator.enableDigests();
    // A write with immediate data and a read back, both with digests on every PDU.
    const block = Buffer.alloc(512, 0x5a);
    const cdb = Buffer.alloc(16);
    cdb[0] = 0x2a;
    cdb.writeUInt32BE(100, 2);
    cdb.writeUInt16BE(1, 7);
    initiator.send({
      kind: 'scsi-command', immediate: false, final: true, read: false, write: true, taskAttribute: 1, lun: 0n,
      initiatorTaskTag: 500, expectedDataTransferLength: 512, cmdSn: initiator.cmdSn++, expStatSn: initiator.expStatSn,
      cdb, ahs: Buffer.alloc(0), data: block,
    });
    const written = await initiator.next();
    assert.ok(written?.kind === 'scsi-response' && written.status === 0, `write failed: ${written?.kind}`);
    const read = Buffer.alloc(10);
    read[0] = 0x28;
    read.writeUInt32BE(100, 2);
    read.writeUInt16BE(1, 7);
    const pdus = await initiator.command(read, 512);
    const dataIn = pdus.at(-1);
    assert.ok(dataIn?.kind === 'data-in' && dataIn.data.equals(block), 'read back with digests');
    // A NOP-Out whose data digest is wrong: Reject, reason data digest error (RFC 7143 7.8).
    initiator.digests = false;
    const nop = encodeInitiatorPdu({ kind: 'nop-out', immediate: true, lun: 0n, initiatorTaskTag: 9, targetTransferTag: 0xffffffff, cmdSn: initiator.cmdSn, expStatSn: initiator.expStatSn, data: Buffer.from('abcd') });
    initiator.digests = true;
    const good = initiator.withDigests(nop);
    good.writeUInt32LE((good.readUInt32LE(good.length - 4) ^ 1) >>> 0, good.length - 4);
    initiator.sendRaw(good);
    const reject = await initiator.next();
    assert.ok(reject?.kind === 'reject', `expected a Reject, got ${reject?.kind}`);
    assert.equal(reject.reason, RejectReason.DataDigestError);
    // A header digest error cannot be trusted at all: the connection is dropped.
    const badHeader = initiator.withDigests(nop);
    badHeader[48] = (badHeader[48] ?? 0) ^ 0xff;
    initiator.sendRaw(badHeader);
    assert.ok(await initiator.waitClosed(), 'a header digest error closes the connection');
  });

  test('NOP-Out with a tag is echoed by NOP-In with the same data', async () => {
    const initiator = await loggedIn(s.iscsiPort);
    initiator.nopOut(Buffer.from('ping-data'));
    const reply = await initiator.next();
    assert.ok(reply?.kind === 'nop-in');
    assert.equal(reply.data.toString(), 'ping-data');
    initiator.close();
  });

  test('discovery without a target name lists the target with its portal', async () => {
    const initiator = await RawInitiator.connect(s.iscsiPort);
    const reply = await initiator.login([['SessionType', 'Discovery']]);
    assert.equal(reply.statusClass, 0);
    initiator.send({
      kind: 'text-request', immediate: true, final: true, continue: false, lun: 0n, initiatorTaskTag: 5,
      targetTransferTag: 0xffffffff, cmdSn: initiator.cmdSn, expStatSn: initiator.expStatSn, data: encodeTextKeys([['SendTargets', 'All']]),
    });
    const text = await initiator.next();
    assert.ok(text?.kind === 'text-response');
    const body = text.data.toString('latin1');
    assert.match(body, new RegExp(`TargetName=${TEST_IQN.replace(/\./g, '\\.')}\0`));
    assert.match(body, new RegExp(`TargetAddress=127\\.0\\.0\\.1:${s.iscsiPort},1\0`));
    initiator.close();
  });
});
