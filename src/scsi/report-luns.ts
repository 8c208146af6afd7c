// REPORT LUNS (SPC-4 6.33): answered by the target device for any LUN, even one that is absent.
import type { ReportLuns } from './command.ts';
import { writeLun } from './lun.ts';

/** SELECT REPORT 01h lists only well-known LUNs, of which we have none. */
const WELL_KNOWN_ONLY = 0x01;

export function executeReportLuns(cmd: ReportLuns, luns: readonly number[]): Buffer {
  const listed = cmd.selectReport === WELL_KNOWN_ONLY ? [] : [...luns].sort((a, b) => a - b);
  const b = Buffer.alloc(8 + 8 * listed.length);
  b.writeUInt32BE(8 * listed.length, 0); // LUN LIST LENGTH
  listed.forEach((lun, i) => writeLun(b, 8 + 8 * i, lun));
  return b;
}
