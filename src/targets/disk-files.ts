// The files behind disks: new sparse ones in DATA_DIR/disks/, or existing files and block
// devices the user already has (an IET or tgt setup being imported). Sizes come from the file;
// "used" is what the file system really holds (sparse files grow as machines write).
import { rename, rm, stat, truncate } from 'node:fs/promises';
import { isAbsolute, join, resolve } from 'node:path';
import { existsSync, mkdirSync } from 'node:fs';
import { createOverlay, readOverlayHeader } from '../storage/overlay/index.ts';
import { createSparseFile } from '../storage/file-device.ts';
import { DisklessError } from '../lib/errors.ts';

export interface DiskFileInfo {
  readonly sizeBytes: number;
  /** Bytes allocated on the file system (0 for a block device: not known from stat). */
  readonly usedBytes: number;
}

export function newDiskPath(dataDir: string, name: string): string {
  return resolve(join(dataDir, 'disks', `${name}.img`));
}

/** Creates DATA_DIR/disks/NAME.img, sparse. */
export async function createDiskFile(dataDir: string, name: string, sizeBytes: number): Promise<string> {
  if (!Number.isSafeInteger(sizeBytes) || sizeBytes <= 0 || sizeBytes % 512 !== 0) {
    throw new DisklessError('DISK_BAD_SIZE', `sizeBytes: ${sizeBytes} is not a positive whole number of 512-byte blocks; write it like 21474836480 (20 GiB)`);
  }
  const path = newDiskPath(dataDir, name);
  mkdirSync(join(dataDir, 'disks'), { recursive: true });
  try {
    await createSparseFile(path, sizeBytes);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') throw new DisklessError('DISK_FILE_EXISTS', `${path} already exists; register it with "path" instead, or pick another name`);
    throw err;
  }
  return path;
}

/** Size and space used of an existing disk file or block device; clear words when it is not one. */
export async function diskFileInfo(path: string): Promise<DiskFileInfo> {
  if (!isAbsolute(path)) throw new DisklessError('DISK_PATH_RELATIVE', `path: ${path} must be absolute (the server resolves it, not the client)`);
  let s;
  try {
    s = await stat(path);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new DisklessError('DISK_FILE_MISSING', `path: ${path} cannot be read by the server (${code ?? 'error'}); check the path and its permissions`);
  }
  if (s.isFile()) return { sizeBytes: s.size, usedBytes: s.blocks * 512 };
  if (s.isBlockDevice()) return { sizeBytes: 0, usedBytes: 0 };
  throw new DisklessError('DISK_NOT_A_FILE', `path: ${path} is neither a file nor a block device`);
}

/** Grows a disk file (sparse: the new space costs nothing until written). Never shrinks. */
export async function growDiskFile(path: string, sizeBytes: number): Promise<void> {
  const info = await diskFileInfo(path);
  if (!Number.isSafeInteger(sizeBytes) || sizeBytes % 512 !== 0) throw new DisklessError('DISK_BAD_SIZE', `sizeBytes: ${sizeBytes} is not a whole number of 512-byte blocks`);
  if (sizeBytes < info.sizeBytes) {
    throw new DisklessError('DISK_SHRINK', `sizeBytes: ${sizeBytes} is smaller than the disk (${info.sizeBytes}); shrinking would cut off data. Shrink the file system inside first and copy to a new, smaller disk`);
  }
  await truncate(path, sizeBytes);
}

export function newOverlayPath(dataDir: string, name: string): string {
  return resolve(join(dataDir, 'disks', `${name}.ovl`));
}

/** A new copy-on-write disk over an image version: DATA_DIR/disks/NAME.ovl. */
export async function createOverlayDisk(dataDir: string, name: string, imagePath: string): Promise<string> {
  mkdirSync(join(dataDir, 'disks'), { recursive: true });
  const path = newOverlayPath(dataDir, name);
  if (existsSync(path)) throw new DisklessError('DISK_FILE_EXISTS', `${path} already exists; pick another name`);
  await createOverlay(path, imagePath);
  return path;
}

/**
 * Points an existing overlay at another image version, starting clean: a new overlay is made
 * beside it and renamed over it, so a crash leaves either the old disk or the new one. The
 * disk keeps its identity (SCSI serial and NAA). A device still open on the old file keeps its
 * inode until the targets reopen.
 */
export async function replaceOverlay(path: string, imagePath: string): Promise<void> {
  const fresh = `${path}.new`;
  const { overlayId } = await readOverlayHeader(path);
  await rm(fresh, { force: true });
  await createOverlay(fresh, imagePath, { overlayId });
  await rename(fresh, path);
}
