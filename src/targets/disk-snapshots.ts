// Snapshots and rollback of copy-on-write disks. A snapshot is a copy of the disk's overlay
// (only what the machine changed) taken while the live device holds its writes, so it is the
// disk exactly as of one moment, as if the power had gone then (crash-consistent, like an LVM
// snapshot). Rolling back puts that copy back, with the image version it was taken on.
import { mkdirSync } from 'node:fs';
import { rm, stat } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { StoreError, StoreErrorCode } from '../store/errors.ts';
import type { Store } from '../store/open-store.ts';
import type { Disk } from '../store/repositories/disks.ts';
import type { DiskSnapshot } from '../store/repositories/snapshots.ts';
import { snapshotName } from '../store/repositories/snapshots.ts';
import { copyOverlayFile } from '../storage/overlay/index.ts';
import type { DiskControl } from './live-targets.ts';

export function snapshotPath(dataDir: string, disk: string, name: string): string {
  return resolve(join(dataDir, 'disks', 'snapshots', disk, `${name}.ovl`));
}

async function overlayDisk(store: Store, name: string, doing: string): Promise<Disk & { imageId: number }> {
  const disk = await store.disks.get(name);
  if (disk === undefined) throw new StoreError(StoreErrorCode.NotFound, `no disk named ${name}; \`diskless disk list\` shows the disks`);
  if (disk.imageId === null) {
    throw new StoreError(
      StoreErrorCode.Invalid,
      `${name} is a plain disk; ${doing} works on copy-on-write disks of an image. Import it as an image (\`diskless image import NAME ${disk.path}\`) and give the machine a disk of that image`,
    );
  }
  return { ...disk, imageId: disk.imageId };
}

/** Takes snapshot `name` of a copy-on-write disk, live: the machine may go on running. */
export async function takeSnapshot(store: Store, control: DiskControl, dataDir: string, diskName: string, name: string): Promise<DiskSnapshot> {
  const parsed = snapshotName.safeParse(name);
  if (!parsed.success) throw new StoreError(StoreErrorCode.Invalid, `name: snapshot names use letters, digits, ., - and _ (got "${name}")`);
  const disk = await overlayDisk(store, diskName, 'a snapshot');
  if ((await store.snapshots.get(diskName, name)) !== undefined) {
    throw new StoreError(StoreErrorCode.DuplicateName, `disk ${diskName} already has a snapshot named ${name}; pick another name or remove that one first`);
  }
  const path = snapshotPath(dataDir, diskName, name);
  mkdirSync(dirname(path), { recursive: true });
  await control.withFrozenDisk(disk.path, () => copyOverlayFile(disk.path, path));
  try {
    const used = (await stat(path)).blocks * 512;
    return await store.snapshots.add({ disk: diskName, name, path, imageId: disk.imageId, sizeBytes: used });
  } catch (err) {
    await rm(path, { force: true });
    throw err;
  }
}

/**
 * Puts the disk back as it was at snapshot `name` (and on the image version it was on then).
 * The machine's sessions end; its next login sees the rolled-back disk. The caller refreshes
 * the targets afterwards, which offers the disk again.
 */
export async function rollbackDisk(store: Store, control: DiskControl, diskName: string, name: string): Promise<Disk> {
  const disk = await overlayDisk(store, diskName, 'a rollback');
  const snapshot = await store.snapshots.get(diskName, name);
  if (snapshot === undefined) throw new StoreError(StoreErrorCode.NotFound, `disk ${diskName} has no snapshot named ${name}; \`diskless disk snapshot list ${diskName}\` shows them`);
  const image = await store.images.byId(snapshot.imageId);
  if (image === undefined) throw new StoreError(StoreErrorCode.NotFound, `the image version under snapshot ${name} is gone`);
  return control.whileDetached(disk.path, `disk ${diskName} rolled back to snapshot ${name}`, async () => {
    await copyOverlayFile(snapshot.path, disk.path, { replace: true });
    return store.disks.update(diskName, { imageId: image.id, sizeBytes: image.sizeBytes });
  });
}

export async function removeSnapshot(store: Store, diskName: string, name: string): Promise<DiskSnapshot> {
  const removed = await store.snapshots.remove(diskName, name);
  await rm(removed.path, { force: true });
  return removed;
}

/** Deletes the files of snapshots whose rows went with their disk. */
export async function removeSnapshotFiles(snapshots: readonly DiskSnapshot[]): Promise<void> {
  for (const s of snapshots) await rm(s.path, { force: true });
}
