// The session with its Data-In budget (data-in-budget.ts): READs past the budget wait without a
// storage read, start in CmdSN order as the socket takes earlier data, and ABORT TASK, LUN RESET,
// logout and a closed connection drop them without a response, a storage read or a lost pooled
// buffer. The device and the socket are fakes the test drives by hand.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { ScsiDone, ScsiRequest, ScsiTargetDevice } from '../scsi/types.ts';
import { BufferPool } from './buffer-pool.ts';
import type { NegotiatedParams } from './negotiation.ts';
import { LogoutReason, TaskFunction, type ScsiCommand, type TargetPdu } from './pdu/types.ts';
import { Session, type PduSink } from './session.ts';
import { TargetDirectory } from './target-directory.ts';

const KiB = 1024;
const MiB = 1024 * KiB;
const BLOCK = 512;
const HEADER = Buffer.alloc(48);

const PARAMS: NegotiatedParams = {
  headerDigest: false,
  dataDigest: false,
  maxRecvDataSegmentLengthInitiator: 256 * KiB,
  maxRecvDataSegmentLengthTarget: 256 * KiB,
  maxBurstLength: MiB,
  firstBurstLength: 64 * KiB,
  initialR2T: false,
  immediateData: true,
  maxOutstandingR2T: 1,
  dataPduInOrder: true,
  dataSequenceInOrder: true,
  errorRecoveryLevel: 0,
  defaultTime2Wait: 2,
  defaultTime2Retain: 20,
  maxConnections: 1,
};

interface Running {
  readonly itt: number;
  readonly request: ScsiRequest;
  readonly done: ScsiDone;
  readonly data: Buffer;
}

/** A LUN 0 whose READs wait until the test completes them; `failAtOnce` answers CHECK CONDITION inside execute(). */
class FakeDevice implements ScsiTargetDevice {
  readonly running: Running[] = [];
  /** ITTs in the order their storage reads were issued. */
  readonly issued: number[] = [];
  failAtOnce = false;
  resets = 0;

  execute(_lun: number, request: ScsiRequest, done: ScsiDone): void {
    const itt = request.cdb.readUInt32BE(2); // the test puts the ITT in the LBA field
    this.issued.push(itt);
    if (this.failAtOnce) return done({ status: 0x02, dataIn: null, sense: Buffer.from([0x70, 0, 0x05, 0, 0, 0, 0, 10, 0, 0, 0, 0, 0x24, 0, 0, 0, 0, 0]) });
    const length = request.cdb.readUInt16BE(7) * BLOCK;
    const data = request.allocateDataIn?.(length) ?? Buffer.alloc(length);
    this.running.push({ itt, request, done, data });
  }

  /** Completes the oldest running READ (or the one for `itt`) with GOOD and its data. */
  complete(itt?: number): void {
    const at = itt === undefined ? 0 : this.running.findIndex((r) => r.itt === itt);
    const [r] = this.running.splice(at, 1);
    assert.ok(r !== undefined, `no running command ${itt ?? ''}`);
    r.done({ status: 0, dataIn: r.data, sense: null });
  }

  reset(): void {
    this.resets++;
  }

  hasLun(lun: number): boolean {
    return lun === 0;
  }
}

/** Stands for the writer and its socket: holds what the session sent until the test "writes" it. */
class FakeSink implements PduSink {
  readonly sent: TargetPdu[] = [];
  /** Budget and pooled buffers of sent PDUs not yet written. */
  readonly unwritten: Array<{ bytes: number; pooled: Buffer | null }> = [];
  finished = '';
  session: Session | null = null;

  constructor(private readonly pool: BufferPool) {}

  send(pdu: TargetPdu, pooled?: Buffer | null, dataInBytes?: number): void {
    assert.equal(this.finished, '', `${pdu.kind} sent after the connection finished`);
    this.sent.push(pdu);
    if (pooled != null || (dataInBytes ?? 0) > 0) this.unwritten.push({ bytes: dataInBytes ?? 0, pooled: pooled ?? null });
  }

