// Sense data (SPC-4 4.5). Every SCSI failure in this folder is a ScsiError value carrying its
// sense key, ASC and ASCQ; encodeFixedSense is the one place those become bytes.

export const SenseKey = {
  NoSense: 0x0,
  RecoveredError: 0x1,
  NotReady: 0x2,
  MediumError: 0x3,
  HardwareError: 0x4,
  IllegalRequest: 0x5,
  UnitAttention: 0x6,
  DataProtect: 0x7,
  AbortedCommand: 0xb,
  Miscompare: 0xe,
} as const;
export type SenseKeyCode = (typeof SenseKey)[keyof typeof SenseKey];

export interface AdditionalSense {
  readonly asc: number;
  readonly ascq: number;
}

/** ASC/ASCQ pairs used by this device server (SPC-4 Annex D, Table D.1). */
export const Asc = {
  NoAdditionalSenseInformation: { asc: 0x00, ascq: 0x00 },
  WriteError: { asc: 0x0c, ascq: 0x00 },
  InvalidFieldInInformationUnit: { asc: 0x0e, ascq: 0x03 },
  UnrecoveredReadError: { asc: 0x11, ascq: 0x00 },
  ParameterListLengthError: { asc: 0x1a, ascq: 0x00 },
  MiscompareDuringVerifyOperation: { asc: 0x1d, ascq: 0x00 },
  InvalidCommandOperationCode: { asc: 0x20, ascq: 0x00 },
  LbaOutOfRange: { asc: 0x21, ascq: 0x00 },
  InvalidFieldInCdb: { asc: 0x24, ascq: 0x00 },
  LogicalUnitNotSupported: { asc: 0x25, ascq: 0x00 },
  InvalidFieldInParameterList: { asc: 0x26, ascq: 0x00 },
  InvalidReleaseOfPersistentReservation: { asc: 0x26, ascq: 0x04 },
  WriteProtected: { asc: 0x27, ascq: 0x00 },
  SpaceAllocationFailedWriteProtect: { asc: 0x27, ascq: 0x07 },
  SavingParametersNotSupported: { asc: 0x39, ascq: 0x00 },
  InternalTargetFailure: { asc: 0x44, ascq: 0x00 },
} as const satisfies Record<string, AdditionalSense>;

/** Sense-key specific field pointer (SPC-4 4.5.2.4.2): which CDB or parameter byte was bad. */
export interface FieldPointer {
  /** C/D bit: true when the bad field is in the CDB, false when in the parameter list. */
  readonly inCdb: boolean;
  readonly byte: number;
  /** Bit within the byte (the field's most significant bit); absent when the whole byte is bad. */
  readonly bit?: number;
}

export interface ScsiErrorDetail {
  /** INFORMATION field (SPC-4 4.5.3): e.g. the offset of the first miscompared byte. */
  readonly info?: number;
  readonly fieldPointer?: FieldPointer;
}

export class ScsiError extends Error {
  readonly asc: number;
  readonly ascq: number;
  readonly info: number | undefined;
  readonly fieldPointer: FieldPointer | undefined;

  constructor(
    readonly senseKey: SenseKeyCode,
    additional: AdditionalSense,
    detail: ScsiErrorDetail = {},
  ) {
    super(`sense key 0x${senseKey.toString(16)} asc/ascq 0x${hex2(additional.asc)}/0x${hex2(additional.ascq)}`);
    this.name = 'ScsiError';
    this.asc = additional.asc;
    this.ascq = additional.ascq;
    this.info = detail.info;
    this.fieldPointer = detail.fieldPointer;
  }
}

function hex2(n: number): string {
  return n.toString(16).padStart(2, '0');
}

function pointer(inCdb: boolean, byte: number, bit: number | undefined): FieldPointer {
  return bit === undefined ? { inCdb, byte } : { inCdb, byte, bit };
}

/** ILLEGAL REQUEST, INVALID FIELD IN CDB with the offending byte (and bit). */
export function invalidFieldInCdb(byte: number, bit?: number): ScsiError {
  return new ScsiError(SenseKey.IllegalRequest, Asc.InvalidFieldInCdb, { fieldPointer: pointer(true, byte, bit) });
}

/** ILLEGAL REQUEST, INVALID FIELD IN PARAMETER LIST with the offending parameter byte. */
export function invalidFieldInParameterList(byte: number, bit?: number): ScsiError {
  return new ScsiError(SenseKey.IllegalRequest, Asc.InvalidFieldInParameterList, { fieldPointer: pointer(false, byte, bit) });
}

export function illegalRequest(additional: AdditionalSense): ScsiError {
  return new ScsiError(SenseKey.IllegalRequest, additional);
}

/** MISCOMPARE, MISCOMPARE DURING VERIFY OPERATION; SBC-3 5.2/5.33: INFORMATION = byte offset. */
export function miscompare(offsetBytes: number): ScsiError {
  return new ScsiError(SenseKey.Miscompare, Asc.MiscompareDuringVerifyOperation, { info: offsetBytes });
}

export const FIXED_SENSE_LENGTH = 18;

/**
 * Fixed format sense data (SPC-4 4.5.3, response code 70h: current error). The INFORMATION
 * field is 4 bytes; a larger value cannot be expressed in this format, so VALID stays 0 then.
 */
export function encodeFixedSense(err: ScsiError): Buffer {
  const b = Buffer.alloc(FIXED_SENSE_LENGTH);
  const info = err.info;
  const infoValid = info !== undefined && Number.isInteger(info) && info >= 0 && info <= 0xffffffff;
  b[0] = (infoValid ? 0x80 : 0x00) | 0x70; // VALID, RESPONSE CODE
  b[2] = err.senseKey & 0x0f;
  if (infoValid) b.writeUInt32BE(info, 3);
  b[7] = FIXED_SENSE_LENGTH - 8; // ADDITIONAL SENSE LENGTH
  b[12] = err.asc;
  b[13] = err.ascq;
  const fp = err.fieldPointer;
  if (fp !== undefined) {
    // SKSV | C/D | BPV | BIT POINTER, then FIELD POINTER (SPC-4 Table 53).
    b[15] = 0x80 | (fp.inCdb ? 0x40 : 0) | (fp.bit === undefined ? 0 : 0x08 | (fp.bit & 0x07));
    b.writeUInt16BE(fp.byte & 0xffff, 16);
  }
  return b;
}

/**
 * Sense data saying "nothing to report" for REQUEST SENSE (SPC-4 6.39): fixed format, or
 * descriptor format (72h, SPC-4 4.5.2) with no descriptors when the DESC bit asks for it.
 */
export function encodeNoSense(descriptorFormat: boolean): Buffer {
  if (descriptorFormat) {
    const b = Buffer.alloc(8);
    b[0] = 0x72;
    return b;
  }
  return encodeFixedSense(new ScsiError(SenseKey.NoSense, Asc.NoAdditionalSenseInformation));
}
