// NOP-Out (RFC 7143 section 11.18) and NOP-In (section 11.19): pings in either direction.
import { FINAL_BIT, readImmediate, readInitiatorTaskTag, readLun, readU32, writeBhsStart, writeInitiatorTaskTag, writeLun, writeSequenceNumbers, writeU32 } from './bhs.ts';
import { Opcode } from './types.ts';
import type { NopIn, NopOut } from './types.ts';

/** Offsets after the common BHS fields (LUN at 8, ITT at 16). */
export const NopOffset = {
  /** 0xffffffff unless answering a NOP-In ping (RFC 7143 section 11.18.3). */
  TargetTransferTag: 20,
  /** NOP-Out: CmdSN (section 11.18.4); NOP-In: StatSN. */
  CmdSn: 24,
  ExpStatSn: 28,
} as const;

export function decodeNopOut(header: Buffer, data: Buffer): NopOut {
  return {
    kind: 'nop-out',
    immediate: readImmediate(header),
    lun: readLun(header),
    initiatorTaskTag: readInitiatorTaskTag(header),
    targetTransferTag: readU32(header, NopOffset.TargetTransferTag),
    cmdSn: readU32(header, NopOffset.CmdSn),
    expStatSn: readU32(header, NopOffset.ExpStatSn),
    data,
  };
}

/** NOP-In: byte 1 is F=1 with the rest reserved (RFC 7143 section 11.19). */
export function encodeNopIn(pdu: NopIn, header: Buffer): void {
  writeBhsStart(header, Opcode.NopIn, false, FINAL_BIT, 0, pdu.data.length);
  writeLun(header, pdu.lun);
  writeInitiatorTaskTag(header, pdu.initiatorTaskTag);
  writeU32(header, NopOffset.TargetTransferTag, pdu.targetTransferTag);
  writeSequenceNumbers(header, pdu);
}
