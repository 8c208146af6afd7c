// The on-disk format of a copy-on-write overlay (docs/OVERLAY.md documents it byte by byte).
// Pure codec: no file access here. Decoders throw only DecodeError.
//
//   [ header: 4096 bytes ][ allocation map: 8 bytes per cluster, padded to 4096 ][ data slots ]
//
// The header is written once, when the file is created (or recreated by resetOverlay), and
// never rewritten in place, so no crash can tear it. Only map entries and data slots change.
import { crc32c } from '../../lib/crc32c.ts';
import { DecodeError } from '../../lib/errors.ts';
import { OverlayErrorCode } from './overlay-errors.ts';

export const OVERLAY_MAGIC = Buffer.from('DLSOVRLY', 'ascii');
export const OVERLAY_VERSION = 1;
export const HEADER_BYTES = 4096;
/** Map pages are written whole; 4096 bytes is the page size and a common sector size. */
export const MAP_PAGE_BYTES = 4096;
export const MAP_ENTRY_BYTES = 8;
export const ENTRIES_PER_PAGE = MAP_PAGE_BYTES / MAP_ENTRY_BYTES;
export const MIN_CLUSTER_BYTES = 4096;
export const MAX_CLUSTER_BYTES = 1024 * 1024;
/** Slots are u32 on disk; the in-memory map (cluster-map.ts) needs two values for base/zero. */
export const MAX_SLOTS = 0xffff_fffd;

/** How the base image was fingerprinted (header byte 104); only one kind so far. */
export const FingerprintKind = { SampledSha256: 1 } as const;

/** Header field offsets (little-endian throughout). */
const Offset = {
  magic: 0,
  version: 8,
  headerBytes: 12,
  clusterBytes: 16,
  blockBytes: 20,
  virtualSizeBytes: 24,
  clusterCount: 32,
  mapOffset: 40,
  mapBytes: 48,
  dataOffset: 56,
  generation: 64,
  overlayId: 72,
  createdAtMs: 88,
  baseSizeBytes: 96,
  fingerprintKind: 104,
  sampleBytes: 108,
  sampleCount: 112,
  baseFingerprint: 128,
  imageDigest: 160,
  reservedFrom: 192,
  headerCrc: 4092,
} as const;

export interface OverlayHeader {
  readonly clusterBytes: number;
  /** Logical block size the device presents (512). */
  readonly blockBytes: number;
  readonly virtualSizeBytes: number;
  readonly clusterCount: number;
  readonly mapOffset: number;
  readonly mapBytes: number;
  readonly dataOffset: number;
  /** 1 when created; resetOverlay writes generation + 1. */
  readonly generation: number;
  /** 16 random bytes, kept across resets: the device's identity. */
  readonly overlayId: Buffer;
  readonly createdAtMs: number;
  readonly baseSizeBytes: number;
  readonly fingerprintKind: number;
  readonly sampleBytes: number;
  readonly sampleCount: number;
  /** sha256 of the sampled base content (base-fingerprint.ts). */
  readonly baseFingerprint: Buffer;
  /** A digest of the whole image supplied by the caller (the image store); all zeros: none. */
  readonly imageDigest: Buffer;
}

/** Where the map and the data start, derived from the sizes alone (so the header can be checked). */
export interface OverlayLayout {
  readonly clusterCount: number;
  readonly mapOffset: number;
  readonly mapBytes: number;
  readonly dataOffset: number;
}

export function isValidClusterBytes(clusterBytes: number): boolean {
  return Number.isInteger(clusterBytes) && clusterBytes >= MIN_CLUSTER_BYTES && clusterBytes <= MAX_CLUSTER_BYTES && (clusterBytes & (clusterBytes - 1)) === 0;
}

const roundUp = (value: number, multiple: number): number => Math.ceil(value / multiple) * multiple;

