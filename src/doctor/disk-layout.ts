// What the first blocks of a disk say about booting it: the boot signature and boot code a BIOS
// needs (LBA 0), the partition table (MBR, or GPT behind a protective MBR: UEFI 2.x section 5),
// and the EFI system partition a UEFI firmware looks for. Pure: bytes in, facts out.

/** MBR layout (the partition table of the IBM PC; UEFI 2.x section 5.2.1). */
const MBR = { bootCodeEnd: 440, partitionTable: 446, entryLength: 16, entries: 4, signature: 510 } as const;
const BOOT_SIGNATURE = 0xaa55;
/** MBR partition types that matter here. */
const MBR_TYPE = { empty: 0x00, efiSystem: 0xef, gptProtective: 0xee } as const;
/** GPT: "EFI PART" at the start of LBA 1 (UEFI 2.x section 5.3.2). */
const GPT_SIGNATURE = 'EFI PART';
export const ESP_TYPE_GUID = 'c12a7328-f81f-11d2-ba4b-00a0c93ec93b';
/** More entries than any sane table; bounds what a corrupt header can make us read. */
const MAX_GPT_ENTRIES = 256;

export interface Partition {
  /** 1-based, as tools number them. */
  readonly number: number;
  /** MBR type byte as "0x83", or the GPT type GUID. */
  readonly type: string;
  readonly startLba: number;
  readonly sizeBlocks: number;
  readonly esp: boolean;
  /** MBR active flag (GPT has none). */
  readonly active: boolean;
}

export interface GptLocation {
  readonly entriesLba: number;
  readonly entryCount: number;
  readonly entrySize: number;
}

export interface MbrFacts {
  readonly bootSignature: boolean;
  /** Any non-zero byte in the boot code area: zeros mean a BIOS boot runs nothing. */
  readonly bootCode: boolean;
  readonly partitions: readonly Partition[];
  /** A type 0xEE entry: the real table is the GPT at LBA 1. */
  readonly protectiveGpt: boolean;
}

export interface DiskLayout extends Omit<MbrFacts, 'partitions'> {
  readonly scheme: 'gpt' | 'mbr' | 'none';
  readonly partitions: readonly Partition[];
  /** The EFI system partition's number, or null. */
  readonly esp: number | null;
}

export function parseMbr(lba0: Buffer): MbrFacts {
  if (lba0.length < 512) return { bootSignature: false, bootCode: false, partitions: [], protectiveGpt: false };
  const bootSignature = lba0.readUInt16LE(MBR.signature) === BOOT_SIGNATURE;
  const bootCode = lba0.subarray(0, MBR.bootCodeEnd).some((b) => b !== 0);
  const partitions: Partition[] = [];
  let protectiveGpt = false;
  for (let i = 0; i < MBR.entries && bootSignature; i++) {
    const at = MBR.partitionTable + i * MBR.entryLength;
    const type = lba0[at + 4] ?? 0;
    if (type === MBR_TYPE.empty) continue;
    if (type === MBR_TYPE.gptProtective) protectiveGpt = true;
    partitions.push({
      number: i + 1,
      type: `0x${type.toString(16).padStart(2, '0')}`,
      startLba: lba0.readUInt32LE(at + 8),
      sizeBlocks: lba0.readUInt32LE(at + 12),
      esp: type === MBR_TYPE.efiSystem,
      active: lba0[at] === 0x80,
    });
  }
  return { bootSignature, bootCode, partitions, protectiveGpt };
}

/** The GPT header at LBA 1, or null when there is none. */
export function parseGptHeader(lba1: Buffer): GptLocation | null {
  if (lba1.length < 92 || lba1.toString('latin1', 0, 8) !== GPT_SIGNATURE) return null;
  const entriesLba = Number(lba1.readBigUInt64LE(72));
  const entryCount = lba1.readUInt32LE(80);
  const entrySize = lba1.readUInt32LE(84);
  if (entrySize < 128 || entrySize % 8 !== 0 || entrySize > 4096 || !Number.isSafeInteger(entriesLba) || entriesLba < 2) return null;
  return { entriesLba, entryCount: Math.min(entryCount, MAX_GPT_ENTRIES), entrySize };
}

/** How many blocks hold the partition entries. */
export function gptEntryBlocks(location: GptLocation, blockSize: number): number {
  return Math.ceil((location.entryCount * location.entrySize) / blockSize);
}

/** A GUID as text: the first three fields are little-endian on disk (UEFI 2.x Appendix A). */
export function formatGuid(bytes: Buffer): string {
  const h = (b: Buffer) => b.toString('hex');
  const le = (start: number, end: number) => h(Buffer.from(bytes.subarray(start, end)).reverse());
  return `${le(0, 4)}-${le(4, 6)}-${le(6, 8)}-${h(bytes.subarray(8, 10))}-${h(bytes.subarray(10, 16))}`;
}

export function parseGptEntries(entries: Buffer, location: GptLocation): Partition[] {
  const partitions: Partition[] = [];
  for (let i = 0; i < location.entryCount; i++) {
    const at = i * location.entrySize;
    if (at + 56 > entries.length) break;
    const typeBytes = entries.subarray(at, at + 16);
    if (typeBytes.every((b) => b === 0)) continue;
    const type = formatGuid(typeBytes);
    const first = Number(entries.readBigUInt64LE(at + 32));
    const last = Number(entries.readBigUInt64LE(at + 40));
    partitions.push({ number: i + 1, type, startLba: first, sizeBlocks: Math.max(0, last - first + 1), esp: type === ESP_TYPE_GUID, active: false });
  }
  return partitions;
}

/** Puts the facts together; `gpt` is the parsed GPT when LBA 0 pointed at one and it was read. */
export function describeLayout(mbr: MbrFacts, gpt: readonly Partition[] | null): DiskLayout {
  const partitions = gpt ?? mbr.partitions;
  const scheme = gpt !== null ? 'gpt' : mbr.partitions.length > 0 ? 'mbr' : 'none';
  return { bootSignature: mbr.bootSignature, bootCode: mbr.bootCode, protectiveGpt: mbr.protectiveGpt, scheme, partitions, esp: partitions.find((p) => p.esp)?.number ?? null };
}

/** One line for the checklist, e.g. "MBR, 2 partitions (1: 0xef ESP, 2: 0x83 active)". */
export function summarizeLayout(layout: DiskLayout): string {
  if (!layout.bootSignature) return 'no boot signature (55 AA) in LBA 0: blank or not a boot disk';
  if (layout.scheme === 'none') return 'boot signature, no partition table';
  const parts = layout.partitions.map((p) => `${p.number}: ${layout.scheme === 'gpt' ? (p.esp ? 'ESP' : p.type) : `${p.type}${p.esp ? ' ESP' : ''}`}${p.active ? ' active' : ''}`);
  return `${layout.scheme.toUpperCase()}, ${layout.partitions.length} partition${layout.partitions.length === 1 ? '' : 's'} (${parts.join(', ')})`;
}
