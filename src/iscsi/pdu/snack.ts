// SNACK Request (RFC 7143 section 11.16): the initiator asks for retransmission. Initiator →
// target only; the target answers with Data-In, R2T or SCSI Response PDUs, or a Reject.
import { readFlags, readInitiatorTaskTag, readLun, readU32 } from './bhs.ts';
import type { SnackRequest } from './types.ts';

/** Byte 1: 1|.|.|.|Type (4 bits) (RFC 7143 section 11.16.1). */
export const SNACK_TYPE_MASK = 0x0f;

export const SnackType = { DataR2t: 0, Status: 1, DataAck: 2, RDataSnack: 3 } as const;

export const SnackOffset = {
  /** Target Transfer Tag or SNACK Tag (section 11.16.2). */
  TargetTransferTag: 20,
  ExpStatSn: 28,
  /** Sections 11.16.3, 11.16.4. */
  BegRun: 40,
  RunLength: 44,
} as const;

export function decodeSnackRequest(header: Buffer): SnackRequest {
  return {
    kind: 'snack-request',
    type: readFlags(header) & SNACK_TYPE_MASK,
    lun: readLun(header),
    initiatorTaskTag: readInitiatorTaskTag(header),
    targetTransferTag: readU32(header, SnackOffset.TargetTransferTag),
    expStatSn: readU32(header, SnackOffset.ExpStatSn),
    begRun: readU32(header, SnackOffset.BegRun),
    runLength: readU32(header, SnackOffset.RunLength),
  };
}
