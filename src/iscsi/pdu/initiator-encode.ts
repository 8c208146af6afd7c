// Encoders for initiator → target PDUs (RFC 7143 section 11), for tests and the project's own
// test initiator. Kept apart from index.ts so the target's code path never imports them.
import { EMPTY, padTo4 } from '../../lib/bytes.ts';
import { assertNever, DisklessError } from '../../lib/errors.ts';
import { FINAL_BIT, writeBhsStart, writeInitiatorTaskTag, writeLun, writeU16, writeU32 } from './bhs.ts';
import { DataOffset } from './data.ts';
import { LoginOffset, loginFlagsByte, writeIsid } from './login.ts';
import { LOGOUT_REASON_MASK, LogoutOffset } from './logout.ts';
import { NopOffset } from './nop.ts';
import { CDB_LENGTH, ScsiCommandFlag, ScsiCommandOffset } from './scsi-command.ts';
import { SNACK_TYPE_MASK, SnackOffset } from './snack.ts';
import { TASK_FUNCTION_MASK, TaskManagementOffset } from './task-mgmt.ts';
import { TextFlag, TextOffset } from './text.ts';
import { BHS_LENGTH, Opcode } from './types.ts';
import type { InitiatorPdu } from './types.ts';

/** The AHS an initiator PDU carries (only a SCSI Command has one in this model). */
export function initiatorPduAhs(pdu: InitiatorPdu): Buffer {
  return pdu.kind === 'scsi-command' ? pdu.ahs : EMPTY;
}

/** The data segment an initiator PDU carries (EMPTY for the kinds that have none). */
export function initiatorPduData(pdu: InitiatorPdu): Buffer {
  switch (pdu.kind) {
    case 'nop-out':
    case 'scsi-command':
    case 'login-request':
    case 'text-request':
    case 'data-out':
      return pdu.data;
    case 'task-management-request':
    case 'logout-request':
    case 'snack-request':
      return EMPTY;
    default:
      return assertNever(pdu);
  }
}

