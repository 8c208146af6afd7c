// Creating, opening and resetting overlay files. Not the hot path: promises are fine here.
//
// A new overlay file (create or reset) is written under a temporary name, synced, and then
// moved into place, so a crash leaves either the old file or the complete new one, never a
// header without its map.
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { DecodeError, DisklessError } from '../../lib/errors.ts';
import { DEFAULT_SAMPLE_BYTES, DEFAULT_SAMPLE_COUNT, fingerprintBase } from './base-fingerprint.ts';
import { FileIo } from './file-io.ts';
import { scanOverlay, readHeader } from './map-scan.ts';
import { OverlayDevice } from './overlay-device.ts';
import { OverlayErrorCode } from './overlay-errors.ts';
import { syncDirectory } from './sync-directory.ts';
import { FingerprintKind, type OverlayHeader, computeLayout, encodeHeader, isValidClusterBytes, isZero } from './overlay-format.ts';
import { SlotAllocator } from './slot-allocator.ts';
import { pageCacheWrites, type PageCacheWriteGuard } from '../page-cache-writes.ts';
import { PAGE_CACHE_WRITE_MAX_BYTES } from '../file-device.ts';
import { onMemoryFileSystem } from '../memory-fs.ts';

/**
 * The default cluster size, chosen by bench/overlay-cluster.ts (numbers in docs/OVERLAY.md):
 * 16 KiB reads and installs as fast as 64 and 256 KiB, takes first-touch 4 KiB writes about
 * three times as fast as 64 KiB and stores scattered writes in a third of the space; 4 KiB would
 * be faster still for small writes, but costs 4 times the map memory per changed GiB and is
 * slowest at large writes.
 */
export const DEFAULT_CLUSTER_BYTES = 16 * 1024;

export interface CreateOverlayOptions {
  /** Power of two from 4 KiB to 1 MiB; default DEFAULT_CLUSTER_BYTES. */
  readonly clusterBytes?: number;
  /** Size the machine sees; default the base size rounded up to whole blocks. */
  readonly virtualSizeBytes?: number;
  /** Logical block size presented; default 512. */
  readonly blockBytes?: number;
  /** A digest of the whole image computed by the image store (32 bytes), checked at open. */
  readonly imageDigest?: Buffer;
  /** Keep a disk's identity (16 bytes; its SCSI serial and NAA) when it moves to another base. */
  readonly overlayId?: Buffer;
}

export interface OpenOverlayOptions {
  readonly readOnly?: boolean;
  /** When given, must equal the digest recorded at creation (if one was). */
  readonly imageDigest?: Buffer;
  /** Small I/O runs synchronously below these sizes; default: as ../file-device.ts on tmpfs. */
  readonly syncReadMaxBytes?: number;
  readonly syncWriteMaxBytes?: number;
  /** When writes to a disk-backed overlay may run on the event loop; default the process's guard. */
  readonly pageCacheWrites?: PageCacheWriteGuard;
}

/** See ../file-device.ts: on a memory file system, small I/O is cheaper done synchronously. */
const SYNC_READ_MAX_BYTES = 64 * 1024;
const SYNC_WRITE_MAX_BYTES = 1024 * 1024;

const openFd = promisify(fs.open);
const closeFd = promisify(fs.close);
const fstat = promisify(fs.fstat);

/** Opens the base read-only and returns its fd and size; the caller closes the fd. */
async function openBase(basePath: string): Promise<{ fd: number; sizeBytes: number }> {
  const fd = await openFd(basePath, 'r');
  try {
    const stat = await fstat(fd);
    if (!stat.isFile()) throw new DisklessError(OverlayErrorCode.BadOptions, `base image ${basePath} is not a regular file`);
    return { fd, sizeBytes: stat.size };
  } catch (err) {
    await closeFd(fd);
    throw err;
  }
}

