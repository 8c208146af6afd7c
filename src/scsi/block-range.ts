// Checks shared by the SBC data commands, in the order SBC-3 implies: write protection, then
// the LBA range (exact, in bigint: a 16-byte CDB can name LBAs up to 2^64-1), then per-command
// limits from the Block Limits VPD page.
import type { BlockRange } from './command.ts';
import { checkCondition } from './response.ts';
import { Asc, ScsiError, SenseKey, invalidFieldInCdb } from './sense.ts';
import type { ScsiDone, ScsiResponse } from './types.ts';
import type { UnitState } from './unit-state.ts';
import { scsiErrorForIo } from './io-error.ts';
import type { IoOperation } from './io-error.ts';

export function checkWritable(unit: UnitState): void {
  if (unit.device.readOnly) throw new ScsiError(SenseKey.DataProtect, Asc.WriteProtected);
}

/** SBC-3 4.5: LBA + blocks must not pass the capacity. Returns the byte offset of the LBA. */
export function checkRange(range: BlockRange, unit: UnitState): number {
  // In doubles, not bigints (no allocation per command): an LBA below 2^53 converts exactly,
  // and one at or above it converts to at least 2^53, far beyond any capacity in blocks, so
  // the comparison is exact wherever it matters.
  const lba = Number(range.lba);
  if (lba + range.blocks > unit.capacityBlocks) {
    throw new ScsiError(SenseKey.IllegalRequest, Asc.LbaOutOfRange);
  }
  return lba * unit.blockSize; // < capacity, so a safe integer
}

/** SBC-3 6.5.3: a length above the advertised maximum is INVALID FIELD IN CDB. */
export function checkLength(range: BlockRange, maxBlocks: number): void {
  if (range.blocks > maxBlocks) throw invalidFieldInCdb(range.lengthOffset);
}

/**
 * The data-out a command may use: at most the CDB's length, in whole blocks. The transport
 * hands over exactly what the initiator sent; when that is less than the CDB asks for, only
 * the blocks that arrived are used (what libiscsi's residual tests expect), and a partial
 * block is refused as INVALID FIELD IN INFORMATION UNIT (SAM-5 5.4.3).
 */
export function dataOutBlocks(dataOut: Buffer | null, lengthBytes: number, blockSize: number): Buffer {
  const available = dataOut?.length ?? 0;
  if (dataOut !== null && available >= lengthBytes) return dataOut.subarray(0, lengthBytes);
  if (available % blockSize !== 0) throw new ScsiError(SenseKey.IllegalRequest, Asc.InvalidFieldInInformationUnit);
  return dataOut === null ? Buffer.alloc(0) : dataOut;
}

/**
 * Data-out that must be complete: at least `lengthBytes`, or with `exact`, precisely that
 * (WRITE SAME's one block and COMPARE AND WRITE's 2n blocks, where extra data means the
 * initiator and the CDB disagree: libiscsi's InvalidDataOutSize tests).
 */
export function exactDataOut(dataOut: Buffer | null, lengthBytes: number, exact = false): Buffer {
  const length = dataOut?.length ?? 0;
  if (dataOut === null || length < lengthBytes || (exact && length !== lengthBytes)) {
    throw new ScsiError(SenseKey.IllegalRequest, Asc.InvalidFieldInInformationUnit);
  }
  return dataOut.subarray(0, lengthBytes);
}

/** Writes are durable when the initiator asks (FUA) or when the write cache is off. */
export function isDurable(unit: UnitState, fua: boolean): boolean {
  return fua || !unit.writeCacheEnabled;
}

/** The CHECK CONDITION response for a failed device operation. */
export function ioFailure(err: NodeJS.ErrnoException, operation: IoOperation): ScsiResponse {
  return checkCondition(scsiErrorForIo(err, operation));
}

/** A device callback that answers CHECK CONDITION on error, or runs `next` on success. */
export function onIo(operation: IoOperation, done: ScsiDone, next: () => void): (err: NodeJS.ErrnoException | null) => void {
  return (err) => {
    if (err !== null) done(checkCondition(scsiErrorForIo(err, operation)));
    else next();
  };
}

/** Offset of the first byte where `a` and `b` differ, or -1 when equal. */
export function firstDifference(a: Buffer, b: Buffer): number {
  if (a.equals(b)) return -1;
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return i;
  return n;
}
