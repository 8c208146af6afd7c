// The Basic Header Segment fields every iSCSI PDU shares (RFC 7143 section 11.2.1), plus the
// small readers and writers the per-family codecs use. The BHS has a fixed 48-byte layout, so
// its length is checked once (checkSegments) and every field is then read at a named offset.
import { DecodeError, DisklessError } from '../../lib/errors.ts';
import { BHS_LENGTH } from './types.ts';

/** Byte offsets of the fields common to every BHS (RFC 7143 section 11.2.1). */
export const BhsOffset = {
  /** .|I|Opcode */
  Opcode: 0,
  /** F + opcode-specific flags */
  Flags: 1,
  /** In 4-byte words (RFC 7143 section 11.2.1.2). */
  TotalAhsLength: 4,
  /** 24-bit big-endian byte count, padding excluded (RFC 7143 section 11.2.1.3). */
  DataSegmentLength: 5,
  /** 8-byte LUN, or opcode-specific (ISID + TSIH for login). */
  Lun: 8,
  InitiatorTaskTag: 16,
} as const;

export const OPCODE_MASK = 0x3f;
/** Byte 0: immediate delivery (RFC 7143 section 11.2.1.1). */
export const IMMEDIATE_BIT = 0x40;
/** Byte 1: final bit (RFC 7143 section 11.2.1.1). */
export const FINAL_BIT = 0x80;
/** DataSegmentLength is a 24-bit field. */
export const MAX_DATA_SEGMENT_LENGTH = 0xffffff;
/** TotalAHSLength is one byte of 4-byte words. */
export const MAX_AHS_LENGTH = 0xff * 4;

export function readOpcode(header: Buffer): number {
  return header.readUInt8(BhsOffset.Opcode) & OPCODE_MASK;
}

export function readImmediate(header: Buffer): boolean {
  return (header.readUInt8(BhsOffset.Opcode) & IMMEDIATE_BIT) !== 0;
}

export function readFlags(header: Buffer): number {
  return header.readUInt8(BhsOffset.Flags);
}

/** TotalAHSLength converted to bytes. */
export function readAhsLength(header: Buffer): number {
  return header.readUInt8(BhsOffset.TotalAhsLength) * 4;
}

export function readDataSegmentLength(header: Buffer): number {
  // Two fixed-size reads: readUIntBE's generic byte-length dispatch is slower on this hot path.
  return (header.readUInt16BE(BhsOffset.DataSegmentLength) << 8) | header.readUInt8(BhsOffset.DataSegmentLength + 2);
}

export function readLun(header: Buffer): bigint {
  // LUN 0 (nearly every PDU) without allocating a BigInt.
  if (header.readUInt32BE(BhsOffset.Lun) === 0 && header.readUInt32BE(BhsOffset.Lun + 4) === 0) return 0n;
  return header.readBigUInt64BE(BhsOffset.Lun);
}

export function readInitiatorTaskTag(header: Buffer): number {
  return header.readUInt32BE(BhsOffset.InitiatorTaskTag);
}

export function readU32(header: Buffer, offset: number): number {
  return header.readUInt32BE(offset);
}

export function readU16(header: Buffer, offset: number): number {
  return header.readUInt16BE(offset);
}

export function readU8(header: Buffer, offset: number): number {
  return header.readUInt8(offset);
}

/**
 * Check that the three segments the framer cut belong together: a 48-byte BHS, an AHS of
 * TotalAHSLength words and a data segment of DataSegmentLength bytes (padding already removed).
 */
export function checkSegments(header: Buffer, ahs: Buffer, data: Buffer): void {
  if (header.length < BHS_LENGTH) {
    throw new DecodeError('ISCSI_BHS_TRUNCATED', `BHS is ${header.length} bytes, expected ${BHS_LENGTH}`);
  }
  if (header.length > BHS_LENGTH) {
    throw new DecodeError('ISCSI_BHS_TOO_LONG', `BHS is ${header.length} bytes, expected ${BHS_LENGTH}`);
  }
  const ahsLength = readAhsLength(header);
  if (ahs.length !== ahsLength) {
    throw new DecodeError('ISCSI_AHS_LENGTH_MISMATCH', `TotalAHSLength says ${ahsLength} bytes, got ${ahs.length}`);
  }
  const dataLength = readDataSegmentLength(header);
  if (data.length !== dataLength) {
    throw new DecodeError('ISCSI_DATA_LENGTH_MISMATCH', `DataSegmentLength says ${dataLength} bytes, got ${data.length}`);
  }
}