  finish(reason: string): void {
    this.finished = reason;
  }

  abort(reason: string): void {
    this.finished = reason;
  }

  /** The socket hands the oldest `count` releasing PDUs to the kernel (as the writer's callback does). */
  write(count = this.unwritten.length): void {
    for (const { bytes, pooled } of this.unwritten.splice(0, count)) {
      if (pooled !== null) this.pool.give(pooled);
      if (bytes > 0) this.session?.dataInWritten(bytes);
    }
  }

  /** ITTs of the commands that got their status (folded into Data-In or a SCSI Response). */
  answered(): number[] {
    return this.sent.flatMap((p) => ((p.kind === 'data-in' && p.hasStatus) || p.kind === 'scsi-response' ? [p.initiatorTaskTag] : []));
  }
}

/** Counts what was taken from the pool and not given back. */
class CountingPool extends BufferPool {
  out = 0;
  override take(length: number): Buffer {
    this.out++;
    return super.take(length);
  }
  override give(buffer: Buffer): void {
    this.out--;
    super.give(buffer);
  }
}

function setup(budgetBytes: number): { session: Session; device: FakeDevice; sink: FakeSink; pool: CountingPool; cmdSn: { next: number } } {
  const device = new FakeDevice();
  const pool = new CountingPool(64 * MiB, 4096);
  const sink = new FakeSink(pool);
  const session = new Session({
    tsih: 1, isid: Buffer.from([0x80, 0, 0, 0, 0, 1]), cid: 0, type: 'Normal', initiatorName: 'iqn.2026-11.org.diskless.test:i', targetName: 'iqn.2026-11.org.diskless.test:t',
    params: PARAMS, device, targets: new TargetDirectory(), portals: () => [], sink, log: { warn: () => undefined, debug: () => undefined },
    statSn: 1, cmdSn: 1, queueDepth: 128, pool, dataInBudgetBytes: budgetBytes,
  });
  sink.session = session;
  return { session, device, sink, pool, cmdSn: { next: 1 } };
}

/** READ(10) of `bytes` with the ITT in the LBA field (the fake device reads it back from there). */
function read(s: ReturnType<typeof setup>, itt: number, bytes: number): void {
  const cdb = Buffer.alloc(16);
  cdb[0] = 0x28;
  cdb.writeUInt32BE(itt, 2);
  cdb.writeUInt16BE(bytes / BLOCK, 7);
  const pdu: ScsiCommand = {
    kind: 'scsi-command', immediate: false, final: true, read: true, write: false, taskAttribute: 1, lun: 0n, initiatorTaskTag: itt,
    expectedDataTransferLength: bytes, cmdSn: s.cmdSn.next++, expStatSn: 0, cdb, ahs: Buffer.alloc(0), data: Buffer.alloc(0),
  };
  s.session.handle(pdu, HEADER);
}

function tmf(s: ReturnType<typeof setup>, fn: number, referencedTaskTag = 0): void {
  s.session.handle({ kind: 'task-management-request', immediate: true, function: fn, lun: 0n, initiatorTaskTag: 9000 + fn, referencedTaskTag, cmdSn: s.cmdSn.next, expStatSn: 0, refCmdSn: 0, expDataSn: 0 }, HEADER);
}

test('session data-in budget: under budget every READ is issued at once', () => {
  const s = setup(16 * MiB);
  for (let itt = 1; itt <= 32; itt++) read(s, itt, 4 * KiB);
  assert.equal(s.device.issued.length, 32);
  assert.equal(s.session.dataIn.waitingCommands, 0);
  assert.equal(s.session.dataIn.outstandingBytes, 128 * KiB);
  while (s.device.running.length > 0) s.device.complete();
  s.sink.write();
  assert.equal(s.session.dataIn.outstandingBytes, 0);
  assert.equal(s.pool.out, 0, 'every pooled data-in buffer went back');
});

