// Decoders for target → initiator PDUs (RFC 7143 section 11), for tests and the project's own
// test initiator. Kept apart from index.ts so the target's code path never imports them.
// Same contract as decodeInitiatorPdu: only DecodeError escapes, buffers are referenced.
import { DecodeError } from '../../lib/errors.ts';
import { AsyncOffset } from './async.ts';
import {
  checkSegments,
  readFlags,
  readInitiatorTaskTag,
  readLun,
  readOpcode,
  readSequenceNumbers,
  readU16,
  readU32,
  readU8,
  SequenceOffset,
} from './bhs.ts';
import { DataInFlag, DataOffset } from './data.ts';
import { ISID_LENGTH, LoginOffset, readLoginFlags } from './login.ts';
import { LogoutOffset } from './logout.ts';
import { NopOffset } from './nop.ts';
import { R2tOffset } from './r2t.ts';
import { RejectOffset } from './reject.ts';
import { ScsiResponseFlag, ScsiResponseOffset } from './scsi-command.ts';
import { TaskManagementOffset } from './task-mgmt.ts';
import { TextFlag, TextOffset } from './text.ts';
import { Opcode } from './types.ts';
import type { TargetPdu } from './types.ts';

/** Decode one PDU received by an initiator; initiator-only opcodes are unknown here. */
export function decodeTargetPdu(header: Buffer, ahs: Buffer, data: Buffer): TargetPdu {
  checkSegments(header, ahs, data);
  const opcode = readOpcode(header);
  const flags = readFlags(header);
  switch (opcode) {
    case Opcode.NopIn:
      return {
        kind: 'nop-in',
        lun: readLun(header),
        initiatorTaskTag: readInitiatorTaskTag(header),
        targetTransferTag: readU32(header, NopOffset.TargetTransferTag),
        ...readSequenceNumbers(header),
        data,
      };
    case Opcode.ScsiResponse:
      return {
        kind: 'scsi-response',
        bidiReadResidualOverflow: (flags & ScsiResponseFlag.BidiReadResidualOverflow) !== 0,
        bidiReadResidualUnderflow: (flags & ScsiResponseFlag.BidiReadResidualUnderflow) !== 0,
        residualOverflow: (flags & ScsiResponseFlag.ResidualOverflow) !== 0,
        residualUnderflow: (flags & ScsiResponseFlag.ResidualUnderflow) !== 0,
        response: readU8(header, ScsiResponseOffset.Response),
        status: readU8(header, ScsiResponseOffset.Status),
        initiatorTaskTag: readInitiatorTaskTag(header),
        snackTag: readU32(header, ScsiResponseOffset.SnackTag),
        ...readSequenceNumbers(header),
        expDataSn: readU32(header, ScsiResponseOffset.ExpDataSn),
        bidiReadResidualCount: readU32(header, ScsiResponseOffset.BidiReadResidualCount),
        residualCount: readU32(header, ScsiResponseOffset.ResidualCount),
        data,
      };
    case Opcode.TaskManagementResponse:
      return {
        kind: 'task-management-response',
        response: readU8(header, TaskManagementOffset.Response),
        initiatorTaskTag: readInitiatorTaskTag(header),
        ...readSequenceNumbers(header),
      };
    case Opcode.LoginResponse:
      return {
        kind: 'login-response',
        ...readLoginFlags(header),
        versionMax: readU8(header, LoginOffset.VersionMax),
        versionActive: readU8(header, LoginOffset.VersionMin),
        isid: header.subarray(LoginOffset.Isid, LoginOffset.Isid + ISID_LENGTH),
        tsih: readU16(header, LoginOffset.Tsih),
        initiatorTaskTag: readInitiatorTaskTag(header),
        ...readSequenceNumbers(header),
        statusClass: readU8(header, LoginOffset.StatusClass),
        statusDetail: readU8(header, LoginOffset.StatusDetail),
        data,
      };
    case Opcode.TextResponse:
      return {
        kind: 'text-response',
        final: (flags & TextFlag.Final) !== 0,
        continue: (flags & TextFlag.Continue) !== 0,
        lun: readLun(header),
        initiatorTaskTag: readInitiatorTaskTag(header),
        targetTransferTag: readU32(header, TextOffset.TargetTransferTag),
        ...readSequenceNumbers(header),
        data,
      };
    case Opcode.DataIn: {
      // Status and StatSN are reserved unless the S bit is set (RFC 7143 section 11.7.3).
      const hasStatus = (flags & DataInFlag.Status) !== 0;
      return {
        kind: 'data-in',
        final: (flags & DataInFlag.Final) !== 0,
        acknowledge: (flags & DataInFlag.Acknowledge) !== 0,
        residualOverflow: (flags & DataInFlag.ResidualOverflow) !== 0,
        residualUnderflow: (flags & DataInFlag.ResidualUnderflow) !== 0,
        hasStatus,
        status: hasStatus ? readU8(header, DataOffset.Status) : 0,
        lun: readLun(header),
        initiatorTaskTag: readInitiatorTaskTag(header),
        targetTransferTag: readU32(header, DataOffset.TargetTransferTag),
        statSn: hasStatus ? readU32(header, DataOffset.StatSn) : 0,
        expCmdSn: readU32(header, SequenceOffset.ExpCmdSn),
        maxCmdSn: readU32(header, SequenceOffset.MaxCmdSn),
        dataSn: readU32(header, DataOffset.DataSn),
        bufferOffset: readU32(header, DataOffset.BufferOffset),
        residualCount: readU32(header, DataOffset.ResidualCount),
        data,
      };
    }
    case Opcode.LogoutResponse:
      return {
        kind: 'logout-response',
        response: readU8(header, LogoutOffset.Response),
        initiatorTaskTag: readInitiatorTaskTag(header),
        ...readSequenceNumbers(header),
        time2Wait: readU16(header, LogoutOffset.Time2Wait),
        time2Retain: readU16(header, LogoutOffset.Time2Retain),
      };
    case Opcode.ReadyToTransfer:
      return {
        kind: 'r2t',
        lun: readLun(header),
        initiatorTaskTag: readInitiatorTaskTag(header),
        targetTransferTag: readU32(header, R2tOffset.TargetTransferTag),
        ...readSequenceNumbers(header),
        r2tSn: readU32(header, R2tOffset.R2tSn),
        bufferOffset: readU32(header, R2tOffset.BufferOffset),
        desiredDataTransferLength: readU32(header, R2tOffset.DesiredDataTransferLength),
      };
    case Opcode.AsyncMessage:
      return {
        kind: 'async-message',
        lun: readLun(header),
        ...readSequenceNumbers(header),
        asyncEvent: readU8(header, AsyncOffset.AsyncEvent),
        asyncVCode: readU8(header, AsyncOffset.AsyncVCode),
        parameter1: readU16(header, AsyncOffset.Parameter1),
        parameter2: readU16(header, AsyncOffset.Parameter2),
        parameter3: readU16(header, AsyncOffset.Parameter3),
        data,
      };
    case Opcode.Reject:
      return {
        kind: 'reject',
        reason: readU8(header, RejectOffset.Reason),
        ...readSequenceNumbers(header),
        dataSn: readU32(header, RejectOffset.DataSn),
        data,
      };
    default:
      throw new DecodeError('ISCSI_UNKNOWN_OPCODE', `opcode 0x${opcode.toString(16).padStart(2, '0')} is not a target opcode`);
  }
}

