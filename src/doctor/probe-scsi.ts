// The few SCSI commands the doctor sends, and how to read their answers: READ CAPACITY(16)
// (SBC-3 5.16), READ(10) (SBC-3 5.8) and sense data (SPC-4 4.5). Pure.
import { Asc, SenseKey } from '../scsi/sense.ts';

/** READ CAPACITY(16) answers with 32 bytes (SBC-3 5.16.2). */
export const READ_CAPACITY_16_LENGTH = 32;

export function readCapacity16Cdb(): Buffer {
  const cdb = Buffer.alloc(16);
  cdb[0] = 0x9e; // SERVICE ACTION IN(16)
  cdb[1] = 0x10; // READ CAPACITY(16)
  cdb.writeUInt32BE(READ_CAPACITY_16_LENGTH, 10);
  return cdb;
}

export function read10Cdb(lba: number, blocks: number): Buffer {
  const cdb = Buffer.alloc(10);
  cdb[0] = 0x28;
  cdb.writeUInt32BE(lba, 2);
  cdb.writeUInt16BE(blocks, 7);
  return cdb;
}

export interface Capacity {
  readonly blocks: number;
  readonly blockSize: number;
}

/** RETURNED LOGICAL BLOCK ADDRESS is the last LBA, so the count is one more. */
export function parseCapacity16(data: Buffer): Capacity | null {
  if (data.length < 12) return null;
  const blocks = Number(data.readBigUInt64BE(0) + 1n);
  const blockSize = data.readUInt32BE(8);
  return Number.isSafeInteger(blocks) && blockSize >= 512 ? { blocks, blockSize } : null;
}

export interface Sense {
  readonly key: number;
  readonly asc: number;
  readonly ascq: number;
}

/** Fixed (0x70/0x71) or descriptor (0x72/0x73) format sense data, or null when there is none. */
export function parseSense(sense: Buffer): Sense | null {
  const format = (sense[0] ?? 0) & 0x7f;
  if ((format === 0x70 || format === 0x71) && sense.length >= 14) return { key: (sense[2] ?? 0) & 0x0f, asc: sense[12] ?? 0, ascq: sense[13] ?? 0 };
  if ((format === 0x72 || format === 0x73) && sense.length >= 4) return { key: (sense[1] ?? 0) & 0x0f, asc: sense[2] ?? 0, ascq: sense[3] ?? 0 };
  return null;
}

/** An iSCSI SCSI Response carries SenseLength (2 bytes) then the sense data (RFC 7143 11.4.7). */
export function senseFromResponseData(data: Buffer): Sense | null {
  if (data.length < 2) return null;
  const length = data.readUInt16BE(0);
  return parseSense(data.subarray(2, 2 + length));
}

export function isLunNotSupported(sense: Sense | null): boolean {
  return sense !== null && sense.key === SenseKey.IllegalRequest && sense.asc === Asc.LogicalUnitNotSupported.asc;
}

export function describeSense(sense: Sense | null): string {
  if (sense === null) return 'no sense data';
  const key = Object.entries(SenseKey).find(([, v]) => v === sense.key)?.[0] ?? `0x${sense.key.toString(16)}`;
  const asc = Object.entries(Asc).find(([, v]) => v.asc === sense.asc && v.ascq === sense.ascq)?.[0];
  return `${key}, ASC/ASCQ 0x${sense.asc.toString(16).padStart(2, '0')}/0x${sense.ascq.toString(16).padStart(2, '0')}${asc !== undefined ? ` (${asc})` : ''}`;
}