test('session data-in budget: READs past the budget wait with no storage read, and go in CmdSN order as the socket takes data', () => {
  const s = setup(4 * MiB);
  for (let itt = 1; itt <= 10; itt++) read(s, itt, MiB);
  assert.deepEqual(s.device.issued, [1, 2, 3, 4], 'four 1 MiB reads fit in 4 MiB');
  assert.equal(s.session.dataIn.waitingCommands, 6);
  assert.equal(s.pool.out, 4, 'waiting commands hold no buffer');
  assert.equal(s.session.activeTasks, 10, 'waiting commands are admitted (they narrow the CmdSN window)');
  // Completed but unsent data still counts: nothing new starts.
  s.device.complete();
  s.device.complete();
  assert.deepEqual(s.device.issued, [1, 2, 3, 4]);
  s.sink.write(1);
  assert.deepEqual(s.device.issued, [1, 2, 3, 4, 5], 'one read written, one more issued');
  s.sink.write(1);
  assert.deepEqual(s.device.issued, [1, 2, 3, 4, 5, 6]);
  while (s.device.running.length > 0 || s.sink.unwritten.length > 0) {
    while (s.device.running.length > 0) s.device.complete();
    s.sink.write();
  }
  assert.deepEqual(s.device.issued, [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
  assert.deepEqual(s.sink.answered().sort((a, b) => a - b), [1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 'every READ answered once');
  assert.equal(s.session.dataIn.outstandingBytes, 0);
  assert.equal(s.pool.out, 0);
});

test('session data-in budget: a READ larger than the budget runs alone instead of never', () => {
  const s = setup(MiB);
  read(s, 1, 4 * MiB);
  read(s, 2, 64 * KiB);
  read(s, 3, 4 * MiB);
  assert.deepEqual(s.device.issued, [1]);
  s.device.complete();
  s.sink.write();
  assert.deepEqual(s.device.issued, [1, 2], 'the small one next, and the large one waits for it');
  s.device.complete();
  s.sink.write();
  assert.deepEqual(s.device.issued, [1, 2, 3]);
  s.device.complete();
  s.sink.write();
  assert.deepEqual(s.sink.answered(), [1, 2, 3]);
});

test('session data-in budget: ABORT TASK of a waiting READ drops it (no storage read, no response) and lets the next go', () => {
  const s = setup(2 * MiB);
  read(s, 1, 2 * MiB);
  read(s, 2, 2 * MiB);
  read(s, 3, MiB);
  tmf(s, TaskFunction.AbortTask, 2);
  assert.equal(s.session.dataIn.waitingCommands, 1);
  s.device.complete();
  s.sink.write();
  assert.deepEqual(s.device.issued, [1, 3]);
  s.device.complete();
  s.sink.write();
  assert.deepEqual(s.sink.answered(), [1, 3], 'the aborted READ gets no response (RFC 7143 section 11.5.1)');
  assert.equal(s.session.activeTasks, 0);
  assert.equal(s.session.dataIn.outstandingBytes, 0);
  assert.equal(s.pool.out, 0);
});

test('session data-in budget: ABORT TASK of the waiting head lets the smaller READs behind it go at once', () => {
  const s = setup(2 * MiB);
  read(s, 1, MiB);
  read(s, 2, 4 * MiB); // larger than the budget: waits for everything before it to drain
  read(s, 3, 64 * KiB); // fits, but waits behind read 2 (first come, first served)
  assert.deepEqual(s.device.issued, [1]);
  tmf(s, TaskFunction.AbortTask, 2);
  assert.deepEqual(s.device.issued, [1, 3], 'read 3 no longer waits for read 1 to drain');
  // A running READ that is aborted keeps its budget until the device is done with its buffer.
  tmf(s, TaskFunction.AbortTask, 1);
  assert.equal(s.session.dataIn.outstandingBytes, MiB + 64 * KiB);
  s.device.complete(1);
  assert.equal(s.session.dataIn.outstandingBytes, 64 * KiB);
  s.device.complete(3);
  s.sink.write();
  assert.deepEqual(s.sink.answered(), [3]);
  assert.equal(s.session.dataIn.outstandingBytes, 0);
  assert.equal(s.pool.out, 0);
});

test('session data-in budget: LUN RESET drops the waiting READs and aborts the running ones', () => {
  const s = setup(2 * MiB);
  for (let itt = 1; itt <= 6; itt++) read(s, itt, MiB);
  tmf(s, TaskFunction.LogicalUnitReset);
  assert.equal(s.device.resets, 1);
  assert.equal(s.session.dataIn.waitingCommands, 0);
  assert.equal(s.session.activeTasks, 0);
  while (s.device.running.length > 0) s.device.complete();
  assert.deepEqual(s.device.issued, [1, 2], 'nothing that waited was issued');
  assert.deepEqual(s.sink.answered(), []);
  assert.equal(s.session.dataIn.outstandingBytes, 0);
  assert.equal(s.pool.out, 0);
  // The session carries on with a fresh budget.
  read(s, 7, MiB);
  s.device.complete();
  s.sink.write();
  assert.deepEqual(s.sink.answered(), [7]);
});

test('session data-in budget: logout and a closed connection start nothing that waited and send nothing after', () => {
  for (const how of ['logout', 'close'] as const) {
    const s = setup(2 * MiB);
    for (let itt = 1; itt <= 6; itt++) read(s, itt, MiB);
    s.device.complete();
    if (how === 'logout') {
      s.session.handle({ kind: 'logout-request', immediate: true, reasonCode: LogoutReason.CloseSession, initiatorTaskTag: 77, cid: 0, cmdSn: s.cmdSn.next, expStatSn: 0 }, HEADER);
      assert.equal(s.sink.finished, 'logout');
    } else {
      s.session.close();
      s.sink.finished = 'closed';
    }
    // Data written and device reads ending after the end start nothing and send nothing.
    s.sink.write();
    while (s.device.running.length > 0) s.device.complete();
    assert.deepEqual(s.device.issued, [1, 2], `${how}: nothing that waited was issued`);
    assert.equal(s.session.dataIn.waitingCommands, 0);
    assert.equal(s.pool.out, 0, `${how}: every pooled buffer went back`);
  }
});

test('session data-in budget: commands that fail inside execute() give their budget back at once', () => {
  const s = setup(MiB);
  s.device.failAtOnce = true;
  read(s, 1, MiB);
  read(s, 2, MiB);
  read(s, 3, MiB);
  assert.deepEqual(s.device.issued, [1, 2, 3], 'each failure released the budget for the next');
  assert.deepEqual(s.sink.answered(), [1, 2, 3]);
  assert.equal(s.session.dataIn.outstandingBytes, 0);
});

test('session data-in budget: a CDB asking for more than the expected length is charged for its buffer', () => {
  const s = setup(2 * MiB);
  const cdb = Buffer.alloc(16);
  cdb[0] = 0x28;
  cdb.writeUInt32BE(1, 2);
  cdb.writeUInt16BE((4 * MiB) / BLOCK, 7);
  s.session.handle({ kind: 'scsi-command', immediate: false, final: true, read: true, write: false, taskAttribute: 1, lun: 0n, initiatorTaskTag: 1, expectedDataTransferLength: 4096, cmdSn: s.cmdSn.next++, expStatSn: 0, cdb, ahs: Buffer.alloc(0), data: Buffer.alloc(0) }, HEADER);
  assert.equal(s.session.dataIn.outstandingBytes, 4 * MiB);
  read(s, 2, 4096);
  assert.deepEqual(s.device.issued, [1], 'the 4 MiB buffer counts, not the 4 KiB expected');
  s.device.complete();
  s.sink.write();
  assert.deepEqual(s.device.issued, [1, 2]);
  s.device.complete();
  s.sink.write();
  assert.equal(s.session.dataIn.outstandingBytes, 0);
  assert.equal(s.pool.out, 0);
});
