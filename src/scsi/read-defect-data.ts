// READ DEFECT DATA(10)/(12) (SBC-3 5.12, 5.13): a file or RAM has no defects, so both lists
// are reported valid and empty, in the format the initiator asked for.
import type { ReadDefectData } from './command.ts';

export function executeReadDefectData(cmd: ReadDefectData): Buffer {
  // PLISTV | GLISTV for the lists that were requested, then DEFECT LIST FORMAT.
  const flags = (cmd.reqPlist ? 0x10 : 0) | (cmd.reqGlist ? 0x08 : 0) | cmd.defectListFormat;
  if (cmd.cdbLength === 10) {
    // Table 60: 4-byte header, DEFECT LIST LENGTH (2 bytes) = 0.
    return Buffer.from([0x00, flags, 0x00, 0x00]);
  }
  // Table 63: 8-byte header, GENERATION CODE 0 (not supported), DEFECT LIST LENGTH (4 bytes) = 0.
  return Buffer.from([0x00, flags, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00]);
}
