// Decoded CDBs: one member per command (SPC-4 / SBC-3 field names in camelCase). Block
// commands of every CDB size collapse into one kind; `lba` stays a bigint so that 16-byte CDBs
// are exact, and is range-checked against capacity before it becomes a number.

/** The block range every SBC data command names. */
export interface BlockRange {
  readonly lba: bigint;
  /** TRANSFER LENGTH / VERIFICATION LENGTH / NUMBER OF LOGICAL BLOCKS, in blocks. */
  readonly blocks: number;
  /** CDB byte offset of that length field, for INVALID FIELD IN CDB pointers. */
  readonly lengthOffset: number;
}

export interface TestUnitReady {
  readonly kind: 'testUnitReady';
}
export interface RequestSense {
  readonly kind: 'requestSense';
  readonly desc: boolean;
  readonly allocationLength: number;
}
export interface Inquiry {
  readonly kind: 'inquiry';
  readonly evpd: boolean;
  readonly pageCode: number;
  readonly allocationLength: number;
}
export interface ModeSense {
  readonly kind: 'modeSense';
  readonly cdbLength: 6 | 10;
  /** DBD: disable block descriptors. */
  readonly dbd: boolean;
  /** LLBAA: long LBA block descriptor accepted (MODE SENSE(10) only). */
  readonly llbaa: boolean;
  /** PC: 0 current, 1 changeable, 2 default, 3 saved. */
  readonly pageControl: number;
  readonly pageCode: number;
  readonly subpageCode: number;
  readonly allocationLength: number;
}
export interface ModeSelect {
  readonly kind: 'modeSelect';
  readonly cdbLength: 6 | 10;
  /** PF: the parameters follow the SPC page format. */
  readonly pf: boolean;
  readonly parameterListLength: number;
}
export interface StartStopUnit {
  readonly kind: 'startStopUnit';
  readonly immed: boolean;
  readonly powerCondition: number;
  readonly loej: boolean;
  readonly start: boolean;
}
export interface PreventAllowMediumRemoval {
  readonly kind: 'preventAllowMediumRemoval';
  readonly prevent: number;
}
export interface ReadCapacity10 {
  readonly kind: 'readCapacity10';
}
export interface ReadCapacity16 {
  readonly kind: 'readCapacity16';
  readonly allocationLength: number;
}
export interface Read extends BlockRange {
  readonly kind: 'read';
  readonly dpo: boolean;
  readonly fua: boolean;
}
export interface Write extends BlockRange {
  readonly kind: 'write';
  readonly dpo: boolean;
  readonly fua: boolean;
}
export interface WriteAndVerify extends BlockRange {
  readonly kind: 'writeAndVerify';
  readonly bytchk: number;
}
export interface Verify extends BlockRange {
  readonly kind: 'verify';
  /** 00b medium check only, 01b compare with data-out, 11b compare every block with one block. */
  readonly bytchk: 0 | 1 | 3;
}
export interface SynchronizeCache extends BlockRange {
  readonly kind: 'synchronizeCache';
  readonly immed: boolean;
}
export interface WriteSame extends BlockRange {
  readonly kind: 'writeSame';
  readonly unmap: boolean;
  /** NDOB (WRITE SAME(16) only): no data-out, the block is all zeros. */
  readonly ndob: boolean;
}
export interface Unmap {
  readonly kind: 'unmap';
  readonly parameterListLength: number;
}
export interface CompareAndWrite extends BlockRange {
  readonly kind: 'compareAndWrite';
  readonly fua: boolean;
}
export interface ReportLuns {
  readonly kind: 'reportLuns';
  readonly selectReport: number;
  readonly allocationLength: number;
}
export interface ReportSupportedOperationCodes {
  readonly kind: 'reportSupportedOperationCodes';
  /** RCTD: return command timeouts descriptors. */
  readonly rctd: boolean;
  readonly reportingOptions: number;
  readonly requestedOperationCode: number;
  readonly requestedServiceAction: number;
  readonly allocationLength: number;
}

export interface PreFetch extends BlockRange {
  readonly kind: 'preFetch';
  readonly immed: boolean;
}
export interface OrWrite extends BlockRange {
  readonly kind: 'orWrite';
  readonly fua: boolean;
}
export interface WriteAtomic extends BlockRange {
  readonly kind: 'writeAtomic';
  readonly fua: boolean;
}
export interface ReadDefectData {
  readonly kind: 'readDefectData';
  readonly cdbLength: 10 | 12;
  /** REQ_PLIST, REQ_GLIST: which lists the initiator asked for. */
  readonly reqPlist: boolean;
  readonly reqGlist: boolean;
  readonly defectListFormat: number;
  readonly allocationLength: number;
}
export interface PersistentReserveIn {
  readonly kind: 'persistentReserveIn';
  /** SPC-4 6.13.1 Table 167: 0 READ KEYS, 1 READ RESERVATION, 2 REPORT CAPABILITIES, 3 READ FULL STATUS. */
  readonly serviceAction: number;
  readonly allocationLength: number;
}
export interface PersistentReserveOut {
  readonly kind: 'persistentReserveOut';
  /** SPC-4 6.14.2 Table 176. */
  readonly serviceAction: number;
  readonly scope: number;
  readonly type: number;
  readonly parameterListLength: number;
}
/** RESERVE(6)/(10) and RELEASE(6)/(10) (SPC-2 7.21-7.24): whole-unit, per I_T nexus. */
export interface Reserve {
  readonly kind: 'reserve';
}
export interface Release {
  readonly kind: 'release';
}

export type ScsiCommand =
  | TestUnitReady
  | RequestSense
  | Inquiry
  | ModeSense
  | ModeSelect
  | StartStopUnit
  | PreventAllowMediumRemoval
  | ReadCapacity10
  | ReadCapacity16
  | Read
  | Write
  | WriteAndVerify
  | Verify
  | SynchronizeCache
  | WriteSame
  | Unmap
  | CompareAndWrite
  | ReportLuns
  | ReportSupportedOperationCodes
  | PreFetch
  | OrWrite
  | WriteAtomic
  | ReadDefectData
  | PersistentReserveIn
  | PersistentReserveOut
  | Reserve
  | Release;

export type ScsiCommandKind = ScsiCommand['kind'];
