// The 8-byte SAM LUN field (SAM-5 4.7) as iSCSI carries it (a 64-bit big-endian value).
// Only single-level LUNs are used here: peripheral device addressing (00b, LUN 0-255) and flat
// space addressing (01b, LUN 0-16383). Anything else cannot name one of our logical units.
import { DisklessError } from '../lib/errors.ts';

export const MAX_PERIPHERAL_LUN = 0xff;
export const MAX_FLAT_LUN = 0x3fff;

/** Decodes the SAM LUN field to a LUN number, or null for a form this target never assigns. */
export function decodeLun(raw: bigint): number | null {
  if (raw === 0n) return 0; // nearly every command: no bigint arithmetic
  if (raw < 0n || raw > 0xffff_ffff_ffff_ffffn) return null;
  // Levels two to four (bytes 2-7) must be empty for a single-level LUN (SAM-5 4.7.2).
  if ((raw & 0xffff_ffff_ffffn) !== 0n) return null;
  const b0 = Number(raw >> 56n);
  const b1 = Number((raw >> 48n) & 0xffn);
  switch (b0 >> 6) {
    case 0b00:
      // Peripheral device addressing: byte 0 bits 5-0 are the BUS IDENTIFIER; 0 is this target.
      return (b0 & 0x3f) === 0 ? b1 : null;
    case 0b01:
      return ((b0 & 0x3f) << 8) | b1;
    default:
      return null;
  }
}

/** Encodes a LUN number the way REPORT LUNS lists it (SAM-5 4.7.3, 4.7.7). */
export function encodeLun(lun: number): bigint {
  if (!Number.isInteger(lun) || lun < 0 || lun > MAX_FLAT_LUN) {
    throw new DisklessError('SCSI_LUN_RANGE', `LUN ${lun} is outside 0-${MAX_FLAT_LUN}`);
  }
  const top = lun <= MAX_PERIPHERAL_LUN ? lun : 0x4000 | lun; // 01b flat space for 256 and up
  return BigInt(top) << 48n;
}

/** Writes the 8-byte LUN form at `offset`. */
export function writeLun(target: Buffer, offset: number, lun: number): void {
  target.writeBigUInt64BE(encodeLun(lun), offset);
}
