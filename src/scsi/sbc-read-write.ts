// READ, WRITE, WRITE AND VERIFY, VERIFY and SYNCHRONIZE CACHE (SBC-3 5.8-5.49). Each handler
// validates synchronously (throwing ScsiError) and then completes through `done` exactly once.
import type { Read, SynchronizeCache, Verify, Write, WriteAndVerify } from './command.ts';
import { checkLength, checkRange, checkWritable, dataOutBlocks, exactDataOut, firstDifference, ioFailure, isDurable, onIo } from './block-range.ts';
import { GOOD, checkCondition, goodWithData } from './response.ts';
import { miscompare } from './sense.ts';
import type { ScsiDone } from './types.ts';
import type { UnitState } from './unit-state.ts';

/**
 * The hot path: one Buffer of exactly the transfer size, filled in place by the device; the
 * transport may supply it from its pool (large reads otherwise keep the GC busy).
 */
export function executeRead(cmd: Read, unit: UnitState, done: ScsiDone, allocate?: (length: number) => Buffer): void {
  const offsetBytes = checkRange(cmd, unit);
  checkLength(cmd, unit.limits.maxTransferBlocks);
  const length = cmd.blocks * unit.blockSize;
  const data = allocate !== undefined ? allocate(length) : Buffer.allocUnsafe(length);
  if (data.length === 0) return done(GOOD); // SBC-3 5.11: not an error
  // DPO and FUA need nothing: there is no cache here besides the host's, which is coherent.
  // One unnamed callback per READ (see completion.ts on why unnamed).
  unit.device.read(data, offsetBytes, (err) => done(err === null ? goodWithData(data) : ioFailure(err, 'read')));
}

export function executeWrite(cmd: Write, dataOut: Buffer | null, unit: UnitState, done: ScsiDone): void {
  checkWritable(unit);
  const offsetBytes = checkRange(cmd, unit);
  checkLength(cmd, unit.limits.maxTransferBlocks);
  const payload = dataOutBlocks(dataOut, cmd.blocks * unit.blockSize, unit.blockSize);
  if (payload.length === 0) return done(GOOD);
  unit.device.write(payload, offsetBytes, isDurable(unit, cmd.fua), (err) => done(err === null ? GOOD : ioFailure(err, 'write')));
}

/** Reads `expected.length` bytes at `offsetBytes` and reports MISCOMPARE at the first difference. */
function compareWithMedium(unit: UnitState, offsetBytes: number, expected: Buffer, done: ScsiDone): void {
  const medium = Buffer.allocUnsafe(expected.length);
  unit.device.read(
    medium,
    offsetBytes,
    onIo('read', done, () => {
      const at = firstDifference(expected, medium);
      done(at < 0 ? GOOD : checkCondition(miscompare(at)));
    }),
  );
}

/** WRITE AND VERIFY (SBC-3 5.41): the write goes to stable storage, then BYTCHK=1 reads it back. */
export function executeWriteAndVerify(cmd: WriteAndVerify, dataOut: Buffer | null, unit: UnitState, done: ScsiDone): void {
  checkWritable(unit);
  const offsetBytes = checkRange(cmd, unit);
  checkLength(cmd, unit.limits.maxTransferBlocks);
  const payload = dataOutBlocks(dataOut, cmd.blocks * unit.blockSize, unit.blockSize);
  if (payload.length === 0) return done(GOOD);
  unit.device.write(
    payload,
    offsetBytes,
    true,
    onIo('write', done, () => (cmd.bytchk === 0 ? done(GOOD) : compareWithMedium(unit, offsetBytes, payload, done))),
  );
}

/**
 * VERIFY (SBC-3 5.33, SBC-4 5.39). BYTCHK 00b: the medium is always readable, so only the
 * range is checked. 01b: compare the data-out with the medium. 11b: compare every block with
 * the single block of data-out.
 */
export function executeVerify(cmd: Verify, dataOut: Buffer | null, unit: UnitState, done: ScsiDone): void {
  const offsetBytes = checkRange(cmd, unit);
  if (cmd.bytchk === 0) return done(GOOD);
  checkLength(cmd, unit.limits.maxTransferBlocks);
  const lengthBytes = cmd.blocks * unit.blockSize;
  if (cmd.bytchk === 1) {
    const expected = dataOutBlocks(dataOut, lengthBytes, unit.blockSize);
    if (expected.length === 0) return done(GOOD);
    return compareWithMedium(unit, offsetBytes, expected, done);
  }
  if (lengthBytes === 0) return done(GOOD);
  const block = exactDataOut(dataOut, unit.blockSize);
  compareWithMedium(unit, offsetBytes, Buffer.allocUnsafe(lengthBytes).fill(block), done);
}

/**
 * SYNCHRONIZE CACHE (SBC-3 5.22, 5.23). The device flushes whole files, so the range is only
 * checked. With IMMED the status goes back once the CDB is validated, as the standard asks.
 */
export function executeSynchronizeCache(cmd: SynchronizeCache, unit: UnitState, done: ScsiDone): void {
  checkRange(cmd, unit);
  if (cmd.immed) {
    done(GOOD);
    unit.device.flush(() => {});
    return;
  }
  unit.device.flush(onIo('flush', done, () => done(GOOD)));
}
