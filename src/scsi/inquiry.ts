// INQUIRY (SPC-4 6.6): standard data and the vital product data pages, the latter kept as a
// table so that the Supported VPD Pages page is derived from it.
import type { Inquiry } from './command.ts';
import { invalidFieldInCdb } from './sense.ts';
import type { UnitState } from './unit-state.ts';
import { VENDOR } from './unit-state.ts';

/** PERIPHERAL QUALIFIER 000b, PERIPHERAL DEVICE TYPE 00h: a direct access block device. */
export const PERIPHERAL_DISK = 0x00;
/** PERIPHERAL QUALIFIER 011b, device type 1Fh: no logical unit at this LUN (SPC-4 6.6.2). */
export const PERIPHERAL_NO_LUN = 0x7f;

/** Version descriptors (SPC-4 Table 144): SAM-5, SPC-4, SBC-3. */
const VERSION_DESCRIPTORS = [0x00a0, 0x0460, 0x04c0] as const;
const STANDARD_LENGTH = 74; // through the last version descriptor slot (bytes 58-73)

function asciiPadded(text: string, length: number): Buffer {
  return Buffer.from(text.padEnd(length, ' ').slice(0, length), 'ascii');
}

export interface StandardInquiryIdentity {
  readonly product: string;
  readonly revision: string;
}

/** Standard INQUIRY data (SPC-4 6.6.2, Table 142). */
export function encodeStandardInquiry(identity: StandardInquiryIdentity, peripheral: number): Buffer {
  const b = Buffer.alloc(STANDARD_LENGTH);
  b[0] = peripheral;
  b[1] = 0x00; // RMB=0: not removable
  b[2] = 0x06; // VERSION: SPC-4
  b[3] = 0x12; // HISUP | RESPONSE DATA FORMAT 2
  b[4] = STANDARD_LENGTH - 5; // ADDITIONAL LENGTH
  b[7] = 0x02; // CMDQUE: full task management model
  asciiPadded(VENDOR, 8).copy(b, 8);
  asciiPadded(identity.product, 16).copy(b, 16);
  asciiPadded(identity.revision, 4).copy(b, 32);
  VERSION_DESCRIPTORS.forEach((descriptor, i) => b.writeUInt16BE(descriptor, 58 + 2 * i));
  return b;
}

/** VPD page header: qualifier/type, page code, 2-byte PAGE LENGTH (SPC-4 7.8.1). */
function vpdPage(pageCode: number, body: Buffer): Buffer {
  const header = Buffer.alloc(4);
  header[0] = PERIPHERAL_DISK;
  header[1] = pageCode;
  header.writeUInt16BE(body.length, 2);
  return Buffer.concat([header, body]);
}

/** A designation descriptor (SPC-4 7.8.6.1): LU association, no protocol identifier. */
function designator(codeSet: number, designatorType: number, value: Buffer): Buffer {
  return Buffer.concat([Buffer.from([codeSet, designatorType, 0, value.length]), value]);
}

const CodeSet = { Binary: 0x1, Ascii: 0x2 } as const;
const DesignatorType = { T10VendorId: 0x1, Naa: 0x3 } as const;

/** Device Identification (SPC-4 7.8.6): NAA 6 for multipath, T10 vendor id for humans. */
function deviceIdentification(unit: UnitState): Buffer {
  return Buffer.concat([
    designator(CodeSet.Binary, DesignatorType.Naa, unit.identity.naa),
    designator(CodeSet.Ascii, DesignatorType.T10VendorId, Buffer.concat([asciiPadded(VENDOR, 8), Buffer.from(unit.identity.serial, 'ascii')])),
  ]);
}