export function computeLayout(virtualSizeBytes: number, clusterBytes: number): OverlayLayout {
  const clusterCount = Math.ceil(virtualSizeBytes / clusterBytes);
  const mapOffset = HEADER_BYTES;
  const mapBytes = roundUp(clusterCount * MAP_ENTRY_BYTES, MAP_PAGE_BYTES);
  // Slots start cluster-aligned so every data cluster is page-aligned in the file.
  const dataOffset = roundUp(mapOffset + mapBytes, clusterBytes);
  return { clusterCount, mapOffset, mapBytes, dataOffset };
}

export function encodeHeader(h: OverlayHeader): Buffer {
  const b = Buffer.alloc(HEADER_BYTES);
  OVERLAY_MAGIC.copy(b, Offset.magic);
  b.writeUInt32LE(OVERLAY_VERSION, Offset.version);
  b.writeUInt32LE(HEADER_BYTES, Offset.headerBytes);
  b.writeUInt32LE(h.clusterBytes, Offset.clusterBytes);
  b.writeUInt32LE(h.blockBytes, Offset.blockBytes);
  b.writeBigUInt64LE(BigInt(h.virtualSizeBytes), Offset.virtualSizeBytes);
  b.writeBigUInt64LE(BigInt(h.clusterCount), Offset.clusterCount);
  b.writeBigUInt64LE(BigInt(h.mapOffset), Offset.mapOffset);
  b.writeBigUInt64LE(BigInt(h.mapBytes), Offset.mapBytes);
  b.writeBigUInt64LE(BigInt(h.dataOffset), Offset.dataOffset);
  b.writeBigUInt64LE(BigInt(h.generation), Offset.generation);
  copyExact(h.overlayId, b, Offset.overlayId, 16, 'overlayId');
  b.writeBigUInt64LE(BigInt(h.createdAtMs), Offset.createdAtMs);
  b.writeBigUInt64LE(BigInt(h.baseSizeBytes), Offset.baseSizeBytes);
  b.writeUInt8(h.fingerprintKind, Offset.fingerprintKind);
  b.writeUInt32LE(h.sampleBytes, Offset.sampleBytes);
  b.writeUInt32LE(h.sampleCount, Offset.sampleCount);
  copyExact(h.baseFingerprint, b, Offset.baseFingerprint, 32, 'baseFingerprint');
  copyExact(h.imageDigest, b, Offset.imageDigest, 32, 'imageDigest');
  b.writeUInt32LE(crc32c(b.subarray(0, Offset.headerCrc)), Offset.headerCrc);
  return b;
}

function copyExact(source: Buffer, target: Buffer, offset: number, length: number, name: string): void {
  if (source.length !== length) throw new RangeError(`${name} must be ${length} bytes, got ${source.length}`);
  source.copy(target, offset);
}

function readSafeU64(b: Buffer, offset: number, name: string): number {
  const value = b.readBigUInt64LE(offset);
  if (value > BigInt(Number.MAX_SAFE_INTEGER)) throw new DecodeError(OverlayErrorCode.BadHeaderField, `${name} ${value} is too large`);
  return Number(value);
}

