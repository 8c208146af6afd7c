// Logout Request (RFC 7143 section 11.14) and Logout Response (section 11.15).
import {
  FINAL_BIT,
  readFlags,
  readImmediate,
  readInitiatorTaskTag,
  readU16,
  readU32,
  writeBhsStart,
  writeInitiatorTaskTag,
  writeSequenceNumbers,
  writeU16,
  writeU8,
} from './bhs.ts';
import { Opcode } from './types.ts';
import type { LogoutRequest, LogoutResponse } from './types.ts';

/** Byte 1 of the request: 1|Reason Code (7 bits) (RFC 7143 section 11.14.1). */
export const LOGOUT_REASON_MASK = 0x7f;

export const LogoutOffset = {
  /** Response byte 2 (section 11.15.1). */
  Response: 2,
  /** Request, 2 bytes (section 11.14.2). */
  Cid: 20,
  CmdSn: 24,
  ExpStatSn: 28,
  /** Response, 2 bytes each (sections 11.15.2, 11.15.3). */
  Time2Wait: 40,
  Time2Retain: 42,
} as const;

export function decodeLogoutRequest(header: Buffer): LogoutRequest {
  return {
    kind: 'logout-request',
    immediate: readImmediate(header),
    reasonCode: readFlags(header) & LOGOUT_REASON_MASK,
    initiatorTaskTag: readInitiatorTaskTag(header),
    cid: readU16(header, LogoutOffset.Cid),
    cmdSn: readU32(header, LogoutOffset.CmdSn),
    expStatSn: readU32(header, LogoutOffset.ExpStatSn),
  };
}

export function encodeLogoutResponse(pdu: LogoutResponse, header: Buffer): void {
  writeBhsStart(header, Opcode.LogoutResponse, false, FINAL_BIT, 0, 0);
  writeU8(header, LogoutOffset.Response, pdu.response);
  writeInitiatorTaskTag(header, pdu.initiatorTaskTag);
  writeSequenceNumbers(header, pdu);
  writeU16(header, LogoutOffset.Time2Wait, pdu.time2Wait);
  writeU16(header, LogoutOffset.Time2Retain, pdu.time2Retain);
}
