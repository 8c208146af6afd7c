// Moving a disk to another image version while keeping what the machine changed: every
// cluster the overlay holds (written or discarded) is carried over onto a new overlay of the
// new base; everything else now reads from the new version. This is a block-level merge: it is
// right for data the new version did not touch (a second partition, a disk of its own), and can
// mix two file-system states when both changed the same file system, which is why the default
// move starts clean and this one has to be asked for (docs/OVERLAY.md, "Moving versions").
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { syncDirectory } from './sync-directory.ts';
import { promisify } from 'node:util';
import type { BlockDevice } from '../block-device.ts';
import { STATE_ZERO, STATE_SLOT_BASE } from './cluster-map.ts';
import { scanOverlay } from './map-scan.ts';
import { createOverlay, openOverlayDevice } from './overlay-files.ts';

const readFd = promisify(fs.read);

export interface RebaseResult {
  /** Clusters carried over onto the new base. */
  readonly keptClusters: number;
  /** Changed clusters past the end of a smaller new version: lost. */
  readonly droppedClusters: number;
  readonly virtualSizeBytes: number;
}

const call = (start: (done: (err: NodeJS.ErrnoException | null) => void) => void): Promise<void> =>
  new Promise((resolve, reject) => start((err) => (err === null ? resolve() : reject(err))));

/**
 * Rewrites the overlay at `overlayPath` (closed: no device may have it open) as an overlay of
 * `newBasePath` with the same changes and the same disk identity. Atomic: the new file is
 * built beside the old one and renamed over it.
 */
export async function rebaseOverlay(overlayPath: string, newBasePath: string, onProgress?: (done: number, total: number) => void): Promise<RebaseResult> {
  const old = await fsp.open(overlayPath, 'r');
  const temporary = `${overlayPath}.rebase-${process.pid}-${randomBytes(4).toString('hex')}`;
  try {
    const scan = await scanOverlay(old.fd);
    const { clusterBytes, dataOffset } = scan.header;
    const created = await createOverlay(temporary, newBasePath, { clusterBytes, blockBytes: scan.header.blockBytes, overlayId: scan.header.overlayId });
    const size = created.virtualSizeBytes;
    const device = await openOverlayDevice(temporary, newBasePath);
    const mapped: [number, number][] = [];
    scan.map.forEachMapped((cluster, state) => mapped.push([cluster, state]));
    let keptClusters = 0;
    let droppedClusters = 0;
    try {
      const buffer = Buffer.allocUnsafe(clusterBytes);
      for (const [cluster, state] of mapped) {
        const offset = cluster * clusterBytes;
        if (offset >= size) {
          droppedClusters++;
          continue;
        }
        const length = Math.min(clusterBytes, size - offset);
        if (state === STATE_ZERO) {
          await call((done) => device.discard(offset, length, done));
        } else {
          const slotAt = dataOffset + (state - STATE_SLOT_BASE) * clusterBytes;
          buffer.fill(0);
          await readFd(old.fd, buffer, 0, clusterBytes, slotAt);
          await call((done) => device.write(buffer.subarray(0, length), offset, false, done));
        }
        keptClusters++;
        onProgress?.(keptClusters + droppedClusters, mapped.length);
      }
      await call((done) => device.flush(done));
    } finally {
      await closeDevice(device);
    }
    await fsp.rename(temporary, overlayPath);
    await syncDirectory(path.dirname(overlayPath));
    return { keptClusters, droppedClusters, virtualSizeBytes: size };
  } finally {
    await old.close();
    await fsp.rm(temporary, { force: true });
  }
}

function closeDevice(device: BlockDevice): Promise<void> {
  return new Promise((resolve, reject) => device.close((err) => (err === null ? resolve() : reject(err))));
}
