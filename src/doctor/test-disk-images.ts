// Test support only: imported by *.test.ts files and interop tests.
// Small disk images with a known layout, for the doctor's tests (unit and interop): an MBR with
// boot code and partitions of the given types, or a GPT with an EFI system partition. Only the
// structures the doctor reads are written (LBA 0, the GPT header and its entries).
import { ESP_TYPE_GUID } from './disk-layout.ts';

const SECTOR = 512;

function guidBytes(guid: string): Buffer {
  const hex = guid.replace(/-/g, '');
  const le = (start: number, end: number) => Buffer.from(hex.slice(start, end), 'hex').reverse();
  return Buffer.concat([le(0, 8), le(8, 12), le(12, 16), Buffer.from(hex.slice(16), 'hex')]);
}

/** LBA 0 with boot code (a jmp $), a 55 AA signature and MBR entries of these types. */
export function mbrSector(types: readonly number[], options: { readonly bootCode?: boolean } = {}): Buffer {
  const lba0 = Buffer.alloc(SECTOR);
  if (options.bootCode !== false) lba0.set([0xeb, 0xfe], 0);
  types.forEach((type, i) => {
    const at = 446 + 16 * i;
    lba0[at] = i === 0 ? 0x80 : 0x00;
    lba0[at + 4] = type;
    lba0.writeUInt32LE(2048 * (i + 1), at + 8);
    lba0.writeUInt32LE(2048, at + 12);
  });
  lba0.writeUInt16LE(0xaa55, 510);
  return lba0;
}

/** A protective MBR, a GPT header at LBA 1 and its entries at LBA 2: an ESP and a Linux partition. */
export function gptSectors(): Buffer {
  const disk = Buffer.alloc(SECTOR * 34);
  mbrSector([0xee], { bootCode: false }).copy(disk, 0);
  const header = disk.subarray(SECTOR, 2 * SECTOR);
  header.write('EFI PART', 0, 'latin1');
  header.writeUInt32LE(0x00010000, 8);
  header.writeUInt32LE(92, 12);
  header.writeBigUInt64LE(2n, 72);
  header.writeUInt32LE(128, 80);
  header.writeUInt32LE(128, 84);
  const entries = disk.subarray(2 * SECTOR);
  guidBytes(ESP_TYPE_GUID).copy(entries, 0);
  entries.writeBigUInt64LE(2048n, 32);
  entries.writeBigUInt64LE(4095n, 40);
  guidBytes('0fc63daf-8483-4772-8e79-3d69d8477de4').copy(entries, 128);
  entries.writeBigUInt64LE(4096n, 128 + 32);
  entries.writeBigUInt64LE(8191n, 128 + 40);
  return disk;
}
