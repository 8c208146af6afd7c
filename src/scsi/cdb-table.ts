// The command table: one row per supported operation code (and service action). Each row
// holds the CDB USAGE DATA of SPC-4 6.35.3 (which bits this device server looks at) and the
// decoder. cdb.ts rejects any CDB with a bit set outside the usage map, so that unsupported
// options (RDPROTECT, ANCHOR, NACA, saved pages, ...) fail with INVALID FIELD IN CDB and a
// field pointer, and REPORT SUPPORTED OPERATION CODES reports exactly the rules we enforce.
import type { BlockRange, ScsiCommand } from './command.ts';
import { MaintenanceIn, Opcode, PrinAction, ProutAction, ServiceActionIn16 } from './opcode.ts';
import { SPC2_RESERVATIONS_ENABLED } from './reserve-release.ts';
import { invalidFieldInCdb } from './sense.ts';

export interface CommandSpec {
  readonly opcode: number;
  /** Service action (byte 1 bits 4-0), or null for an opcode without service actions. */
  readonly serviceAction: number | null;
  readonly name: string;
  /** Usage map, one byte per CDB byte: its length is the CDB length. Byte 0 is the opcode. */
  readonly usage: readonly number[];
  /** Called only after the length and usage map checks; may throw ScsiError for value rules. */
  readonly decode: (cdb: Buffer) => ScsiCommand;
}

const FF4 = [0xff, 0xff, 0xff, 0xff] as const;
const FF8 = [...FF4, ...FF4] as const;
/** Control byte (SAM-5 5.2): NACA and the obsolete LINK/FLAG bits are unsupported. */
const CONTROL = 0x00;
/** Group number bits (SBC-3 4.21): accepted and ignored. */
const GROUP = 0x1f;

const flag = (cdb: Buffer, byte: number, mask: number): boolean => (cdb.readUInt8(byte) & mask) !== 0;

function range6(cdb: Buffer): BlockRange {
  const lba = ((cdb.readUInt8(1) & 0x1f) << 16) | cdb.readUInt16BE(2);
  // SBC-3 5.15/5.48: a TRANSFER LENGTH of 0 in the 6-byte CDBs means 256 blocks.
  return { lba: BigInt(lba), blocks: cdb.readUInt8(4) || 256, lengthOffset: 4 };
}
const range10 = (cdb: Buffer): BlockRange => ({ lba: BigInt(cdb.readUInt32BE(2)), blocks: cdb.readUInt16BE(7), lengthOffset: 7 });
const range12 = (cdb: Buffer): BlockRange => ({ lba: BigInt(cdb.readUInt32BE(2)), blocks: cdb.readUInt32BE(6), lengthOffset: 6 });
const range16 = (cdb: Buffer): BlockRange => ({ lba: cdb.readBigUInt64BE(2), blocks: cdb.readUInt32BE(10), lengthOffset: 10 });

/** SBC-3 5.16/5.26: the obsolete PMI bit clear requires the LOGICAL BLOCK ADDRESS to be zero. */
function checkPmi(cdb: Buffer, lbaOffset: number, lbaBytes: 4 | 8, pmiByte: number): void {
  const lbaZero = lbaBytes === 4 ? cdb.readUInt32BE(lbaOffset) === 0 : cdb.readBigUInt64BE(lbaOffset) === 0n;
  if (!flag(cdb, pmiByte, 0x01) && !lbaZero) throw invalidFieldInCdb(lbaOffset);
}

/** SBC-3 5.20 Table 52: POWER CONDITION values that exist; the rest are reserved. */
const POWER_CONDITIONS: ReadonlySet<number> = new Set([0x0, 0x1, 0x2, 0x3, 0x7, 0xa, 0xb]);

type RangeDecoder = (cdb: Buffer) => BlockRange;

/** READ/WRITE rows. The 6-byte forms have no DPO/FUA: byte 1 holds LBA bits there. */
function readWriteRows(kind: 'read' | 'write', rows: readonly [number, string, readonly number[], RangeDecoder][]): CommandSpec[] {
  return rows.map(([opcode, name, usage, range]) => {
    const hasFlags = range !== range6;
    return {
      opcode,
      serviceAction: null,
      name,
      usage,
      // Fields listed one by one (no spread): one object shape for every READ and WRITE.
      decode: (cdb) => {
        const r = range(cdb);
        return { kind, lba: r.lba, blocks: r.blocks, lengthOffset: r.lengthOffset, dpo: hasFlags && flag(cdb, 1, 0x10), fua: hasFlags && flag(cdb, 1, 0x08) };
      },
    };
  });
}

