// Disks as the API and CLI make them: a new sparse file, an existing file, or a copy-on-write
// disk over an image version; and the changes a disk can take (grow, mode, image version).
// Files are made before the store row and removed again if the row is refused.
import { rm } from 'node:fs/promises';
import { StoreError, StoreErrorCode } from '../store/errors.ts';
import type { Store } from '../store/open-store.ts';
import type { Disk, DiskMode } from '../store/repositories/disks.ts';
import { createDiskFile, createOverlayDisk, diskFileInfo, growDiskFile, replaceOverlay } from './disk-files.ts';
import { rebaseOverlay } from '../storage/overlay/index.ts';
import type { DiskControl } from './live-targets.ts';

export type NewDiskRequest =
  | { readonly name: string; readonly sizeBytes: number; readonly readOnly?: boolean | undefined }
  | { readonly name: string; readonly path: string; readonly readOnly?: boolean | undefined }
  | { readonly name: string; readonly image: string; readonly version?: number | undefined; readonly mode?: DiskMode | undefined };

export interface DiskChange {
  readonly sizeBytes?: number | undefined;
  readonly mode?: DiskMode | undefined;
  readonly version?: number | 'latest' | undefined;
  /** With version: carry the machine's changes over to the new version (persistent disks). */
  readonly keepChanges?: boolean | undefined;
}

export async function createDisk(store: Store, dataDir: string, request: NewDiskRequest): Promise<Disk> {
  if ('path' in request) {
    const info = await diskFileInfo(request.path);
    return store.disks.add({ name: request.name, path: request.path, sizeBytes: info.sizeBytes, readOnly: request.readOnly ?? false });
  }
  const existing = await store.disks.get(request.name);
  if (existing !== undefined) {
    throw new StoreError(StoreErrorCode.DuplicateName, `a disk named ${request.name} already exists (${existing.path}); pick another name, or \`diskless disk rm ${request.name}\` first`);
  }
  let path: string;
  let row: Parameters<Store['disks']['add']>[0];
  if ('image' in request) {
    const image = await store.images.get(request.image, request.version);
    if (image === undefined) {
      throw new StoreError(StoreErrorCode.NotFound, `image: no image ${request.image}${request.version !== undefined ? ` version ${request.version}` : ''}; \`diskless image list\` shows them, \`diskless image import\` adds one`);
    }
    path = await createOverlayDisk(dataDir, request.name, image.path);
    row = { name: request.name, path, sizeBytes: image.sizeBytes, imageId: image.id, mode: request.mode ?? 'persistent' };
  } else {
    path = await createDiskFile(dataDir, request.name, request.sizeBytes);
    row = { name: request.name, path, sizeBytes: request.sizeBytes, readOnly: request.readOnly ?? false };
  }
  try {
    return await store.disks.add(row);
  } catch (err) {
    await rm(path, { force: true });
    throw err;
  }
}

/**
 * Applies a change; the caller refreshes the targets, whose sessions then log in again.
 * Keeping the changes across a version move needs `control`: the overlay is rewritten closed.
 */
export async function changeDisk(store: Store, name: string, change: DiskChange, control?: DiskControl): Promise<Disk> {
  let disk = await store.disks.get(name);
  if (disk === undefined) throw new StoreError(StoreErrorCode.NotFound, `no disk named ${name}; \`diskless disk list\` shows the disks`);
  if (change.sizeBytes !== undefined) {
    if (disk.imageId !== null) throw new StoreError(StoreErrorCode.Invalid, `sizeBytes: ${name} is a copy-on-write disk; it has the size of its image`);
    await growDiskFile(disk.path, change.sizeBytes);
    disk = await store.disks.update(name, { sizeBytes: change.sizeBytes });
  }
  if (change.mode !== undefined) {
    if (disk.imageId === null && change.mode === 'discard-on-reboot') throw new StoreError(StoreErrorCode.Invalid, `mode: ${name} is a plain disk; only copy-on-write disks of an image can be discarded at reboot`);
    disk = await store.disks.update(name, { mode: change.mode });
  }
  if (change.version !== undefined) {
    const current = disk.imageId === null ? undefined : await store.images.byId(disk.imageId);
    if (current === undefined) throw new StoreError(StoreErrorCode.Invalid, `version: ${name} is not a copy-on-write disk of an image`);
    const target = await store.images.get(current.name, change.version === 'latest' ? undefined : change.version);
    if (target === undefined) throw new StoreError(StoreErrorCode.NotFound, `version: image ${current.name} has no version ${change.version}`);
    if (change.keepChanges === true) {
      if (disk.mode !== 'persistent') throw new StoreError(StoreErrorCode.Invalid, `keepChanges: ${name} is discarded at every boot, it has no changes to keep; move it without keepChanges`);
      if (control === undefined) throw new StoreError(StoreErrorCode.Invalid, 'keepChanges: only the running server can move a disk with its changes');
    }
    if (target.id !== current.id) {
      const moved = { imageId: target.id, sizeBytes: target.sizeBytes };
      if (change.keepChanges === true && control !== undefined) {
        const overlayPath = disk.path;
        disk = await control.whileDetached(overlayPath, `disk ${name} moves to ${current.name} version ${target.version} with its changes`, async () => {
          await rebaseOverlay(overlayPath, target.path);
          return store.disks.update(name, moved);
        });
      } else {
        await replaceOverlay(disk.path, target.path);
        disk = await store.disks.update(name, moved);
      }
    }
  }
  return disk;
}
