// Reject (RFC 7143 section 11.17): target → initiator only; the data segment carries the
// complete header of the rejected PDU.
import { FINAL_BIT, writeBhsStart, writeInitiatorTaskTag, writeSequenceNumbers, writeU32, writeU8 } from './bhs.ts';
import { Opcode, RESERVED_TAG } from './types.ts';
import type { Reject } from './types.ts';

export const RejectOffset = {
  /** Byte 2 (section 11.17.1). */
  Reason: 2,
  /** DataSN/R2TSN, only meaningful when rejecting a data SNACK (section 11.17.2). */
  DataSn: 36,
} as const;

/** The ITT of a Reject is always 0xffffffff (RFC 7143 section 11.17). */
export function encodeReject(pdu: Reject, header: Buffer): void {
  writeBhsStart(header, Opcode.Reject, false, FINAL_BIT, 0, pdu.data.length);
  writeU8(header, RejectOffset.Reason, pdu.reason);
  writeInitiatorTaskTag(header, RESERVED_TAG);
  writeSequenceNumbers(header, pdu);
  writeU32(header, RejectOffset.DataSn, pdu.dataSn);
}