/** Decodes and validates a header: every field is checked against the layout it implies. */
export function decodeHeader(b: Buffer): OverlayHeader {
  if (b.length < HEADER_BYTES) throw new DecodeError(OverlayErrorCode.HeaderTruncated, `${b.length} bytes, the overlay header has ${HEADER_BYTES}`);
  if (!b.subarray(Offset.magic, Offset.magic + 8).equals(OVERLAY_MAGIC)) throw new DecodeError(OverlayErrorCode.BadMagic, 'not a diskless overlay (bad magic)');
  const version = b.readUInt32LE(Offset.version);
  if (version !== OVERLAY_VERSION) throw new DecodeError(OverlayErrorCode.BadVersion, `overlay format version ${version}, this build reads ${OVERLAY_VERSION}`);
  const storedCrc = b.readUInt32LE(Offset.headerCrc);
  const actualCrc = crc32c(b.subarray(0, Offset.headerCrc));
  if (storedCrc !== actualCrc) throw new DecodeError(OverlayErrorCode.BadHeaderCrc, `header CRC32C ${hex32(storedCrc)}, computed ${hex32(actualCrc)}`);
  const headerBytes = b.readUInt32LE(Offset.headerBytes);
  if (headerBytes !== HEADER_BYTES) throw new DecodeError(OverlayErrorCode.BadHeaderField, `header size ${headerBytes}, expected ${HEADER_BYTES}`);
  const clusterBytes = b.readUInt32LE(Offset.clusterBytes);
  if (!isValidClusterBytes(clusterBytes)) throw new DecodeError(OverlayErrorCode.BadClusterSize, `cluster size ${clusterBytes} is not a power of two from ${MIN_CLUSTER_BYTES} to ${MAX_CLUSTER_BYTES}`);
  const blockBytes = b.readUInt32LE(Offset.blockBytes);
  if (blockBytes < 512 || blockBytes > clusterBytes || (blockBytes & (blockBytes - 1)) !== 0) {
    throw new DecodeError(OverlayErrorCode.BadHeaderField, `block size ${blockBytes} must be a power of two from 512 to the cluster size`);
  }
  const virtualSizeBytes = readSafeU64(b, Offset.virtualSizeBytes, 'virtual size');
  if (virtualSizeBytes === 0 || virtualSizeBytes % blockBytes !== 0) throw new DecodeError(OverlayErrorCode.BadHeaderField, `virtual size ${virtualSizeBytes} is not a positive multiple of ${blockBytes}`);
  const layout = computeLayout(virtualSizeBytes, clusterBytes);
  if (layout.clusterCount > MAX_SLOTS) throw new DecodeError(OverlayErrorCode.BadHeaderField, `${layout.clusterCount} clusters is more than the map can address`);
  const stored = {
    clusterCount: readSafeU64(b, Offset.clusterCount, 'cluster count'),
    mapOffset: readSafeU64(b, Offset.mapOffset, 'map offset'),
    mapBytes: readSafeU64(b, Offset.mapBytes, 'map size'),
    dataOffset: readSafeU64(b, Offset.dataOffset, 'data offset'),
  };
  for (const key of ['clusterCount', 'mapOffset', 'mapBytes', 'dataOffset'] as const) {
    if (stored[key] !== layout[key]) throw new DecodeError(OverlayErrorCode.BadLayout, `${key} ${stored[key]} disagrees with the sizes (expected ${layout[key]})`);
  }
  const generation = readSafeU64(b, Offset.generation, 'generation');
  if (generation === 0) throw new DecodeError(OverlayErrorCode.BadHeaderField, 'generation 0 (generations start at 1)');
  const fingerprintKind = b.readUInt8(Offset.fingerprintKind);
  if (fingerprintKind !== FingerprintKind.SampledSha256) throw new DecodeError(OverlayErrorCode.BadHeaderField, `unknown base fingerprint kind ${fingerprintKind}`);
  const sampleBytes = b.readUInt32LE(Offset.sampleBytes);
  const sampleCount = b.readUInt32LE(Offset.sampleCount);
  if (sampleBytes === 0 || sampleCount < 2) throw new DecodeError(OverlayErrorCode.BadHeaderField, `fingerprint sampling ${sampleCount} x ${sampleBytes} bytes`);
  if (!isZero(b.subarray(105, 108)) || !isZero(b.subarray(116, 128)) || !isZero(b.subarray(Offset.reservedFrom, Offset.headerCrc))) {
    throw new DecodeError(OverlayErrorCode.BadHeaderField, 'reserved header bytes are not zero');
  }
  return {
    clusterBytes,
    blockBytes,
    virtualSizeBytes,
    ...layout,
    generation,
    overlayId: Buffer.from(b.subarray(Offset.overlayId, Offset.overlayId + 16)),
    createdAtMs: readSafeU64(b, Offset.createdAtMs, 'creation time'),
    baseSizeBytes: readSafeU64(b, Offset.baseSizeBytes, 'base size'),
    fingerprintKind,
    sampleBytes,
    sampleCount,
    baseFingerprint: Buffer.from(b.subarray(Offset.baseFingerprint, Offset.baseFingerprint + 32)),
    imageDigest: Buffer.from(b.subarray(Offset.imageDigest, Offset.imageDigest + 32)),
  };
}