/** Block Limits (SBC-3 6.5.3), 3Ch bytes after the header. */
function blockLimits(unit: UnitState): Buffer {
  const l = unit.limits;
  const b = Buffer.alloc(0x3c);
  b[0] = 0x01; // WSNZ: WRITE SAME with NUMBER OF LOGICAL BLOCKS 0 is not supported
  b[1] = l.maxCompareAndWriteBlocks;
  b.writeUInt16BE(l.optimalTransferGranularityBlocks, 2);
  b.writeUInt32BE(l.maxTransferBlocks, 4);
  b.writeUInt32BE(l.maxUnmapBlocks, 16);
  b.writeUInt32BE(l.maxUnmapDescriptors, 20);
  b.writeUInt32BE(l.optimalTransferGranularityBlocks, 24); // OPTIMAL UNMAP GRANULARITY
  b.writeUInt32BE(0x80000000, 28); // UGAVALID, UNMAP GRANULARITY ALIGNMENT 0
  b.writeBigUInt64BE(BigInt(l.maxWriteSameBlocks), 32);
  // MAXIMUM ATOMIC TRANSFER LENGTH (SBC-4 6.6.4, bytes 44-47); ATOMIC ALIGNMENT, ATOMIC TRANSFER
  // LENGTH GRANULARITY and the atomic boundary fields stay 0: no restrictions, no boundaries.
  b.writeUInt32BE(l.maxAtomicTransferBlocks, 40);
  return b;
}

/** Block Device Characteristics (SBC-3 6.5.2): MEDIUM ROTATION RATE 1 = non-rotating. */
function blockDeviceCharacteristics(): Buffer {
  const b = Buffer.alloc(0x3c);
  b.writeUInt16BE(0x0001, 0);
  return b;
}

/**
 * Logical Block Provisioning (SBC-3 6.5.4). UNMAP and WRITE SAME with UNMAP always work in
 * the sense SBC-3 cares about (the range reads as zeros afterwards, hence LBPRZ), even where
 * the backing store cannot free space; only then is the provisioning type thin.
 */
function logicalBlockProvisioning(unit: UnitState): Buffer {
  const b = Buffer.alloc(4);
  b[1] = 0x80 | 0x40 | 0x20 | 0x04; // LBPU | LBPWS | LBPWS10 | LBPRZ
  b[2] = unit.device.canDiscard ? 0x02 : 0x00; // PROVISIONING TYPE: thin / not reported
  return b;
}

interface VpdPageSpec {
  readonly pageCode: number;
  readonly build: (unit: UnitState) => Buffer;
}

const VPD_PAGES: readonly VpdPageSpec[] = [
  { pageCode: 0x00, build: () => Buffer.from(VPD_PAGES.map((p) => p.pageCode)) },
  { pageCode: 0x80, build: (unit) => Buffer.from(unit.identity.serial, 'ascii') },
  { pageCode: 0x83, build: deviceIdentification },
  { pageCode: 0xb0, build: blockLimits },
  { pageCode: 0xb1, build: blockDeviceCharacteristics },
  { pageCode: 0xb2, build: logicalBlockProvisioning },
];

/** Full INQUIRY data for `cmd` (the caller truncates to the allocation length). */
export function executeInquiry(cmd: Inquiry, unit: UnitState): Buffer {
  if (!cmd.evpd) return encodeStandardInquiry(unit.identity, PERIPHERAL_DISK);
  const page = VPD_PAGES.find((p) => p.pageCode === cmd.pageCode);
  if (page === undefined) throw invalidFieldInCdb(2);
  return vpdPage(page.pageCode, page.build(unit));
}

/**
 * INQUIRY addressed to a LUN with no logical unit (SPC-4 6.6.2): qualifier 011b, type 1Fh,
 * and only the Supported VPD Pages page (listing itself).
 */
export function inquiryForMissingLun(cmd: Inquiry): Buffer {
  if (!cmd.evpd) return encodeStandardInquiry({ product: 'NO LUN', revision: '0001' }, PERIPHERAL_NO_LUN);
  if (cmd.pageCode !== 0x00) throw invalidFieldInCdb(2);
  return Buffer.from([PERIPHERAL_NO_LUN, 0x00, 0x00, 0x01, 0x00]);
}
