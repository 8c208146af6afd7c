// UNMAP (SBC-3 5.28): a parameter list of block descriptors. Every descriptor is checked
// before anything is discarded, so a bad list changes nothing.
import type { Unmap } from './command.ts';
import { checkWritable, onIo } from './block-range.ts';
import { GOOD } from './response.ts';
import { Asc, ScsiError, SenseKey, illegalRequest, invalidFieldInParameterList } from './sense.ts';
import type { ScsiDone } from './types.ts';
import type { UnitState } from './unit-state.ts';

const HEADER_BYTES = 8;
const DESCRIPTOR_BYTES = 16;

interface Extent {
  readonly offsetBytes: number;
  readonly lengthBytes: number;
}

/** Parses and checks the UNMAP parameter list (SBC-3 5.28.2, Tables 96-97). */
export function parseUnmapList(list: Buffer, unit: UnitState): Extent[] {
  if (list.length < HEADER_BYTES) throw illegalRequest(Asc.ParameterListLengthError);
  // UNMAP DATA LENGTH (bytes 0-1) is redundant; the descriptor length decides. A descriptor
  // length past the end of the list is cut to what arrived, and a trailing partial
  // descriptor is ignored (as Linux LIO does).
  const declared = list.readUInt16BE(2);
  const usable = Math.min(declared, list.length - HEADER_BYTES);
  const count = Math.floor(usable / DESCRIPTOR_BYTES);
  if (count > unit.limits.maxUnmapDescriptors) throw invalidFieldInParameterList(2);
  const extents: Extent[] = [];
  const capacity = BigInt(unit.capacityBlocks);
  for (let i = 0; i < count; i++) {
    const at = HEADER_BYTES + i * DESCRIPTOR_BYTES;
    const lba = list.readBigUInt64BE(at);
    const blocks = list.readUInt32BE(at + 8);
    if (blocks > unit.limits.maxUnmapBlocks) throw invalidFieldInParameterList(at + 8);
    if (lba + BigInt(blocks) > capacity) throw new ScsiError(SenseKey.IllegalRequest, Asc.LbaOutOfRange);
    if (blocks > 0) extents.push({ offsetBytes: Number(lba) * unit.blockSize, lengthBytes: blocks * unit.blockSize });
  }
  return extents;
}

export function executeUnmap(cmd: Unmap, dataOut: Buffer | null, unit: UnitState, done: ScsiDone): void {
  checkWritable(unit);
  if (cmd.parameterListLength === 0) return done(GOOD); // SBC-3 5.28.1: not an error
  const list = (dataOut ?? Buffer.alloc(0)).subarray(0, cmd.parameterListLength);
  const extents = parseUnmapList(list, unit);
  let next = 0;
  const step = (): void => {
    const extent = extents[next++];
    if (extent === undefined) return done(GOOD);
    unit.device.discard(extent.offsetBytes, extent.lengthBytes, onIo('write', done, step));
  };
  step();
}
