// ORWRITE(16) (SBC-3 5.10, SBC-4 5.11 with BMOP 000b): each byte of the medium becomes its OR
// with the data-out byte. A read-modify-write, so it runs in the unit's serial queue with
// COMPARE AND WRITE and WRITE ATOMIC; plain WRITEs are not held back (as for COMPARE AND WRITE).
import type { OrWrite } from './command.ts';
import { checkLength, checkRange, checkWritable, dataOutBlocks, isDurable, onIo } from './block-range.ts';
import { GOOD } from './response.ts';
import type { SerialQueue } from './serial-queue.ts';
import type { ScsiDone, ScsiResponse } from './types.ts';
import type { UnitState } from './unit-state.ts';

export function executeOrWrite(cmd: OrWrite, dataOut: Buffer | null, unit: UnitState, queue: SerialQueue, done: ScsiDone): void {
  checkWritable(unit);
  const offsetBytes = checkRange(cmd, unit);
  checkLength(cmd, unit.limits.maxTransferBlocks);
  const payload = dataOutBlocks(dataOut, cmd.blocks * unit.blockSize, unit.blockSize);
  if (payload.length === 0) return done(GOOD); // SBC-3 5.10: zero blocks is not an error
  queue.run((release) => {
    const finish = (response: ScsiResponse): void => {
      release();
      done(response);
    };
    const merged = Buffer.allocUnsafe(payload.length);
    unit.device.read(
      merged,
      offsetBytes,
      onIo('read', finish, () => {
        for (let i = 0; i < merged.length; i++) merged[i] = (merged[i] ?? 0) | (payload[i] ?? 0);
        unit.device.write(merged, offsetBytes, isDurable(unit, cmd.fua), onIo('write', finish, () => finish(GOOD)));
      }),
    );
  });
}