function verifyDecoder(range: RangeDecoder): (cdb: Buffer) => ScsiCommand {
  return (cdb) => {
    const bytchk = (cdb.readUInt8(1) >> 1) & 0x03;
    // SBC-3 5.33 / SBC-4 5.39: BYTCHK 10b is reserved.
    if (bytchk === 2) throw invalidFieldInCdb(1, 2);
    return { kind: 'verify', ...range(cdb), bytchk: bytchk === 0 ? 0 : bytchk === 1 ? 1 : 3 };
  };
}

function writeAndVerifyDecoder(range: RangeDecoder): (cdb: Buffer) => ScsiCommand {
  return (cdb) => ({ kind: 'writeAndVerify', ...range(cdb), bytchk: (cdb.readUInt8(1) >> 1) & 0x01 });
}

function synchronizeCacheDecoder(range: RangeDecoder): (cdb: Buffer) => ScsiCommand {
  return (cdb) => ({ kind: 'synchronizeCache', ...range(cdb), immed: flag(cdb, 1, 0x02) });
}

function preFetchDecoder(range: RangeDecoder): (cdb: Buffer) => ScsiCommand {
  return (cdb) => ({ kind: 'preFetch', ...range(cdb), immed: flag(cdb, 1, 0x02) });
}

/** WRITE ATOMIC(16) (SBC-4 5.48): TRANSFER LENGTH is 2 bytes at 12; ATOMIC BOUNDARY (10-11) must be 0. */
const rangeAtomic16 = (cdb: Buffer): BlockRange => ({ lba: cdb.readBigUInt64BE(2), blocks: cdb.readUInt16BE(12), lengthOffset: 12 });

const PRIN_ACTIONS: readonly [number, string][] = [
  [PrinAction.ReadKeys, 'READ KEYS'],
  [PrinAction.ReadReservation, 'READ RESERVATION'],
  [PrinAction.ReportCapabilities, 'REPORT CAPABILITIES'],
  [PrinAction.ReadFullStatus, 'READ FULL STATUS'],
];
const PROUT_ACTIONS: readonly [number, string][] = [
  [ProutAction.Register, 'REGISTER'],
  [ProutAction.Reserve, 'RESERVE'],
  [ProutAction.Release, 'RELEASE'],
  [ProutAction.Clear, 'CLEAR'],
  [ProutAction.Preempt, 'PREEMPT'],
  [ProutAction.PreemptAndAbort, 'PREEMPT AND ABORT'],
  [ProutAction.RegisterAndIgnoreExistingKey, 'REGISTER AND IGNORE EXISTING KEY'],
];

/** PERSISTENT RESERVE IN/OUT (SPC-4 6.13, 6.14): one row per service action. */
function persistentReserveRows(): CommandSpec[] {
  const prin = PRIN_ACTIONS.map(([serviceAction, name]): CommandSpec => ({
    opcode: Opcode.PersistentReserveIn,
    serviceAction,
    name: `PERSISTENT RESERVE IN (${name})`,
    usage: [Opcode.PersistentReserveIn, 0x1f, 0, 0, 0, 0, 0, 0xff, 0xff, CONTROL],
    decode: (cdb) => ({ kind: 'persistentReserveIn', serviceAction, allocationLength: cdb.readUInt16BE(7) }),
  }));
  const prout = PROUT_ACTIONS.map(([serviceAction, name]): CommandSpec => ({
    opcode: Opcode.PersistentReserveOut,
    serviceAction,
    name: `PERSISTENT RESERVE OUT (${name})`,
    usage: [Opcode.PersistentReserveOut, 0x1f, 0xff, 0, 0, ...FF4, CONTROL],
    decode: (cdb) => ({
      kind: 'persistentReserveOut',
      serviceAction,
      scope: cdb.readUInt8(2) >> 4,
      type: cdb.readUInt8(2) & 0x0f,
      parameterListLength: cdb.readUInt32BE(5),
    }),
  }));
  return [...prin, ...prout];
}