/** Writes `header` and a sparse, empty map to a new file, then moves it to `target`. */
async function writeFreshOverlay(target: string, header: OverlayHeader, replace: boolean): Promise<void> {
  const temporary = `${target}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`;
  const handle = await fsp.open(temporary, 'wx');
  try {
    await handle.write(encodeHeader(header), 0, undefined, 0);
    await handle.truncate(header.dataOffset);
    await handle.sync();
  } finally {
    await handle.close();
  }
  try {
    // rename replaces atomically; link fails with EEXIST instead of replacing (create).
    if (replace) await fsp.rename(temporary, target);
    else await fsp.link(temporary, target);
  } finally {
    if (!replace) await fsp.rm(temporary, { force: true });
  }
  await syncDirectory(path.dirname(target));
}


/** Creates an overlay of `basePath` at `overlayPath` (which must not exist). */
export async function createOverlay(overlayPath: string, basePath: string, options: CreateOverlayOptions = {}): Promise<OverlayHeader> {
  const clusterBytes = options.clusterBytes ?? DEFAULT_CLUSTER_BYTES;
  const blockBytes = options.blockBytes ?? 512;
  if (!isValidClusterBytes(clusterBytes)) throw new DisklessError(OverlayErrorCode.BadOptions, `cluster size ${clusterBytes} must be a power of two from 4 KiB to 1 MiB`);
  if (![512, 1024, 2048, 4096].includes(blockBytes)) throw new DisklessError(OverlayErrorCode.BadOptions, `block size ${blockBytes} must be 512, 1024, 2048 or 4096`);
  const imageDigest = options.imageDigest ?? Buffer.alloc(32);
  if (imageDigest.length !== 32) throw new DisklessError(OverlayErrorCode.BadOptions, `image digest must be 32 bytes, got ${imageDigest.length}`);
  if (options.overlayId !== undefined && options.overlayId.length !== 16) throw new DisklessError(OverlayErrorCode.BadOptions, `overlay id must be 16 bytes, got ${options.overlayId.length}`);
  const base = await openBase(basePath);
  try {
    const virtualSizeBytes = options.virtualSizeBytes ?? Math.ceil(base.sizeBytes / blockBytes) * blockBytes;
    if (!Number.isSafeInteger(virtualSizeBytes) || virtualSizeBytes <= 0 || virtualSizeBytes % blockBytes !== 0) {
      throw new DisklessError(OverlayErrorCode.BadOptions, `virtual size ${virtualSizeBytes} must be a positive multiple of ${blockBytes} (is the base image empty?)`);
    }
    const header: OverlayHeader = {
      clusterBytes,
      blockBytes,
      virtualSizeBytes,
      ...computeLayout(virtualSizeBytes, clusterBytes),
      generation: 1,
      overlayId: options.overlayId ?? randomBytes(16),
      createdAtMs: Date.now(),
      baseSizeBytes: base.sizeBytes,
      fingerprintKind: FingerprintKind.SampledSha256,
      sampleBytes: DEFAULT_SAMPLE_BYTES,
      sampleCount: DEFAULT_SAMPLE_COUNT,
      baseFingerprint: await fingerprintBase(base.fd, base.sizeBytes, DEFAULT_SAMPLE_BYTES, DEFAULT_SAMPLE_COUNT),
      imageDigest,
    };
    await writeFreshOverlay(overlayPath, header, false);
    return header;
  } finally {
    await closeFd(base.fd);
  }
}

/** The header of an overlay file (its id, size, base), without opening it as a device. */
export async function readOverlayHeader(overlayPath: string): Promise<OverlayHeader> {
  const fd = await openFd(overlayPath, 'r');
  try {
    return await readHeader(fd);
  } finally {
    await closeFd(fd);
  }
}

/**
 * Discard-on-reboot: replaces the overlay with an empty one over the same base (same id, size
 * and cluster size; generation + 1). Atomic: a new file is renamed over the old one. No device
 * may have the overlay open (it would go on writing to the old, unlinked file).
 */
export async function resetOverlay(overlayPath: string): Promise<OverlayHeader> {
  const old = await readOverlayHeader(overlayPath);
  const header: OverlayHeader = { ...old, generation: old.generation + 1, createdAtMs: Date.now() };
  await writeFreshOverlay(overlayPath, header, true);
  return header;
}

