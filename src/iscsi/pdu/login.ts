// Login Request (RFC 7143 section 11.12) and Login Response (section 11.13).
import { DisklessError } from '../../lib/errors.ts';
import {
  readFlags,
  readInitiatorTaskTag,
  readU16,
  readU32,
  readU8,
  writeBhsStart,
  writeInitiatorTaskTag,
  writeSequenceNumbers,
  writeU16,
  writeU8,
} from './bhs.ts';
import { Opcode } from './types.ts';
import type { LoginRequest, LoginResponse } from './types.ts';

/** Byte 1: T|C|.|.|CSG|NSG (RFC 7143 sections 11.12.1-11.12.3). */
export const LoginFlag = { Transit: 0x80, Continue: 0x40, CsgShift: 2, StageMask: 0x03 } as const;

export const LoginOffset = {
  VersionMax: 2,
  /** Request: VersionMin; response: VersionActive. */
  VersionMin: 3,
  /** 6 bytes (section 11.12.5). */
  Isid: 8,
  Tsih: 14,
  /** Request only, 2 bytes (section 11.12.6). */
  Cid: 20,
  /** Request: CmdSN; response: StatSN. */
  CmdSn: 24,
  /** Request: ExpStatSN; response: ExpCmdSN. */
  ExpStatSn: 28,
  /** Response (section 11.13.5). */
  StatusClass: 36,
  StatusDetail: 37,
} as const;
export const ISID_LENGTH = 6;

export interface LoginStageFlags {
  readonly transit: boolean;
  readonly continue: boolean;
  readonly csg: number;
  readonly nsg: number;
}

export function readLoginFlags(header: Buffer): LoginStageFlags {
  const flags = readFlags(header);
  return {
    transit: (flags & LoginFlag.Transit) !== 0,
    continue: (flags & LoginFlag.Continue) !== 0,
    csg: (flags >>> LoginFlag.CsgShift) & LoginFlag.StageMask,
    nsg: flags & LoginFlag.StageMask,
  };
}

export function loginFlagsByte(f: LoginStageFlags): number {
  return (
    (f.transit ? LoginFlag.Transit : 0) |
    (f.continue ? LoginFlag.Continue : 0) |
    ((f.csg & LoginFlag.StageMask) << LoginFlag.CsgShift) |
    (f.nsg & LoginFlag.StageMask)
  );
}

export function writeIsid(header: Buffer, isid: Buffer): void {
  if (isid.length !== ISID_LENGTH) {
    throw new DisklessError('ISCSI_BAD_ISID', `ISID is ${isid.length} bytes, expected ${ISID_LENGTH}`);
  }
  isid.copy(header, LoginOffset.Isid);
}

/**
 * CSG/NSG value 2 and unsupported versions are reported as decoded; the login state machine
 * answers them with a Login Response status (RFC 7143 section 11.13.5), not a decode failure.
 * The I bit is always 1 in a Login Request (section 11.12), so it is not surfaced.
 */
export function decodeLoginRequest(header: Buffer, data: Buffer): LoginRequest {
  return {
    kind: 'login-request',
    ...readLoginFlags(header),
    versionMax: readU8(header, LoginOffset.VersionMax),
    versionMin: readU8(header, LoginOffset.VersionMin),
    isid: header.subarray(LoginOffset.Isid, LoginOffset.Isid + ISID_LENGTH),
    tsih: readU16(header, LoginOffset.Tsih),
    initiatorTaskTag: readInitiatorTaskTag(header),
    cid: readU16(header, LoginOffset.Cid),
    cmdSn: readU32(header, LoginOffset.CmdSn),
    expStatSn: readU32(header, LoginOffset.ExpStatSn),
    data,
  };
}

export function encodeLoginResponse(pdu: LoginResponse, header: Buffer): void {
  writeBhsStart(header, Opcode.LoginResponse, false, loginFlagsByte(pdu), 0, pdu.data.length);
  writeU8(header, LoginOffset.VersionMax, pdu.versionMax);
  writeU8(header, LoginOffset.VersionMin, pdu.versionActive);
  writeIsid(header, pdu.isid);
  writeU16(header, LoginOffset.Tsih, pdu.tsih);
  writeInitiatorTaskTag(header, pdu.initiatorTaskTag);
  writeSequenceNumbers(header, pdu);
  writeU8(header, LoginOffset.StatusClass, pdu.statusClass);
  writeU8(header, LoginOffset.StatusDetail, pdu.statusDetail);
}
