// checkOverlay: validates an overlay file without opening it as a device (a fsck). Used by
// the crash test after SIGKILL, and by operators before trusting a disk that misbehaves.
import fs from 'node:fs';
import { promisify } from 'node:util';
import { DecodeError } from '../../lib/errors.ts';
import { scanOverlay } from './map-scan.ts';
import type { OverlayHeader } from './overlay-format.ts';

export interface OverlayCheckReport {
  /** True when the header and every map entry are sound. */
  readonly ok: boolean;
  /** The first problems found (at most 50), each a sentence naming the cluster or slot. */
  readonly problems: readonly string[];
  /** All problems, listed or not. */
  readonly problemCount: number;
  /** Null when the header itself is unreadable. */
  readonly header: OverlayHeader | null;
  readonly dataClusters: number;
  readonly zeroClusters: number;
  /** Slots the file holds and how many the map references; the rest are free for reuse. */
  readonly slotCapacity: number;
  readonly slotsUsed: number;
  readonly fileSizeBytes: number;
}

const openFd = promisify(fs.open);
const closeFd = promisify(fs.close);

/**
 * Checks the header (magic, version, CRC, sizes and the layout they imply) and the map (every
 * entry well formed with a matching check, every data slot inside the file, no slot mapped
 * twice). Never writes. Throws only when the file cannot be read at all.
 */
export async function checkOverlay(overlayPath: string): Promise<OverlayCheckReport> {
  const fd = await openFd(overlayPath, 'r');
  try {
    const scan = await scanOverlay(fd);
    let slotsUsed = 0;
    for (const flag of scan.used) slotsUsed += flag;
    return {
      ok: scan.problemCount === 0,
      problems: scan.problems,
      problemCount: scan.problemCount,
      header: scan.header,
      dataClusters: scan.map.dataClusters,
      zeroClusters: scan.map.zeroClusters,
      slotCapacity: scan.slotCapacity,
      slotsUsed,
      fileSizeBytes: scan.fileSizeBytes,
    };
  } catch (err) {
    if (!(err instanceof DecodeError)) throw err;
    const size = (await promisify(fs.fstat)(fd)).size;
    return { ok: false, problems: [`header: ${err.message} (${err.code})`], problemCount: 1, header: null, dataClusters: 0, zeroClusters: 0, slotCapacity: 0, slotsUsed: 0, fileSizeBytes: size };
  } finally {
    await closeFd(fd);
  }
}
