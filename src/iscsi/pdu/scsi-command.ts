// SCSI Command (RFC 7143 section 11.3) and SCSI Response (section 11.4).
import {
  FINAL_BIT,
  readFlags,
  readImmediate,
  readInitiatorTaskTag,
  readLun,
  readU32,
  writeBhsStart,
  writeInitiatorTaskTag,
  writeSequenceNumbers,
  writeU32,
  writeU8,
} from './bhs.ts';
import { Opcode } from './types.ts';
import type { ScsiCommand, ScsiResponse } from './types.ts';

/** Byte 1 of a SCSI Command: F|R|W|.|.|ATTR (RFC 7143 section 11.3.1). */
export const ScsiCommandFlag = { Final: 0x80, Read: 0x40, Write: 0x20, AttributeMask: 0x07 } as const;

export const ScsiCommandOffset = {
  ExpectedDataTransferLength: 20,
  CmdSn: 24,
  ExpStatSn: 28,
  /** 16 bytes; longer CDBs continue in an Extended CDB AHS (RFC 7143 section 11.3.5). */
  Cdb: 32,
} as const;
export const CDB_LENGTH = 16;

/** Byte 1 of a SCSI Response: 1|.|.|o|u|O|U|. (RFC 7143 section 11.4.1). */
export const ScsiResponseFlag = {
  BidiReadResidualOverflow: 0x10,
  BidiReadResidualUnderflow: 0x08,
  ResidualOverflow: 0x04,
  ResidualUnderflow: 0x02,
} as const;

export const ScsiResponseOffset = {
  Response: 2,
  Status: 3,
  SnackTag: 20,
  ExpDataSn: 36,
  BidiReadResidualCount: 40,
  ResidualCount: 44,
} as const;

/** The CDB and AHS are views into the caller's buffers, not copies. */
export function decodeScsiCommand(header: Buffer, ahs: Buffer, data: Buffer): ScsiCommand {
  const flags = readFlags(header);
  return {
    kind: 'scsi-command',
    immediate: readImmediate(header),
    final: (flags & ScsiCommandFlag.Final) !== 0,
    read: (flags & ScsiCommandFlag.Read) !== 0,
    write: (flags & ScsiCommandFlag.Write) !== 0,
    taskAttribute: flags & ScsiCommandFlag.AttributeMask,
    lun: readLun(header),
    initiatorTaskTag: readInitiatorTaskTag(header),
    expectedDataTransferLength: readU32(header, ScsiCommandOffset.ExpectedDataTransferLength),
    cmdSn: readU32(header, ScsiCommandOffset.CmdSn),
    expStatSn: readU32(header, ScsiCommandOffset.ExpStatSn),
    cdb: header.subarray(ScsiCommandOffset.Cdb, ScsiCommandOffset.Cdb + CDB_LENGTH),
    ahs,
    data,
  };
}

export function encodeScsiResponse(pdu: ScsiResponse, header: Buffer): void {
  // Bit 7 of byte 1 is always 1 in a SCSI Response (RFC 7143 section 11.4).
  const flags =
    FINAL_BIT |
    (pdu.bidiReadResidualOverflow ? ScsiResponseFlag.BidiReadResidualOverflow : 0) |
    (pdu.bidiReadResidualUnderflow ? ScsiResponseFlag.BidiReadResidualUnderflow : 0) |
    (pdu.residualOverflow ? ScsiResponseFlag.ResidualOverflow : 0) |
    (pdu.residualUnderflow ? ScsiResponseFlag.ResidualUnderflow : 0);
  writeBhsStart(header, Opcode.ScsiResponse, false, flags, 0, pdu.data.length);
  writeU8(header, ScsiResponseOffset.Response, pdu.response);
  writeU8(header, ScsiResponseOffset.Status, pdu.status);
  // Bytes 8-15 are reserved in a SCSI Response (no LUN).
  writeInitiatorTaskTag(header, pdu.initiatorTaskTag);
  writeU32(header, ScsiResponseOffset.SnackTag, pdu.snackTag);
  writeSequenceNumbers(header, pdu);
  writeU32(header, ScsiResponseOffset.ExpDataSn, pdu.expDataSn);
  writeU32(header, ScsiResponseOffset.BidiReadResidualCount, pdu.bidiReadResidualCount);
  writeU32(header, ScsiResponseOffset.ResidualCount, pdu.residualCount);
}