/**
 * RESERVE/RELEASE(6) and (10) (SPC-2 7.21-7.24): only whole-unit reservations; the third-party
 * and extent fields are outside the usage map.
 */
export function reserveReleaseRows(): CommandSpec[] {
  const rows: [number, string, 'reserve' | 'release', number][] = [
    [Opcode.Reserve6, 'RESERVE(6)', 'reserve', 6],
    [Opcode.Release6, 'RELEASE(6)', 'release', 6],
    [Opcode.Reserve10, 'RESERVE(10)', 'reserve', 10],
    [Opcode.Release10, 'RELEASE(10)', 'release', 10],
  ];
  return rows.map(([opcode, name, kind, length]) => ({
    opcode,
    serviceAction: null,
    name,
    usage: [opcode, ...new Array<number>(length - 2).fill(0), CONTROL],
    decode: () => ({ kind }),
  }));
}

function readDefectDataDecoder(cdbLength: 10 | 12): (cdb: Buffer) => ScsiCommand {
  const formatByte = cdbLength === 10 ? 2 : 1;
  return (cdb) => ({
    kind: 'readDefectData',
    cdbLength,
    reqPlist: flag(cdb, formatByte, 0x10),
    reqGlist: flag(cdb, formatByte, 0x08),
    defectListFormat: cdb.readUInt8(formatByte) & 0x07,
    allocationLength: cdbLength === 10 ? cdb.readUInt16BE(7) : cdb.readUInt32BE(6),
  });
}

const RW10 = [0x1a, ...FF4, GROUP, 0xff, 0xff, CONTROL]; // RDPROTECT/WRPROTECT unsupported; DPO, FUA, FUA_NV
const RW12 = [0x1a, ...FF4, ...FF4, GROUP, CONTROL];
const RW16 = [0x1a, ...FF8, ...FF4, GROUP, CONTROL];

