// COMPARE AND WRITE (SBC-3 5.2): data-out holds 2n blocks; the first n are compared with the
// medium and, only when equal, the second n are written. Serialised per logical unit against
// other COMPARE AND WRITE commands; plain writes are not held back (documented limitation).
import type { CompareAndWrite } from './command.ts';
import { checkLength, checkRange, checkWritable, exactDataOut, firstDifference, isDurable, onIo } from './block-range.ts';
import { GOOD, checkCondition } from './response.ts';
import type { SerialQueue } from './serial-queue.ts';
import { invalidFieldInCdb, miscompare } from './sense.ts';
import type { ScsiDone } from './types.ts';
import type { UnitState } from './unit-state.ts';

export function executeCompareAndWrite(cmd: CompareAndWrite, dataOut: Buffer | null, unit: UnitState, queue: SerialQueue, done: ScsiDone): void {
  checkWritable(unit);
  const offsetBytes = checkRange(cmd, unit);
  checkLength(cmd, unit.limits.maxCompareAndWriteBlocks);
  if (cmd.blocks === 0) {
    // SBC-3 5.2: zero blocks is not an error, but data-out with it contradicts the CDB (this is
    // also how a 256-block request, wrapped to 0 in the one-byte field, must fail).
    if (dataOut !== null && dataOut.length > 0) throw invalidFieldInCdb(cmd.lengthOffset);
    return done(GOOD);
  }
  const lengthBytes = cmd.blocks * unit.blockSize;
  // Unlike WRITE, a wrong-sized buffer cannot be partly used: the halves would shift.
  const data = exactDataOut(dataOut, 2 * lengthBytes, true);
  const verifyData = data.subarray(0, lengthBytes);
  const writeData = data.subarray(lengthBytes);
  queue.run((release) => {
    const finish = (response: Parameters<ScsiDone>[0]): void => {
      release();
      done(response);
    };
    const medium = Buffer.allocUnsafe(lengthBytes);
    unit.device.read(
      medium,
      offsetBytes,
      onIo('read', finish, () => {
        // SBC-3 5.2: INFORMATION = offset of the first differing byte in the data-out buffer.
        const at = firstDifference(verifyData, medium);
        if (at >= 0) return finish(checkCondition(miscompare(at)));
        unit.device.write(writeData, offsetBytes, isDurable(unit, cmd.fua), onIo('write', finish, () => finish(GOOD)));
      }),
    );
  });
}