export function isZero(b: Uint8Array): boolean {
  for (let i = 0; i < b.length; i++) if (b[i] !== 0) return false;
  return true;
}

const hex32 = (n: number): string => `0x${n.toString(16).padStart(8, '0')}`;

// ---- map entries ----------------------------------------------------------------------------

/** Map entry kinds (entry byte 4). An all-zero entry is Base, so a sparse (unwritten) map is valid. */
export const EntryKind = { Base: 0, Zero: 1, Data: 2 } as const;
export type EntryKind = (typeof EntryKind)[keyof typeof EntryKind];

export type MapEntry = { readonly kind: 'base' } | { readonly kind: 'zero' } | { readonly kind: 'data'; readonly slot: number };

/**
 * The 16-bit check of an entry: ties it to its cluster index, so a bit flip or an entry written
 * to the wrong place is caught (murmur3's fmix32 finaliser, three rounds). Spelled out in
 * docs/OVERLAY.md so another implementation can compute it.
 */
export function entryCheck(clusterIndex: number, slot: number, kind: number): number {
  const lo = clusterIndex >>> 0;
  const hi = Math.floor(clusterIndex / 0x1_0000_0000) >>> 0;
  let h = fmix32((kind * 0x9e3779b1) ^ lo);
  h = fmix32(h ^ hi);
  h = fmix32(h ^ slot);
  return h & 0xffff;
}

function fmix32(x: number): number {
  let h = x >>> 0;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b) >>> 0;
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35) >>> 0;
  h ^= h >>> 16;
  return h >>> 0;
}

/** Writes the 8 bytes of `entry` for cluster `clusterIndex` at `offset`. */
export function encodeEntry(target: Buffer, offset: number, clusterIndex: number, entry: MapEntry): void {
  if (entry.kind === 'base') {
    target.fill(0, offset, offset + MAP_ENTRY_BYTES);
    return;
  }
  const kind = entry.kind === 'zero' ? EntryKind.Zero : EntryKind.Data;
  const slot = entry.kind === 'data' ? entry.slot : 0;
  target.writeUInt32LE(slot, offset);
  target[offset + 4] = kind;
  target[offset + 5] = 0;
  target.writeUInt16LE(entryCheck(clusterIndex, slot, kind), offset + 6);
}

/** Decodes one entry; throws DecodeError for an unknown kind, reserved bits or a bad check. */
export function decodeEntry(source: Buffer, offset: number, clusterIndex: number): MapEntry {
  const slot = source.readUInt32LE(offset);
  const kind = source.readUInt8(offset + 4);
  const reserved = source.readUInt8(offset + 5);
  const check = source.readUInt16LE(offset + 6);
  if (kind === EntryKind.Base) {
    if (slot !== 0 || reserved !== 0 || check !== 0) throw new DecodeError(OverlayErrorCode.BadEntry, `cluster ${clusterIndex}: a base entry must be all zeros`);
    return { kind: 'base' };
  }
  if (kind !== EntryKind.Zero && kind !== EntryKind.Data) throw new DecodeError(OverlayErrorCode.BadEntry, `cluster ${clusterIndex}: unknown entry kind ${kind}`);
  if (reserved !== 0) throw new DecodeError(OverlayErrorCode.BadEntry, `cluster ${clusterIndex}: reserved entry byte is ${reserved}`);
  if (kind === EntryKind.Zero && slot !== 0) throw new DecodeError(OverlayErrorCode.BadEntry, `cluster ${clusterIndex}: a zeroed entry carries slot ${slot}`);
  const expected = entryCheck(clusterIndex, slot, kind);
  if (check !== expected) throw new DecodeError(OverlayErrorCode.BadEntry, `cluster ${clusterIndex}: entry check 0x${check.toString(16)}, expected 0x${expected.toString(16)}`);
  if (kind === EntryKind.Zero) return { kind: 'zero' };
  if (slot > MAX_SLOTS - 1) throw new DecodeError(OverlayErrorCode.BadEntry, `cluster ${clusterIndex}: slot ${slot} is beyond the largest slot`);
  return { kind: 'data', slot };
}