export const COMMANDS: readonly CommandSpec[] = [
  { opcode: Opcode.TestUnitReady, serviceAction: null, name: 'TEST UNIT READY', usage: [0x00, 0, 0, 0, 0, CONTROL], decode: () => ({ kind: 'testUnitReady' }) },
  {
    opcode: Opcode.RequestSense,
    serviceAction: null,
    name: 'REQUEST SENSE',
    usage: [0x03, 0x01, 0, 0, 0xff, CONTROL],
    decode: (cdb) => ({ kind: 'requestSense', desc: flag(cdb, 1, 0x01), allocationLength: cdb.readUInt8(4) }),
  },
  ...readWriteRows('read', [[Opcode.Read6, 'READ(6)', [Opcode.Read6, 0x1f, 0xff, 0xff, 0xff, CONTROL], range6]]),
  ...readWriteRows('write', [[Opcode.Write6, 'WRITE(6)', [Opcode.Write6, 0x1f, 0xff, 0xff, 0xff, CONTROL], range6]]),
  {
    opcode: Opcode.Inquiry,
    serviceAction: null,
    name: 'INQUIRY',
    usage: [Opcode.Inquiry, 0x01, 0xff, 0xff, 0xff, CONTROL], // CMDDT (obsolete) is rejected
    decode: (cdb) => {
      const evpd = flag(cdb, 1, 0x01);
      const pageCode = cdb.readUInt8(2);
      // SPC-4 6.6.1: a PAGE CODE with EVPD clear is an error.
      if (!evpd && pageCode !== 0) throw invalidFieldInCdb(2);
      return { kind: 'inquiry', evpd, pageCode, allocationLength: cdb.readUInt16BE(3) };
    },
  },
  {
    opcode: Opcode.ModeSelect6,
    serviceAction: null,
    name: 'MODE SELECT(6)',
    // SP is not in the map: SPC-4 6.11 says INVALID FIELD IN CDB when saved pages are not implemented.
    usage: [Opcode.ModeSelect6, 0x10, 0, 0, 0xff, CONTROL],
    decode: (cdb) => ({ kind: 'modeSelect', cdbLength: 6, pf: flag(cdb, 1, 0x10), parameterListLength: cdb.readUInt8(4) }),
  },
  {
    opcode: Opcode.ModeSense6,
    serviceAction: null,
    name: 'MODE SENSE(6)',
    usage: [Opcode.ModeSense6, 0x08, 0xff, 0xff, 0xff, CONTROL],
    decode: (cdb) => ({
      kind: 'modeSense',
      cdbLength: 6,
      dbd: flag(cdb, 1, 0x08),
      llbaa: false,
      pageControl: cdb.readUInt8(2) >> 6,
      pageCode: cdb.readUInt8(2) & 0x3f,
      subpageCode: cdb.readUInt8(3),
      allocationLength: cdb.readUInt8(4),
    }),
  },
  {
    opcode: Opcode.StartStopUnit,
    serviceAction: null,
    name: 'START STOP UNIT',
    usage: [Opcode.StartStopUnit, 0x01, 0, 0x0f, 0xf7, CONTROL],
    decode: (cdb) => {
      const powerCondition = cdb.readUInt8(4) >> 4;
      if (!POWER_CONDITIONS.has(powerCondition)) throw invalidFieldInCdb(4, 7);
      return { kind: 'startStopUnit', immed: flag(cdb, 1, 0x01), powerCondition, loej: flag(cdb, 4, 0x02), start: flag(cdb, 4, 0x01) };
    },
  },
  {
    opcode: Opcode.PreventAllowMediumRemoval,
    serviceAction: null,
    name: 'PREVENT ALLOW MEDIUM REMOVAL',
    usage: [Opcode.PreventAllowMediumRemoval, 0, 0, 0, 0x03, CONTROL],
    decode: (cdb) => ({ kind: 'preventAllowMediumRemoval', prevent: cdb.readUInt8(4) & 0x03 }),
  },
  {
    opcode: Opcode.ReadCapacity10,
    serviceAction: null,
    name: 'READ CAPACITY(10)',
    usage: [Opcode.ReadCapacity10, 0, ...FF4, 0, 0, 0x01, CONTROL],
    decode: (cdb) => {
      checkPmi(cdb, 2, 4, 8);
      return { kind: 'readCapacity10' };
    },
  },
  ...readWriteRows('read', [
    [Opcode.Read10, 'READ(10)', [Opcode.Read10, ...RW10], range10],
    [Opcode.Read12, 'READ(12)', [Opcode.Read12, ...RW12], range12],
    [Opcode.Read16, 'READ(16)', [Opcode.Read16, ...RW16], range16],
  ]),
  ...readWriteRows('write', [
    [Opcode.Write10, 'WRITE(10)', [Opcode.Write10, ...RW10], range10],
    [Opcode.Write12, 'WRITE(12)', [Opcode.Write12, ...RW12], range12],
    [Opcode.Write16, 'WRITE(16)', [Opcode.Write16, ...RW16], range16],
  ]),
  // WRITE AND VERIFY: DPO and BYTCHK 0/1; VERIFY: DPO and BYTCHK (2 bits, SBC-4 layout).
  { opcode: Opcode.WriteAndVerify10, serviceAction: null, name: 'WRITE AND VERIFY(10)', usage: [Opcode.WriteAndVerify10, 0x12, ...FF4, GROUP, 0xff, 0xff, CONTROL], decode: writeAndVerifyDecoder(range10) },
  { opcode: Opcode.WriteAndVerify12, serviceAction: null, name: 'WRITE AND VERIFY(12)', usage: [Opcode.WriteAndVerify12, 0x12, ...FF4, ...FF4, GROUP, CONTROL], decode: writeAndVerifyDecoder(range12) },
  { opcode: Opcode.WriteAndVerify16, serviceAction: null, name: 'WRITE AND VERIFY(16)', usage: [Opcode.WriteAndVerify16, 0x12, ...FF8, ...FF4, GROUP, CONTROL], decode: writeAndVerifyDecoder(range16) },
  { opcode: Opcode.Verify10, serviceAction: null, name: 'VERIFY(10)', usage: [Opcode.Verify10, 0x16, ...FF4, GROUP, 0xff, 0xff, CONTROL], decode: verifyDecoder(range10) },
  { opcode: Opcode.Verify12, serviceAction: null, name: 'VERIFY(12)', usage: [Opcode.Verify12, 0x16, ...FF4, ...FF4, GROUP, CONTROL], decode: verifyDecoder(range12) },
  { opcode: Opcode.Verify16, serviceAction: null, name: 'VERIFY(16)', usage: [Opcode.Verify16, 0x16, ...FF8, ...FF4, GROUP, CONTROL], decode: verifyDecoder(range16) },
  // SYNCHRONIZE CACHE: SYNC_NV (ignored) and IMMED.
  { opcode: Opcode.SynchronizeCache10, serviceAction: null, name: 'SYNCHRONIZE CACHE(10)', usage: [Opcode.SynchronizeCache10, 0x06, ...FF4, GROUP, 0xff, 0xff, CONTROL], decode: synchronizeCacheDecoder(range10) },
  { opcode: Opcode.SynchronizeCache16, serviceAction: null, name: 'SYNCHRONIZE CACHE(16)', usage: [Opcode.SynchronizeCache16, 0x06, ...FF8, ...FF4, GROUP, CONTROL], decode: synchronizeCacheDecoder(range16) },
  // WRITE SAME: UNMAP only. ANCHOR is rejected because ANC_SUP is 0 (SBC-3 5.44), and the
  // obsolete PBDATA/LBDATA because blocks are never varied.
  {
    opcode: Opcode.WriteSame10,
    serviceAction: null,
    name: 'WRITE SAME(10)',
    usage: [Opcode.WriteSame10, 0x08, ...FF4, GROUP, 0xff, 0xff, CONTROL],
    decode: (cdb) => ({ kind: 'writeSame', ...range10(cdb), unmap: flag(cdb, 1, 0x08), ndob: false }),
  },
  {
    opcode: Opcode.WriteSame16,
    serviceAction: null,
    name: 'WRITE SAME(16)',
    usage: [Opcode.WriteSame16, 0x09, ...FF8, ...FF4, GROUP, CONTROL],
    decode: (cdb) => ({ kind: 'writeSame', ...range16(cdb), unmap: flag(cdb, 1, 0x08), ndob: flag(cdb, 1, 0x01) }),
  },
  {
    opcode: Opcode.Unmap,
    serviceAction: null,
    name: 'UNMAP',
    usage: [Opcode.Unmap, 0x00, 0, 0, 0, 0, GROUP, 0xff, 0xff, CONTROL], // ANCHOR: see WRITE SAME
    decode: (cdb) => ({ kind: 'unmap', parameterListLength: cdb.readUInt16BE(7) }),
  },
  {
    opcode: Opcode.ModeSelect10,
    serviceAction: null,
    name: 'MODE SELECT(10)',
    usage: [Opcode.ModeSelect10, 0x10, 0, 0, 0, 0, 0, 0xff, 0xff, CONTROL],
    decode: (cdb) => ({ kind: 'modeSelect', cdbLength: 10, pf: flag(cdb, 1, 0x10), parameterListLength: cdb.readUInt16BE(7) }),
  },
  {
    opcode: Opcode.ModeSense10,
    serviceAction: null,
    name: 'MODE SENSE(10)',
    usage: [Opcode.ModeSense10, 0x18, 0xff, 0xff, 0, 0, 0, 0xff, 0xff, CONTROL],
    decode: (cdb) => ({
      kind: 'modeSense',
      cdbLength: 10,
      dbd: flag(cdb, 1, 0x08),
      llbaa: flag(cdb, 1, 0x10),
      pageControl: cdb.readUInt8(2) >> 6,
      pageCode: cdb.readUInt8(2) & 0x3f,
      subpageCode: cdb.readUInt8(3),
      allocationLength: cdb.readUInt16BE(7),
    }),
  },
  {
    opcode: Opcode.CompareAndWrite,
    serviceAction: null,
    name: 'COMPARE AND WRITE',
    usage: [Opcode.CompareAndWrite, 0x1a, ...FF8, 0, 0, 0, 0xff, GROUP, CONTROL],
    decode: (cdb) => ({ kind: 'compareAndWrite', lba: cdb.readBigUInt64BE(2), blocks: cdb.readUInt8(13), lengthOffset: 13, fua: flag(cdb, 1, 0x08) }),
  },
  // PRE-FETCH: IMMED only.
  { opcode: Opcode.PreFetch10, serviceAction: null, name: 'PRE-FETCH(10)', usage: [Opcode.PreFetch10, 0x02, ...FF4, GROUP, 0xff, 0xff, CONTROL], decode: preFetchDecoder(range10) },
  { opcode: Opcode.PreFetch16, serviceAction: null, name: 'PRE-FETCH(16)', usage: [Opcode.PreFetch16, 0x02, ...FF8, ...FF4, GROUP, CONTROL], decode: preFetchDecoder(range16) },
  // ORWRITE(16): DPO, FUA (and the obsolete FUA_NV, as for WRITE); ORPROTECT unsupported.
  {
    opcode: Opcode.OrWrite16,
    serviceAction: null,
    name: 'ORWRITE(16)',
    usage: [Opcode.OrWrite16, ...RW16],
    decode: (cdb) => ({ kind: 'orWrite', ...range16(cdb), fua: flag(cdb, 1, 0x08) }),
  },
  {
    opcode: Opcode.WriteAtomic16,
    serviceAction: null,
    name: 'WRITE ATOMIC(16)',
    usage: [Opcode.WriteAtomic16, 0x18, ...FF8, 0, 0, 0xff, 0xff, GROUP, CONTROL],
    decode: (cdb) => ({ kind: 'writeAtomic', ...rangeAtomic16(cdb), fua: flag(cdb, 1, 0x08) }),
  },
  {
    opcode: Opcode.ReadDefectData10,
    serviceAction: null,
    name: 'READ DEFECT DATA(10)',
    usage: [Opcode.ReadDefectData10, 0, 0x1f, 0, 0, 0, 0, 0xff, 0xff, CONTROL],
    decode: readDefectDataDecoder(10),
  },
  {
    opcode: Opcode.ReadDefectData12,
    serviceAction: null,
    name: 'READ DEFECT DATA(12)',
    usage: [Opcode.ReadDefectData12, 0x1f, 0, 0, 0, 0, ...FF4, 0, CONTROL], // ADDRESS DESCRIPTOR INDEX: nothing to index
    decode: readDefectDataDecoder(12),
  },
  ...persistentReserveRows(),
  ...(SPC2_RESERVATIONS_ENABLED ? reserveReleaseRows() : []),
  {
    opcode: Opcode.ServiceActionIn16,
    serviceAction: ServiceActionIn16.ReadCapacity16,
    name: 'READ CAPACITY(16)',
    usage: [Opcode.ServiceActionIn16, 0x1f, ...FF8, ...FF4, 0x01, CONTROL],
    decode: (cdb) => {
      checkPmi(cdb, 2, 8, 14);
      return { kind: 'readCapacity16', allocationLength: cdb.readUInt32BE(10) };
    },
  },
  {
    opcode: Opcode.ReportLuns,
    serviceAction: null,
    name: 'REPORT LUNS',
    usage: [Opcode.ReportLuns, 0, 0xff, 0, 0, 0, ...FF4, 0, CONTROL],
    decode: (cdb) => {
      const selectReport = cdb.readUInt8(2);
      // SPC-4 6.33 Table 165: 00h, 01h and 02h are defined; we serve no well-known LUNs.
      if (selectReport > 0x02) throw invalidFieldInCdb(2);
      return { kind: 'reportLuns', selectReport, allocationLength: cdb.readUInt32BE(6) };
    },
  },
  {
    opcode: Opcode.MaintenanceIn,
    serviceAction: MaintenanceIn.ReportSupportedOperationCodes,
    name: 'REPORT SUPPORTED OPERATION CODES',
    usage: [Opcode.MaintenanceIn, 0x1f, 0x87, 0xff, 0xff, 0xff, ...FF4, 0, CONTROL],
    decode: (cdb) => {
      const reportingOptions = cdb.readUInt8(2) & 0x07;
      // SPC-4 6.35 Table 178: 000b-011b are defined.
      if (reportingOptions > 0x03) throw invalidFieldInCdb(2, 2);
      return {
        kind: 'reportSupportedOperationCodes',
        rctd: flag(cdb, 2, 0x80),
        reportingOptions,
        requestedOperationCode: cdb.readUInt8(3),
        requestedServiceAction: cdb.readUInt16BE(4),
        allocationLength: cdb.readUInt32BE(6),
      };
    },
  },
];
