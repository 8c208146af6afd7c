// Task Management Function Request (RFC 7143 section 11.5) and Response (section 11.6).
import {
  FINAL_BIT,
  readFlags,
  readImmediate,
  readInitiatorTaskTag,
  readLun,
  readU32,
  writeBhsStart,
  writeInitiatorTaskTag,
  writeSequenceNumbers,
  writeU8,
} from './bhs.ts';
import { Opcode } from './types.ts';
import type { TaskManagementRequest, TaskManagementResponse } from './types.ts';

/** Byte 1 of the request: 1|Function (7 bits) (RFC 7143 section 11.5.1). */
export const TASK_FUNCTION_MASK = 0x7f;

export const TaskManagementOffset = {
  /** Request: Referenced Task Tag (section 11.5.2). */
  ReferencedTaskTag: 20,
  CmdSn: 24,
  ExpStatSn: 28,
  /** Section 11.5.3. */
  RefCmdSn: 32,
  /** Section 11.5.4. */
  ExpDataSn: 36,
  /** Response byte 2 (section 11.6.1). */
  Response: 2,
} as const;

export function decodeTaskManagementRequest(header: Buffer): TaskManagementRequest {
  return {
    kind: 'task-management-request',
    immediate: readImmediate(header),
    function: readFlags(header) & TASK_FUNCTION_MASK,
    lun: readLun(header),
    initiatorTaskTag: readInitiatorTaskTag(header),
    referencedTaskTag: readU32(header, TaskManagementOffset.ReferencedTaskTag),
    cmdSn: readU32(header, TaskManagementOffset.CmdSn),
    expStatSn: readU32(header, TaskManagementOffset.ExpStatSn),
    refCmdSn: readU32(header, TaskManagementOffset.RefCmdSn),
    expDataSn: readU32(header, TaskManagementOffset.ExpDataSn),
  };
}

export function encodeTaskManagementResponse(pdu: TaskManagementResponse, header: Buffer): void {
  writeBhsStart(header, Opcode.TaskManagementResponse, false, FINAL_BIT, 0, 0);
  writeU8(header, TaskManagementOffset.Response, pdu.response);
  writeInitiatorTaskTag(header, pdu.initiatorTaskTag);
  writeSequenceNumbers(header, pdu);
}
