// WRITE SAME(10)/(16) (SBC-3 5.44, 5.45): one block of data-out replicated over the range,
// written in bounded chunks so a large range never needs a large buffer.
import type { WriteSame } from './command.ts';
import { checkLength, checkRange, checkWritable, exactDataOut, isDurable, onIo } from './block-range.ts';
import { GOOD } from './response.ts';
import { Asc, ScsiError, SenseKey, invalidFieldInCdb } from './sense.ts';
import type { ScsiDone } from './types.ts';
import type { UnitState } from './unit-state.ts';

/** Upper bound of the replicated buffer. */
const CHUNK_BYTES = 1024 * 1024;

function isAllZero(block: Buffer): boolean {
  for (let i = 0; i < block.length; i++) if (block[i] !== 0) return false;
  return true;
}

/** NDOB (SBC-4 5.50): no data-out; the block is zeros. Data sent anyway contradicts the CDB. */
function noDataOut(dataOut: Buffer | null, blockSize: number): Buffer {
  if (dataOut !== null && dataOut.length > 0) throw new ScsiError(SenseKey.IllegalRequest, Asc.InvalidFieldInInformationUnit);
  return Buffer.alloc(blockSize);
}

export function executeWriteSame(cmd: WriteSame, dataOut: Buffer | null, unit: UnitState, done: ScsiDone): void {
  checkWritable(unit);
  const offsetBytes = checkRange(cmd, unit);
  // WSNZ=1 in the Block Limits page: 0 blocks ("to the end of the medium") is refused, after
  // the range check as libiscsi's WriteSame*.ZeroBlocks tests expect.
  if (cmd.blocks === 0) throw invalidFieldInCdb(cmd.lengthOffset);
  checkLength(cmd, unit.limits.maxWriteSameBlocks);
  const block = cmd.ndob ? noDataOut(dataOut, unit.blockSize) : exactDataOut(dataOut, unit.blockSize, true);
  const lengthBytes = cmd.blocks * unit.blockSize;

  // SBC-3 4.7.3.4: with LBPRZ=1 an unmapped block reads as zeros, so unmapping is only a
  // faithful "write" of a zero block. With non-zero data the UNMAP bit is ignored and the
  // data written, which SBC-3 5.44 permits ("may" unmap).
  if (cmd.unmap && isAllZero(block)) {
    unit.device.discard(offsetBytes, lengthBytes, onIo('write', done, () => done(GOOD)));
    return;
  }

  const chunkBlocks = Math.max(1, Math.min(cmd.blocks, Math.floor(CHUNK_BYTES / unit.blockSize)));
  const chunk = Buffer.allocUnsafe(chunkBlocks * unit.blockSize).fill(block);
  const durable = isDurable(unit, false);
  const end = offsetBytes + lengthBytes;
  let position = offsetBytes;
  const step = (): void => {
    if (position >= end) return done(GOOD);
    const length = Math.min(chunk.length, end - position);
    const at = position;
    position += length;
    unit.device.write(chunk.subarray(0, length), at, durable, onIo('write', done, step));
  };
  step();
}