const ZERO_BHS = new Uint8Array(BHS_LENGTH);

/**
 * Start a BHS: zero all 48 bytes (reserved fields must be 0, RFC 7143 section 11.2), then write
 * byte 0 (I bit | opcode), byte 1 (flags), TotalAHSLength and DataSegmentLength.
 */
export function writeBhsStart(
  header: Buffer,
  opcode: number,
  immediate: boolean,
  flags: number,
  ahsLength: number,
  dataSegmentLength: number,
): void {
  if (header.length < BHS_LENGTH) {
    throw new DisklessError('ISCSI_HEADER_BUFFER_TOO_SMALL', `header buffer is ${header.length} bytes, need ${BHS_LENGTH}`);
  }
  if (dataSegmentLength > MAX_DATA_SEGMENT_LENGTH) {
    throw new DisklessError('ISCSI_DATA_TOO_LONG', `data segment of ${dataSegmentLength} bytes exceeds the 24-bit DataSegmentLength`);
  }
  if (ahsLength > MAX_AHS_LENGTH || (ahsLength & 3) !== 0) {
    throw new DisklessError('ISCSI_BAD_AHS_LENGTH', `AHS of ${ahsLength} bytes is not a multiple of 4 up to ${MAX_AHS_LENGTH}`);
  }
  // A typed-array copy of 48 zeros: cheaper than Buffer#fill's argument handling per PDU.
  header.set(ZERO_BHS);
  header.writeUInt8((immediate ? IMMEDIATE_BIT : 0) | opcode, BhsOffset.Opcode);
  header.writeUInt8(flags, BhsOffset.Flags);
  header.writeUInt8(ahsLength >>> 2, BhsOffset.TotalAhsLength);
  header.writeUInt8(dataSegmentLength >>> 16, BhsOffset.DataSegmentLength);
  header.writeUInt16BE(dataSegmentLength & 0xffff, BhsOffset.DataSegmentLength + 1);
}

export function writeLun(header: Buffer, lun: bigint): void {
  if (lun === 0n) {
    // LUN 0 (nearly every PDU) without bigint arithmetic.
    header.writeUInt32BE(0, BhsOffset.Lun);
    header.writeUInt32BE(0, BhsOffset.Lun + 4);
    return;
  }
  header.writeBigUInt64BE(BigInt.asUintN(64, lun), BhsOffset.Lun);
}

export function writeInitiatorTaskTag(header: Buffer, tag: number): void {
  header.writeUInt32BE(tag >>> 0, BhsOffset.InitiatorTaskTag);
}

export function writeU32(header: Buffer, offset: number, value: number): void {
  header.writeUInt32BE(value >>> 0, offset);
}

export function writeU16(header: Buffer, offset: number, value: number): void {
  header.writeUInt16BE(value & 0xffff, offset);
}

export function writeU8(header: Buffer, offset: number, value: number): void {
  header.writeUInt8(value & 0xff, offset);
}

/**
 * Every target PDU carries StatSN, ExpCmdSN and MaxCmdSN at the same offsets
 * (RFC 7143 sections 11.4-11.19; in Data-In StatSN is only meaningful with the S bit).
 */
export const SequenceOffset = { StatSn: 24, ExpCmdSn: 28, MaxCmdSn: 32 } as const;

export interface SequenceNumbers {
  readonly statSn: number;
  readonly expCmdSn: number;
  readonly maxCmdSn: number;
}

export function writeSequenceNumbers(header: Buffer, s: SequenceNumbers): void {
  header.writeUInt32BE(s.statSn >>> 0, SequenceOffset.StatSn);
  header.writeUInt32BE(s.expCmdSn >>> 0, SequenceOffset.ExpCmdSn);
  header.writeUInt32BE(s.maxCmdSn >>> 0, SequenceOffset.MaxCmdSn);
}

export function readSequenceNumbers(header: Buffer): SequenceNumbers {
  return {
    statSn: header.readUInt32BE(SequenceOffset.StatSn),
    expCmdSn: header.readUInt32BE(SequenceOffset.ExpCmdSn),
    maxCmdSn: header.readUInt32BE(SequenceOffset.MaxCmdSn),
  };
}
