// Text Request (RFC 7143 section 11.10) and Text Response (section 11.11).
import {
  FINAL_BIT,
  readFlags,
  readImmediate,
  readInitiatorTaskTag,
  readLun,
  readU32,
  writeBhsStart,
  writeInitiatorTaskTag,
  writeLun,
  writeSequenceNumbers,
  writeU32,
} from './bhs.ts';
import { Opcode } from './types.ts';
import type { TextRequest, TextResponse } from './types.ts';

/** Byte 1: F|C (RFC 7143 sections 11.10.1, 11.10.2). */
export const TextFlag = { Final: FINAL_BIT, Continue: 0x40 } as const;

export const TextOffset = {
  /** Section 11.10.4: 0xffffffff to start a new negotiation. */
  TargetTransferTag: 20,
  /** Request: CmdSN; response: StatSN. */
  CmdSn: 24,
  ExpStatSn: 28,
} as const;

export function decodeTextRequest(header: Buffer, data: Buffer): TextRequest {
  const flags = readFlags(header);
  return {
    kind: 'text-request',
    immediate: readImmediate(header),
    final: (flags & TextFlag.Final) !== 0,
    continue: (flags & TextFlag.Continue) !== 0,
    lun: readLun(header),
    initiatorTaskTag: readInitiatorTaskTag(header),
    targetTransferTag: readU32(header, TextOffset.TargetTransferTag),
    cmdSn: readU32(header, TextOffset.CmdSn),
    expStatSn: readU32(header, TextOffset.ExpStatSn),
    data,
  };
}

export function encodeTextResponse(pdu: TextResponse, header: Buffer): void {
  const flags = (pdu.final ? TextFlag.Final : 0) | (pdu.continue ? TextFlag.Continue : 0);
  writeBhsStart(header, Opcode.TextResponse, false, flags, 0, pdu.data.length);
  writeLun(header, pdu.lun);
  writeInitiatorTaskTag(header, pdu.initiatorTaskTag);
  writeU32(header, TextOffset.TargetTransferTag, pdu.targetTransferTag);
  writeSequenceNumbers(header, pdu);
}
