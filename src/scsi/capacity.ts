// READ CAPACITY(10) and (16) (SBC-3 5.15, 5.16).
import type { UnitState } from './unit-state.ts';

/** The last LBA, clamped for an empty device (which has none). */
function lastLba(unit: UnitState): number {
  return Math.max(0, unit.capacityBlocks - 1);
}

export function executeReadCapacity10(unit: UnitState): Buffer {
  const b = Buffer.alloc(8);
  // FFFFFFFFh tells the initiator to use READ CAPACITY(16) (SBC-3 5.15.2).
  b.writeUInt32BE(Math.min(lastLba(unit), 0xffffffff), 0);
  b.writeUInt32BE(unit.blockSize, 4);
  return b;
}

export function executeReadCapacity16(unit: UnitState): Buffer {
  const b = Buffer.alloc(32);
  b.writeBigUInt64BE(BigInt(lastLba(unit)), 0);
  b.writeUInt32BE(unit.blockSize, 8);
  // LOGICAL BLOCKS PER PHYSICAL BLOCK EXPONENT: report 4 KiB "physical" blocks so initiators
  // align their I/O to the host page size.
  b[13] = Math.log2(unit.limits.optimalTransferGranularityBlocks) & 0x0f;
  b[14] = 0x80 | 0x40; // LBPME | LBPRZ (see the Logical Block Provisioning VPD page)
  return b;
}
