// iSCSI PDUs (RFC 7143 section 11) as plain readonly values in two discriminated unions:
// what an initiator sends (InitiatorPdu) and what a target sends (TargetPdu). Field names mirror
// the RFC in camelCase so they can be checked against it. 32-bit fields are unsigned numbers;
// the 8-byte LUN field is kept raw as a bigint (its SAM structure is decoded in scsi/lun.ts).
// `data` is the data segment without padding or digest; `ahs` the additional header segments.

export const Opcode = {
  // initiator → target (RFC 7143 section 11.1.1)
  NopOut: 0x00,
  ScsiCommand: 0x01,
  TaskManagementRequest: 0x02,
  LoginRequest: 0x03,
  TextRequest: 0x04,
  DataOut: 0x05,
  LogoutRequest: 0x06,
  SnackRequest: 0x10,
  // target → initiator
  NopIn: 0x20,
  ScsiResponse: 0x21,
  TaskManagementResponse: 0x22,
  LoginResponse: 0x23,
  TextResponse: 0x24,
  DataIn: 0x25,
  LogoutResponse: 0x26,
  ReadyToTransfer: 0x31,
  AsyncMessage: 0x32,
  Reject: 0x3f,
} as const;

export const BHS_LENGTH = 48;
/** The reserved tag value (RFC 7143 section 11.2.1: 0xffffffff means "no tag"). */
export const RESERVED_TAG = 0xffffffff;

// --- initiator → target ---------------------------------------------------------------

export interface NopOut {
  readonly kind: 'nop-out';
  readonly immediate: boolean;
  readonly lun: bigint;
  readonly initiatorTaskTag: number;
  readonly targetTransferTag: number;
  readonly cmdSn: number;
  readonly expStatSn: number;
  readonly data: Buffer;
}

/** SCSI task attributes (RFC 7143 section 11.3.1.2). */
export const TaskAttribute = { Untagged: 0, Simple: 1, Ordered: 2, HeadOfQueue: 3, Aca: 4 } as const;

export interface ScsiCommand {
  readonly kind: 'scsi-command';
  readonly immediate: boolean;
  readonly final: boolean;
  readonly read: boolean;
  readonly write: boolean;
  readonly taskAttribute: number;
  readonly lun: bigint;
  readonly initiatorTaskTag: number;
  readonly expectedDataTransferLength: number;
  readonly cmdSn: number;
  readonly expStatSn: number;
  /** Always 16 bytes: the CDB field of the BHS (an extended CDB AHS adds to it). */
  readonly cdb: Buffer;
  readonly ahs: Buffer;
  /** Immediate data. */
  readonly data: Buffer;
}

/** Task management function codes (RFC 7143 section 11.5.1). */
export const TaskFunction = {
  AbortTask: 1,
  AbortTaskSet: 2,
  ClearAca: 3,
  ClearTaskSet: 4,
  LogicalUnitReset: 5,
  TargetWarmReset: 6,
  TargetColdReset: 7,
  TaskReassign: 8,
} as const;

export interface TaskManagementRequest {
  readonly kind: 'task-management-request';
  readonly immediate: boolean;
  readonly function: number;
  readonly lun: bigint;
  readonly initiatorTaskTag: number;
  readonly referencedTaskTag: number;
  readonly cmdSn: number;
  readonly expStatSn: number;
  readonly refCmdSn: number;
  readonly expDataSn: number;
}

/** Login stages (RFC 7143 section 11.12.3). */
export const Stage = { Security: 0, Operational: 1, FullFeature: 3 } as const;

export interface LoginRequest {
  readonly kind: 'login-request';
  readonly transit: boolean;
  readonly continue: boolean;
  readonly csg: number;
  readonly nsg: number;
  readonly versionMax: number;
  readonly versionMin: number;
  /** 6 bytes: type/A, B, C, D (RFC 7143 section 11.12.5), kept raw. */
  readonly isid: Buffer;
  readonly tsih: number;
  readonly initiatorTaskTag: number;
  readonly cid: number;
  readonly cmdSn: number;
  readonly expStatSn: number;
  readonly data: Buffer;
}

export interface TextRequest {
  readonly kind: 'text-request';
  readonly immediate: boolean;
  readonly final: boolean;
  readonly continue: boolean;
  readonly lun: bigint;
  readonly initiatorTaskTag: number;
  readonly targetTransferTag: number;
  readonly cmdSn: number;
  readonly expStatSn: number;
  readonly data: Buffer;
}

export interface DataOut {
  readonly kind: 'data-out';
  readonly final: boolean;
  readonly lun: bigint;
  readonly initiatorTaskTag: number;
  readonly targetTransferTag: number;
  readonly expStatSn: number;
  readonly dataSn: number;
  readonly bufferOffset: number;
  readonly data: Buffer;
}

/** Logout reason codes (RFC 7143 section 11.14.1). */
export const LogoutReason = { CloseSession: 0, CloseConnection: 1, RemoveConnectionForRecovery: 2 } as const;

export interface LogoutRequest {
  readonly kind: 'logout-request';
  readonly immediate: boolean;
  readonly reasonCode: number;
  readonly initiatorTaskTag: number;
  readonly cid: number;
  readonly cmdSn: number;
  readonly expStatSn: number;
}

export interface SnackRequest {
  readonly kind: 'snack-request';
  readonly type: number;
  readonly lun: bigint;
  readonly initiatorTaskTag: number;
  readonly targetTransferTag: number;
  readonly expStatSn: number;
  readonly begRun: number;
  readonly runLength: number;
}

