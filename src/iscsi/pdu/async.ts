// Asynchronous Message (RFC 7143 section 11.9): target → initiator only.
import { FINAL_BIT, writeBhsStart, writeInitiatorTaskTag, writeLun, writeSequenceNumbers, writeU16, writeU8 } from './bhs.ts';
import { Opcode, RESERVED_TAG } from './types.ts';
import type { AsyncMessage } from './types.ts';

/** AsyncEvent codes (RFC 7143 section 11.9.1). */
export const AsyncEvent = {
  ScsiAsyncEvent: 0,
  LogoutRequested: 1,
  ConnectionWillDrop: 2,
  SessionWillDrop: 3,
  NegotiationRequested: 4,
  TaskTerminationNotice: 5,
  VendorSpecific: 255,
} as const;

export const AsyncOffset = {
  AsyncEvent: 36,
  AsyncVCode: 37,
  /** 2 bytes each (section 11.9.1). */
  Parameter1: 38,
  Parameter2: 40,
  Parameter3: 42,
} as const;

/** The ITT of an Asynchronous Message is always 0xffffffff (RFC 7143 section 11.9). */
export function encodeAsyncMessage(pdu: AsyncMessage, header: Buffer): void {
  writeBhsStart(header, Opcode.AsyncMessage, false, FINAL_BIT, 0, pdu.data.length);
  writeLun(header, pdu.lun);
  writeInitiatorTaskTag(header, RESERVED_TAG);
  writeSequenceNumbers(header, pdu);
  writeU8(header, AsyncOffset.AsyncEvent, pdu.asyncEvent);
  writeU8(header, AsyncOffset.AsyncVCode, pdu.asyncVCode);
  writeU16(header, AsyncOffset.Parameter1, pdu.parameter1);
  writeU16(header, AsyncOffset.Parameter2, pdu.parameter2);
  writeU16(header, AsyncOffset.Parameter3, pdu.parameter3);
}
