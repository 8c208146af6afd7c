// What an overlay costs, for listing machines' disks without opening them as devices.
import fs from 'node:fs';
import { promisify } from 'node:util';
import { scanOverlay } from './map-scan.ts';

export interface OverlayFileUsage {
  readonly clusterBytes: number;
  readonly virtualSizeBytes: number;
  /** Clusters whose data lives in the overlay, and their bytes: what this machine changed. */
  readonly dataClusters: number;
  readonly dataBytes: number;
  /** Clusters discarded (read as zeros, hold no data). */
  readonly zeroClusters: number;
  /** Slots in the file that hold no mapped data (free for reuse). */
  readonly freeSlots: number;
  /** Logical file size, and what the file system really allocated (st_blocks × 512). */
  readonly fileSizeBytes: number;
  readonly allocatedBytes: number;
}

const openFd = promisify(fs.open);
const closeFd = promisify(fs.close);
const fstat = promisify(fs.fstat);

/** Reads the map of a (closed or open) overlay and reports its space. */
export async function overlaySpaceUsage(overlayPath: string): Promise<OverlayFileUsage> {
  const fd = await openFd(overlayPath, 'r');
  try {
    const scan = await scanOverlay(fd);
    const stat = await fstat(fd);
    const { clusterBytes, virtualSizeBytes } = scan.header;
    return {
      clusterBytes,
      virtualSizeBytes,
      dataClusters: scan.map.dataClusters,
      dataBytes: scan.map.dataClusters * clusterBytes,
      zeroClusters: scan.map.zeroClusters,
      freeSlots: scan.slotCapacity - scan.map.dataClusters,
      fileSizeBytes: stat.size,
      allocatedBytes: stat.blocks * 512,
    };
  } finally {
    await closeFd(fd);
  }
}
