// What a machine's first read of LBA 0 shows, for the live warnings: a blank disk (all zeros:
// nothing installed yet, so this boot can only be an install), a GPT disk (a protective MBR, or
// "EFI PART" in LBA 1 when the read covered it), an MBR disk with or without an EFI system
// partition, or something else. Pure; the MBR parsing is disk-layout.ts's.
import { parseMbr } from './disk-layout.ts';

export type FirstBlockKind = 'blank' | 'gpt' | 'mbr-with-esp' | 'mbr' | 'other';

const SECTOR = 512;

export function classifyFirstBlock(block: Buffer): FirstBlockKind {
  const lba0 = block.subarray(0, SECTOR);
  if (lba0.length < SECTOR) return 'other';
  if (lba0.every((b) => b === 0)) return 'blank';
  const mbr = parseMbr(lba0);
  // A 512-byte-sector disk read from LBA 0 onwards also holds LBA 1, where the GPT header is.
  const gptHeader = block.length >= 2 * SECTOR && block.toString('latin1', SECTOR, SECTOR + 8) === 'EFI PART';
  if (mbr.protectiveGpt || gptHeader) return 'gpt';
  if (!mbr.bootSignature) return 'other';
  return mbr.partitions.some((p) => p.esp) ? 'mbr-with-esp' : 'mbr';
}