/** Write the 48-byte BHS of an initiator PDU; reserved bytes are zeroed. */
export function encodeInitiatorHeader(pdu: InitiatorPdu, header: Buffer): void {
  const ahsLength = initiatorPduAhs(pdu).length;
  const dataLength = initiatorPduData(pdu).length;
  switch (pdu.kind) {
    case 'nop-out':
      writeBhsStart(header, Opcode.NopOut, pdu.immediate, FINAL_BIT, ahsLength, dataLength);
      writeLun(header, pdu.lun);
      writeInitiatorTaskTag(header, pdu.initiatorTaskTag);
      writeU32(header, NopOffset.TargetTransferTag, pdu.targetTransferTag);
      writeU32(header, NopOffset.CmdSn, pdu.cmdSn);
      writeU32(header, NopOffset.ExpStatSn, pdu.expStatSn);
      return;
    case 'scsi-command': {
      if (pdu.cdb.length > CDB_LENGTH) {
        throw new DisklessError('ISCSI_CDB_TOO_LONG', `CDB of ${pdu.cdb.length} bytes needs an extended CDB AHS`);
      }
      const flags =
        (pdu.final ? ScsiCommandFlag.Final : 0) |
        (pdu.read ? ScsiCommandFlag.Read : 0) |
        (pdu.write ? ScsiCommandFlag.Write : 0) |
        (pdu.taskAttribute & ScsiCommandFlag.AttributeMask);
      writeBhsStart(header, Opcode.ScsiCommand, pdu.immediate, flags, ahsLength, dataLength);
      writeLun(header, pdu.lun);
      writeInitiatorTaskTag(header, pdu.initiatorTaskTag);
      writeU32(header, ScsiCommandOffset.ExpectedDataTransferLength, pdu.expectedDataTransferLength);
      writeU32(header, ScsiCommandOffset.CmdSn, pdu.cmdSn);
      writeU32(header, ScsiCommandOffset.ExpStatSn, pdu.expStatSn);
      pdu.cdb.copy(header, ScsiCommandOffset.Cdb);
      return;
    }
    case 'task-management-request':
      writeBhsStart(header, Opcode.TaskManagementRequest, pdu.immediate, FINAL_BIT | (pdu.function & TASK_FUNCTION_MASK), ahsLength, dataLength);
      writeLun(header, pdu.lun);
      writeInitiatorTaskTag(header, pdu.initiatorTaskTag);
      writeU32(header, TaskManagementOffset.ReferencedTaskTag, pdu.referencedTaskTag);
      writeU32(header, TaskManagementOffset.CmdSn, pdu.cmdSn);
      writeU32(header, TaskManagementOffset.ExpStatSn, pdu.expStatSn);
      writeU32(header, TaskManagementOffset.RefCmdSn, pdu.refCmdSn);
      writeU32(header, TaskManagementOffset.ExpDataSn, pdu.expDataSn);
      return;
    case 'login-request':
      // The I bit is always 1 in a Login Request (RFC 7143 section 11.12).
      writeBhsStart(header, Opcode.LoginRequest, true, loginFlagsByte(pdu), ahsLength, dataLength);
      header.writeUInt8(pdu.versionMax & 0xff, LoginOffset.VersionMax);
      header.writeUInt8(pdu.versionMin & 0xff, LoginOffset.VersionMin);
      writeIsid(header, pdu.isid);
      writeU16(header, LoginOffset.Tsih, pdu.tsih);
      writeInitiatorTaskTag(header, pdu.initiatorTaskTag);
      writeU16(header, LoginOffset.Cid, pdu.cid);
      writeU32(header, LoginOffset.CmdSn, pdu.cmdSn);
      writeU32(header, LoginOffset.ExpStatSn, pdu.expStatSn);
      return;
    case 'text-request': {
      const flags = (pdu.final ? TextFlag.Final : 0) | (pdu.continue ? TextFlag.Continue : 0);
      writeBhsStart(header, Opcode.TextRequest, pdu.immediate, flags, ahsLength, dataLength);
      writeLun(header, pdu.lun);
      writeInitiatorTaskTag(header, pdu.initiatorTaskTag);
      writeU32(header, TextOffset.TargetTransferTag, pdu.targetTransferTag);
      writeU32(header, TextOffset.CmdSn, pdu.cmdSn);
      writeU32(header, TextOffset.ExpStatSn, pdu.expStatSn);
      return;
    }
    case 'data-out':
      writeBhsStart(header, Opcode.DataOut, false, pdu.final ? FINAL_BIT : 0, ahsLength, dataLength);
      writeLun(header, pdu.lun);
      writeInitiatorTaskTag(header, pdu.initiatorTaskTag);
      writeU32(header, DataOffset.TargetTransferTag, pdu.targetTransferTag);
      writeU32(header, DataOffset.ExpStatSn, pdu.expStatSn);
      writeU32(header, DataOffset.DataSn, pdu.dataSn);
      writeU32(header, DataOffset.BufferOffset, pdu.bufferOffset);
      return;
    case 'logout-request':
      writeBhsStart(header, Opcode.LogoutRequest, pdu.immediate, FINAL_BIT | (pdu.reasonCode & LOGOUT_REASON_MASK), ahsLength, dataLength);
      writeInitiatorTaskTag(header, pdu.initiatorTaskTag);
      writeU16(header, LogoutOffset.Cid, pdu.cid);
      writeU32(header, LogoutOffset.CmdSn, pdu.cmdSn);
      writeU32(header, LogoutOffset.ExpStatSn, pdu.expStatSn);
      return;
    case 'snack-request':
      writeBhsStart(header, Opcode.SnackRequest, false, FINAL_BIT | (pdu.type & SNACK_TYPE_MASK), ahsLength, dataLength);
      writeLun(header, pdu.lun);
      writeInitiatorTaskTag(header, pdu.initiatorTaskTag);
      writeU32(header, SnackOffset.TargetTransferTag, pdu.targetTransferTag);
      writeU32(header, SnackOffset.ExpStatSn, pdu.expStatSn);
      writeU32(header, SnackOffset.BegRun, pdu.begRun);
      writeU32(header, SnackOffset.RunLength, pdu.runLength);
      return;
    default:
      return assertNever(pdu);
  }
}

/** BHS + AHS + data segment + zero padding, without digests, in one new buffer. */
export function encodeInitiatorPdu(pdu: InitiatorPdu): Buffer {
  const ahs = initiatorPduAhs(pdu);
  const data = initiatorPduData(pdu);
  const out = Buffer.alloc(BHS_LENGTH + ahs.length + data.length + padTo4(data.length));
  encodeInitiatorHeader(pdu, out.subarray(0, BHS_LENGTH));
  ahs.copy(out, BHS_LENGTH);
  data.copy(out, BHS_LENGTH + ahs.length);
  return out;
}
