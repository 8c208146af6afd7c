// MODE SELECT(6)/(10) (SPC-4 6.11, 6.12): parse the parameter list, accept it only when it
// changes nothing but changeable bits, then apply it all at once.
import type { ModeSelect } from './command.ts';
import { findModePage } from './mode-pages.ts';
import type { ModePageSpec } from './mode-pages.ts';
import { Asc, illegalRequest, invalidFieldInCdb, invalidFieldInParameterList } from './sense.ts';
import type { UnitState } from './unit-state.ts';

interface PendingPage {
  readonly spec: ModePageSpec;
  readonly bytes: Buffer;
}

/** Block descriptors must restate the current geometry: we cannot reformat (SBC-3 6.4.4). */
function checkBlockDescriptor(list: Buffer, offset: number, long: boolean, unit: UnitState): void {
  const blocks = long ? list.readBigUInt64BE(offset) : BigInt(list.readUInt32BE(offset));
  const blockLength = long ? list.readUInt32BE(offset + 12) : list.readUIntBE(offset + 5, 3);
  const shortMax = BigInt(Math.min(unit.capacityBlocks, 0xffffffff));
  const current = long ? BigInt(unit.capacityBlocks) : shortMax;
  if (blocks !== 0n && blocks !== current) throw invalidFieldInParameterList(offset);
  if (blockLength !== unit.blockSize) throw invalidFieldInParameterList(offset + (long ? 12 : 5));
}

function validatePage(list: Buffer, offset: number, end: number): PendingPage {
  const first = list.readUInt8(offset);
  // SPF: no page here has subpages. (PS is reserved in MODE SELECT; Linux clears it, others
  // echo MODE SENSE data back, so it is ignored rather than rejected.)
  if ((first & 0x40) !== 0) throw invalidFieldInParameterList(offset, 6);
  const spec = findModePage(first & 0x3f);
  if (spec === undefined) throw invalidFieldInParameterList(offset, 5);
  if (offset + 2 > end) throw illegalRequest(Asc.ParameterListLengthError);
  const pageLength = list.readUInt8(offset + 1);
  if (pageLength !== spec.changeable.length - 2) throw invalidFieldInParameterList(offset + 1);
  if (offset + 2 + pageLength > end) throw illegalRequest(Asc.ParameterListLengthError);
  const bytes = list.subarray(offset, offset + 2 + pageLength);
  return { spec, bytes };
}

function checkOnlyChangeableBitsDiffer(pending: PendingPage, offset: number, unit: UnitState): void {
  const current = pending.spec.encode(unit.writeCacheEnabled);
  for (let i = 2; i < current.length; i++) {
    const diff = ((pending.bytes[i] ?? 0) ^ (current[i] ?? 0)) & ~(pending.spec.changeable[i] ?? 0) & 0xff;
    if (diff !== 0) throw invalidFieldInParameterList(offset + i, 31 - Math.clz32(diff));
  }
}

export function executeModeSelect(cmd: ModeSelect, dataOut: Buffer | null, unit: UnitState): void {
  if (cmd.parameterListLength === 0) return; // SPC-4 6.11: not an error, nothing changes
  // PF=0 would mean vendor-specific parameters; we only know the SPC page format.
  if (!cmd.pf) throw invalidFieldInCdb(1, 4);
  const list = (dataOut ?? Buffer.alloc(0)).subarray(0, cmd.parameterListLength);
  const headerLength = cmd.cdbLength === 6 ? 4 : 8;
  if (list.length < headerLength) throw illegalRequest(Asc.ParameterListLengthError);
  const mediumType = list.readUInt8(cmd.cdbLength === 6 ? 1 : 2);
  if (mediumType !== 0) throw invalidFieldInParameterList(cmd.cdbLength === 6 ? 1 : 2);
  const longLba = cmd.cdbLength === 10 && (list.readUInt8(4) & 0x01) !== 0;
  const descriptorLength = cmd.cdbLength === 6 ? list.readUInt8(3) : list.readUInt16BE(6);
  const descriptorSize = longLba ? 16 : 8;
  if (descriptorLength % descriptorSize !== 0) throw invalidFieldInParameterList(cmd.cdbLength === 6 ? 3 : 6);
  if (headerLength + descriptorLength > list.length) throw illegalRequest(Asc.ParameterListLengthError);
  for (let at = headerLength; at < headerLength + descriptorLength; at += descriptorSize) {
    checkBlockDescriptor(list, at, longLba, unit);
  }
  const pending: PendingPage[] = [];
  for (let at = headerLength + descriptorLength; at < list.length; ) {
    const page = validatePage(list, at, list.length);
    checkOnlyChangeableBitsDiffer(page, at, unit);
    pending.push(page);
    at += page.bytes.length;
  }
  for (const page of pending) page.spec.apply(unit, page.bytes);
}
