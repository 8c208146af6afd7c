// WRITE ATOMIC(16) (SBC-4 5.48, 4.29): the blocks are written all at once or not at all, as
// far as other commands can tell. The write is one device write issued from the unit's serial
// queue (shared with COMPARE AND WRITE and ORWRITE, so none of those interleaves with it), and
// is limited to MAXIMUM ATOMIC TRANSFER LENGTH from the Block Limits VPD page. Limitation:
// plain READ/WRITE are not held back (that would put a lock on the hot path), and atomicity
// across a host crash is only what the file system gives one pwrite.
import type { WriteAtomic } from './command.ts';
import { checkLength, checkRange, checkWritable, dataOutBlocks, isDurable, onIo } from './block-range.ts';
import { GOOD } from './response.ts';
import type { SerialQueue } from './serial-queue.ts';
import { Asc, ScsiError, SenseKey } from './sense.ts';
import type { ScsiDone, ScsiResponse } from './types.ts';
import type { UnitState } from './unit-state.ts';

export function executeWriteAtomic(cmd: WriteAtomic, dataOut: Buffer | null, unit: UnitState, queue: SerialQueue, done: ScsiDone): void {
  checkWritable(unit);
  const offsetBytes = checkRange(cmd, unit);
  checkLength(cmd, unit.limits.maxAtomicTransferBlocks);
  const lengthBytes = cmd.blocks * unit.blockSize;
  const payload = dataOutBlocks(dataOut, lengthBytes, unit.blockSize);
  if (lengthBytes === 0) return done(GOOD);
  // A part of an atomic write is not that write: all of it or nothing (SBC-4 4.29.1).
  if (payload.length !== lengthBytes) throw new ScsiError(SenseKey.IllegalRequest, Asc.InvalidFieldInInformationUnit);
  queue.run((release) => {
    const finish = (response: ScsiResponse): void => {
      release();
      done(response);
    };
    unit.device.write(payload, offsetBytes, isDurable(unit, cmd.fua), onIo('write', finish, () => finish(GOOD)));
  });
}
