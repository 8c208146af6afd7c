// Ready To Transfer (RFC 7143 section 11.8): the target asks for a range of write data.
import { FINAL_BIT, writeBhsStart, writeInitiatorTaskTag, writeLun, writeSequenceNumbers, writeU32 } from './bhs.ts';
import { Opcode } from './types.ts';
import type { ReadyToTransfer } from './types.ts';

export const R2tOffset = {
  TargetTransferTag: 20,
  /** Section 11.8.2. */
  R2tSn: 36,
  /** Section 11.8.3. */
  BufferOffset: 40,
  DesiredDataTransferLength: 44,
} as const;

/** Byte 1 is F=1; an R2T has no AHS and no data segment (RFC 7143 section 11.8). */
export function encodeReadyToTransfer(pdu: ReadyToTransfer, header: Buffer): void {
  writeBhsStart(header, Opcode.ReadyToTransfer, false, FINAL_BIT, 0, 0);
  writeLun(header, pdu.lun);
  writeInitiatorTaskTag(header, pdu.initiatorTaskTag);
  writeU32(header, R2tOffset.TargetTransferTag, pdu.targetTransferTag);
  writeSequenceNumbers(header, pdu);
  writeU32(header, R2tOffset.R2tSn, pdu.r2tSn);
  writeU32(header, R2tOffset.BufferOffset, pdu.bufferOffset);
  writeU32(header, R2tOffset.DesiredDataTransferLength, pdu.desiredDataTransferLength);
}