/** Refuses a base whose size or sampled content changed, or whose digest differs. */
async function verifyBase(header: OverlayHeader, baseFd: number, baseSize: number, basePath: string, imageDigest: Buffer | undefined): Promise<void> {
  if (baseSize !== header.baseSizeBytes) {
    throw new DisklessError(
      OverlayErrorCode.BaseSizeChanged,
      `base image ${basePath} is ${baseSize} bytes but the overlay was made over a ${header.baseSizeBytes}-byte image: the image changed, refusing to mix its data with this overlay`,
    );
  }
  const fingerprint = await fingerprintBase(baseFd, baseSize, header.sampleBytes, header.sampleCount);
  if (!fingerprint.equals(header.baseFingerprint)) {
    throw new DisklessError(
      OverlayErrorCode.BaseContentChanged,
      `base image ${basePath} has different content from the image the overlay was made over (fingerprint ${fingerprint.toString('hex').slice(0, 16)}…, recorded ${header.baseFingerprint.toString('hex').slice(0, 16)}…): the image changed, refusing to mix its data with this overlay`,
    );
  }
  if (imageDigest !== undefined && !isZero(header.imageDigest) && !imageDigest.equals(header.imageDigest)) {
    throw new DisklessError(OverlayErrorCode.ImageDigestMismatch, `image digest ${imageDigest.toString('hex')} differs from the one recorded at creation (${header.imageDigest.toString('hex')})`);
  }
}

/**
 * Opens a machine's overlay over its base image. Refuses a corrupt overlay (run checkOverlay
 * for the details) and a base that is not the one the overlay was made over.
 */
export async function openOverlayDevice(overlayPath: string, basePath: string, options: OpenOverlayOptions = {}): Promise<OverlayDevice> {
  const readOnly = options.readOnly ?? false;
  const overlayFd = await openFd(overlayPath, readOnly ? 'r' : 'r+');
  let baseFd: number | null = null;
  try {
    const base = await openBase(basePath);
    baseFd = base.fd;
    const scan = await scanOverlay(overlayFd).catch((err: unknown) => {
      if (err instanceof DecodeError) throw new DisklessError(err.code, `${overlayPath}: ${err.message}`);
      throw err;
    });
    if (scan.problemCount > 0) {
      throw new DisklessError(OverlayErrorCode.CorruptMap, `${overlayPath}: ${scan.problemCount} map problem(s), run checkOverlay: ${scan.problems.slice(0, 3).join('; ')}`);
    }
    await verifyBase(scan.header, base.fd, base.sizeBytes, basePath, options.imageDigest);
    // Slots past the last mapped one belong to writes that were never flushed before a crash
    // (or to a tail close() could not trim): nothing on disk references them, drop them.
    if (!readOnly && scan.fileSizeBytes > scan.header.dataOffset + scan.slotsInUse * scan.header.clusterBytes) {
      await promisify(fs.ftruncate)(overlayFd, scan.header.dataOffset + scan.slotsInUse * scan.header.clusterBytes);
    }
    const overlayInMemory = await onMemoryFileSystem(overlayPath);
    const baseInMemory = await onMemoryFileSystem(basePath);
    const syncRead = (inMemory: boolean): number => options.syncReadMaxBytes ?? (inMemory ? SYNC_READ_MAX_BYTES : 0);
    return new OverlayDevice({
      path: overlayPath,
      header: scan.header,
      overlay: new FileIo(
        overlayFd,
        syncRead(overlayInMemory),
        options.syncWriteMaxBytes ?? (overlayInMemory ? SYNC_WRITE_MAX_BYTES : 0),
        overlayInMemory || options.syncWriteMaxBytes !== undefined ? null : { maxBytes: PAGE_CACHE_WRITE_MAX_BYTES, guard: options.pageCacheWrites ?? pageCacheWrites },
      ),
      base: new FileIo(base.fd, syncRead(baseInMemory), 0),
      map: scan.map,
      slots: new SlotAllocator(scan.slotsInUse, scan.used),
      readOnly,
    });
  } catch (err) {
    await closeFd(overlayFd);
    if (baseFd !== null) await closeFd(baseFd);
    throw err;
  }
}
