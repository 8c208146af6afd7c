// SCSI Data-Out (RFC 7143 section 11.7) and SCSI Data-In (same section, target direction).
import {
  FINAL_BIT,
  readFlags,
  readInitiatorTaskTag,
  readLun,
  readU32,
  SequenceOffset,
  writeBhsStart,
  writeInitiatorTaskTag,
  writeLun,
  writeU32,
  writeU8,
} from './bhs.ts';
import { Opcode } from './types.ts';
import type { DataIn, DataOut } from './types.ts';

/** Byte 1 of Data-In: F|A|0|0|0|O|U|S (RFC 7143 sections 11.7.1, 11.7.2). Data-Out has F only. */
export const DataInFlag = { Final: FINAL_BIT, Acknowledge: 0x40, ResidualOverflow: 0x04, ResidualUnderflow: 0x02, Status: 0x01 } as const;

export const DataOffset = {
  /** Data-In only, valid with the S bit (section 11.7.3). */
  Status: 3,
  TargetTransferTag: 20,
  /** Data-In only, valid with the S bit; reserved in Data-Out. */
  StatSn: 24,
  /** Data-Out only. */
  ExpStatSn: 28,
  /** Section 11.7.5. */
  DataSn: 36,
  /** Section 11.7.6. */
  BufferOffset: 40,
  /** Data-In only (section 11.7.7). */
  ResidualCount: 44,
} as const;

export function decodeDataOut(header: Buffer, data: Buffer): DataOut {
  return {
    kind: 'data-out',
    final: (readFlags(header) & FINAL_BIT) !== 0,
    lun: readLun(header),
    initiatorTaskTag: readInitiatorTaskTag(header),
    targetTransferTag: readU32(header, DataOffset.TargetTransferTag),
    expStatSn: readU32(header, DataOffset.ExpStatSn),
    dataSn: readU32(header, DataOffset.DataSn),
    bufferOffset: readU32(header, DataOffset.BufferOffset),
    data,
  };
}

/**
 * Status and StatSN are written only with the S bit; without it those fields are reserved and
 * go out as 0 (RFC 7143 section 11.7.3), whatever the value object holds. The LUN is written
 * as given: it is required with the A bit and harmless otherwise.
 */
export function encodeDataIn(pdu: DataIn, header: Buffer): void {
  const flags =
    (pdu.final ? DataInFlag.Final : 0) |
    (pdu.acknowledge ? DataInFlag.Acknowledge : 0) |
    (pdu.residualOverflow ? DataInFlag.ResidualOverflow : 0) |
    (pdu.residualUnderflow ? DataInFlag.ResidualUnderflow : 0) |
    (pdu.hasStatus ? DataInFlag.Status : 0);
  writeBhsStart(header, Opcode.DataIn, false, flags, 0, pdu.data.length);
  writeLun(header, pdu.lun);
  writeInitiatorTaskTag(header, pdu.initiatorTaskTag);
  writeU32(header, DataOffset.TargetTransferTag, pdu.targetTransferTag);
  if (pdu.hasStatus) {
    writeU8(header, DataOffset.Status, pdu.status);
    writeU32(header, DataOffset.StatSn, pdu.statSn);
  }
  // ExpCmdSN and MaxCmdSN are always valid in Data-In (section 11.7).
  writeU32(header, SequenceOffset.ExpCmdSn, pdu.expCmdSn);
  writeU32(header, SequenceOffset.MaxCmdSn, pdu.maxCmdSn);
  writeU32(header, DataOffset.DataSn, pdu.dataSn);
  writeU32(header, DataOffset.BufferOffset, pdu.bufferOffset);
  writeU32(header, DataOffset.ResidualCount, pdu.residualCount);
}
