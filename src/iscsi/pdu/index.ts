// The target's PDU codec entry points: decode what an initiator sends, encode what a target
// sends (RFC 7143 section 11). The reverse directions live in initiator-encode.ts and
// target-decode.ts, which the target's own code path never imports.
import { EMPTY, padTo4 } from '../../lib/bytes.ts';
import { assertNever, DecodeError } from '../../lib/errors.ts';
import { encodeAsyncMessage } from './async.ts';
import { checkSegments, readOpcode } from './bhs.ts';
import { decodeDataOut, encodeDataIn } from './data.ts';
import { decodeLoginRequest, encodeLoginResponse } from './login.ts';
import { decodeLogoutRequest, encodeLogoutResponse } from './logout.ts';
import { decodeNopOut, encodeNopIn } from './nop.ts';
import { encodeReadyToTransfer } from './r2t.ts';
import { encodeReject } from './reject.ts';
import { decodeScsiCommand, encodeScsiResponse } from './scsi-command.ts';
import { decodeSnackRequest } from './snack.ts';
import { decodeTaskManagementRequest, encodeTaskManagementResponse } from './task-mgmt.ts';
import { decodeTextRequest, encodeTextResponse } from './text.ts';
import { BHS_LENGTH, Opcode } from './types.ts';
import type { InitiatorPdu, TargetPdu } from './types.ts';

export * from './types.ts';

/**
 * Decode one PDU received by the target. `header` is the 48-byte BHS, `ahs` the additional
 * header segments (TotalAHSLength * 4 bytes) and `data` the data segment without padding or
 * digests, exactly as the framer cut them. The result references these buffers (the CDB, ISID,
 * AHS and data are views), so the caller must not reuse them while the PDU is alive.
 *
 * Throws only DecodeError: ISCSI_BHS_TRUNCATED / ISCSI_BHS_TOO_LONG, ISCSI_AHS_LENGTH_MISMATCH,
 * ISCSI_DATA_LENGTH_MISMATCH, ISCSI_UNKNOWN_OPCODE (also for target-only opcodes, which an
 * initiator must never send). Reserved fields are not checked (RFC 7143 section 11.2: reserved
 * fields are ignored by the receiver); values the RFC answers with a Reject or a login status
 * (stage 2, bad versions, unknown TMF functions) are reported as decoded for the upper layers.
 */
export function decodeInitiatorPdu(header: Buffer, ahs: Buffer, data: Buffer): InitiatorPdu {
  checkSegments(header, ahs, data);
  const opcode = readOpcode(header);
  switch (opcode) {
    case Opcode.NopOut:
      return decodeNopOut(header, data);
    case Opcode.ScsiCommand:
      return decodeScsiCommand(header, ahs, data);
    case Opcode.TaskManagementRequest:
      return decodeTaskManagementRequest(header);
    case Opcode.LoginRequest:
      return decodeLoginRequest(header, data);
    case Opcode.TextRequest:
      return decodeTextRequest(header, data);
    case Opcode.DataOut:
      return decodeDataOut(header, data);
    case Opcode.LogoutRequest:
      return decodeLogoutRequest(header);
    case Opcode.SnackRequest:
      return decodeSnackRequest(header);
    default:
      throw new DecodeError('ISCSI_UNKNOWN_OPCODE', `opcode 0x${opcode.toString(16).padStart(2, '0')} is not an initiator opcode`);
  }
}

/**
 * Write the 48-byte BHS of a target PDU into `header` (hot path: no allocation). All reserved
 * bytes are zeroed; DataSegmentLength comes from `pdu.data.length` and TotalAHSLength is 0
 * (no target PDU carries an AHS). Throws DisklessError (a program error, not a DecodeError) if
 * `header` is shorter than 48 bytes, the data exceeds 2^24 - 1 bytes or an ISID is not 6 bytes.
 */
export function encodeTargetHeader(pdu: TargetPdu, header: Buffer): void {
  switch (pdu.kind) {
    case 'nop-in':
      return encodeNopIn(pdu, header);
    case 'scsi-response':
      return encodeScsiResponse(pdu, header);
    case 'task-management-response':
      return encodeTaskManagementResponse(pdu, header);
    case 'login-response':
      return encodeLoginResponse(pdu, header);
    case 'text-response':
      return encodeTextResponse(pdu, header);
    case 'data-in':
      return encodeDataIn(pdu, header);
    case 'logout-response':
      return encodeLogoutResponse(pdu, header);
    case 'r2t':
      return encodeReadyToTransfer(pdu, header);
    case 'async-message':
      return encodeAsyncMessage(pdu, header);
    case 'reject':
      return encodeReject(pdu, header);
    default:
      return assertNever(pdu);
  }
}

/** The data segment a target PDU carries (EMPTY for the kinds that have none). */
export function targetPduData(pdu: TargetPdu): Buffer {
  switch (pdu.kind) {
    case 'nop-in':
    case 'scsi-response':
    case 'login-response':
    case 'text-response':
    case 'data-in':
    case 'async-message':
    case 'reject':
      return pdu.data;
    case 'task-management-response':
    case 'logout-response':
    case 'r2t':
      return EMPTY;
    default:
      return assertNever(pdu);
  }
}

/**
 * BHS + data segment + zero padding to 4 bytes, without digests, in one new buffer. For tests
 * and cold paths; the connection's write path uses encodeTargetHeader and writes the data as is.
 */
export function encodeTargetPdu(pdu: TargetPdu): Buffer {
  const data = targetPduData(pdu);
  const out = Buffer.alloc(BHS_LENGTH + data.length + padTo4(data.length));
  encodeTargetHeader(pdu, out.subarray(0, BHS_LENGTH));
  data.copy(out, BHS_LENGTH);
  return out;
}