export type InitiatorPdu =
  | NopOut
  | ScsiCommand
  | TaskManagementRequest
  | LoginRequest
  | TextRequest
  | DataOut
  | LogoutRequest
  | SnackRequest;

// --- target → initiator ---------------------------------------------------------------

/** The three sequence numbers every target PDU but Data-In without status carries. */
interface Sequenced {
  readonly statSn: number;
  readonly expCmdSn: number;
  readonly maxCmdSn: number;
}

export interface NopIn extends Sequenced {
  readonly kind: 'nop-in';
  readonly lun: bigint;
  readonly initiatorTaskTag: number;
  readonly targetTransferTag: number;
  readonly data: Buffer;
}

/** iSCSI service response codes (RFC 7143 section 11.4.3). */
export const ServiceResponse = { CommandCompleted: 0x00, TargetFailure: 0x01 } as const;

export interface ScsiResponse extends Sequenced {
  readonly kind: 'scsi-response';
  readonly bidiReadResidualOverflow: boolean;
  readonly bidiReadResidualUnderflow: boolean;
  readonly residualOverflow: boolean;
  readonly residualUnderflow: boolean;
  readonly response: number;
  readonly status: number;
  readonly initiatorTaskTag: number;
  readonly snackTag: number;
  readonly expDataSn: number;
  readonly bidiReadResidualCount: number;
  readonly residualCount: number;
  /** SenseLength (2 bytes) + sense data, or empty (RFC 7143 section 11.4.7). */
  readonly data: Buffer;
}

/** Task management response codes (RFC 7143 section 11.6.1). */
export const TaskResponse = {
  FunctionComplete: 0,
  TaskDoesNotExist: 1,
  LunDoesNotExist: 2,
  TaskStillAllegiant: 3,
  TaskReassignmentNotSupported: 4,
  FunctionNotSupported: 5,
  AuthorizationFailed: 6,
  FunctionRejected: 255,
} as const;

export interface TaskManagementResponse extends Sequenced {
  readonly kind: 'task-management-response';
  readonly response: number;
  readonly initiatorTaskTag: number;
}

export interface LoginResponse extends Sequenced {
  readonly kind: 'login-response';
  readonly transit: boolean;
  readonly continue: boolean;
  readonly csg: number;
  readonly nsg: number;
  readonly versionMax: number;
  readonly versionActive: number;
  readonly isid: Buffer;
  readonly tsih: number;
  readonly initiatorTaskTag: number;
  readonly statusClass: number;
  readonly statusDetail: number;
  readonly data: Buffer;
}

export interface TextResponse extends Sequenced {
  readonly kind: 'text-response';
  readonly final: boolean;
  readonly continue: boolean;
  readonly lun: bigint;
  readonly initiatorTaskTag: number;
  readonly targetTransferTag: number;
  readonly data: Buffer;
}

export interface DataIn {
  readonly kind: 'data-in';
  readonly final: boolean;
  readonly acknowledge: boolean;
  readonly residualOverflow: boolean;
  readonly residualUnderflow: boolean;
  /** S bit: the SCSI status is folded into this PDU (then statSn and status are meaningful). */
  readonly hasStatus: boolean;
  readonly status: number;
  readonly lun: bigint;
  readonly initiatorTaskTag: number;
  readonly targetTransferTag: number;
  readonly statSn: number;
  readonly expCmdSn: number;
  readonly maxCmdSn: number;
  readonly dataSn: number;
  readonly bufferOffset: number;
  readonly residualCount: number;
  readonly data: Buffer;
}

/** Logout response codes (RFC 7143 section 11.15.1). */
export const LogoutResponseCode = { Closed: 0, CidNotFound: 1, RecoveryNotSupported: 2, CleanupFailed: 3 } as const;

export interface LogoutResponse extends Sequenced {
  readonly kind: 'logout-response';
  readonly response: number;
  readonly initiatorTaskTag: number;
  readonly time2Wait: number;
  readonly time2Retain: number;
}

export interface ReadyToTransfer extends Sequenced {
  readonly kind: 'r2t';
  readonly lun: bigint;
  readonly initiatorTaskTag: number;
  readonly targetTransferTag: number;
  readonly r2tSn: number;
  readonly bufferOffset: number;
  readonly desiredDataTransferLength: number;
}

export interface AsyncMessage extends Sequenced {
  readonly kind: 'async-message';
  readonly lun: bigint;
  readonly asyncEvent: number;
  readonly asyncVCode: number;
  readonly parameter1: number;
  readonly parameter2: number;
  readonly parameter3: number;
  readonly data: Buffer;
}

/** Reject reasons (RFC 7143 section 11.17.1). */
export const RejectReason = {
  DataDigestError: 0x02,
  SnackReject: 0x03,
  ProtocolError: 0x04,
  CommandNotSupported: 0x05,
  ImmediateCommandRejected: 0x06,
  TaskInProgress: 0x07,
  InvalidDataAck: 0x08,
  InvalidPduField: 0x09,
  LongOperationReject: 0x0a,
  WaitingForLogout: 0x0c,
} as const;

export interface Reject extends Sequenced {
  readonly kind: 'reject';
  readonly reason: number;
  readonly dataSn: number;
  /** The complete header of the rejected PDU. */
  readonly data: Buffer;
}

export type TargetPdu =
  | NopIn
  | ScsiResponse
  | TaskManagementResponse
  | LoginResponse
  | TextResponse
  | DataIn
  | LogoutResponse
  | ReadyToTransfer
  | AsyncMessage
  | Reject;
