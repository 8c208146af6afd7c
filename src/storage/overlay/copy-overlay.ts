// Copies of overlay files: a snapshot is a copy of the machine's overlay (only its changes, so
// it costs what the machine wrote, not the disk's size) and a rollback copies one back.
// The copy stays sparse (all-zero pages are left as holes: a new overlay's map is mostly
// holes) and is written under a temporary name, synced and moved into place, so `to` is
// either absent (or the old file) or complete.
import { randomBytes } from 'node:crypto';
import fsp from 'node:fs/promises';
import path from 'node:path';
import { DisklessError } from '../../lib/errors.ts';
import { OverlayErrorCode } from './overlay-errors.ts';
import { syncDirectory } from './sync-directory.ts';
import { readHeader } from './map-scan.ts';

const CHUNK_BYTES = 1024 * 1024;
const PAGE_BYTES = 4096;
const ZERO_PAGE = Buffer.alloc(PAGE_BYTES);

export interface CopyOverlayOptions {
  /** Replace `to` if it exists (rollback); otherwise refuse (snapshot). */
  readonly replace?: boolean;
  readonly onProgress?: (doneBytes: number, totalBytes: number) => void;
}

export interface CopyOverlayResult {
  readonly fileBytes: number;
  /** Bytes written; the rest of the file is holes. */
  readonly writtenBytes: number;
}

/**
 * Copies the overlay file `from` to `to`. The source must not change during the copy: the
 * caller copies a closed file, or one whose device has frozen its writes (freezeWrites).
 */
export async function copyOverlayFile(from: string, to: string, options: CopyOverlayOptions = {}): Promise<CopyOverlayResult> {
  const source = await fsp.open(from, 'r');
  const temporary = `${to}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`;
  let writtenBytes = 0;
  try {
    // Refuse to copy what is not an overlay: a wrong path must not become a "snapshot".
    await readHeader(source.fd).catch((err: unknown) => {
      throw new DisklessError(OverlayErrorCode.BadOptions, `${from} is not an overlay file (${(err as Error).message})`);
    });
    const { size } = await source.stat();
    const out = await fsp.open(temporary, 'wx');
    try {
      await out.truncate(size);
      const chunk = Buffer.allocUnsafe(CHUNK_BYTES);
      for (let position = 0; position < size; position += CHUNK_BYTES) {
        const length = Math.min(CHUNK_BYTES, size - position);
        const { bytesRead } = await source.read(chunk, 0, length, position);
        if (bytesRead !== length) throw new DisklessError(OverlayErrorCode.BadOptions, `${from} changed size during the copy`);
        writtenBytes += await writeNonZeroPages(out, chunk.subarray(0, length), position);
        options.onProgress?.(position + length, size);
      }
      await out.sync();
    } finally {
      await out.close();
    }
    if (options.replace === true) await fsp.rename(temporary, to);
    else await fsp.link(temporary, to);
    await syncDirectory(path.dirname(to));
    return { fileBytes: size, writtenBytes };
  } finally {
    await source.close();
    await fsp.rm(temporary, { force: true });
  }
}

/** Writes the runs of non-zero pages of `data` (at file offset `position`); returns the bytes written. */
async function writeNonZeroPages(out: fsp.FileHandle, data: Buffer, position: number): Promise<number> {
  let written = 0;
  let runStart = -1;
  const flushRun = async (end: number): Promise<void> => {
    if (runStart < 0) return;
    await out.write(data, runStart, end - runStart, position + runStart);
    written += end - runStart;
    runStart = -1;
  };
  for (let page = 0; page < data.length; page += PAGE_BYTES) {
    const end = Math.min(page + PAGE_BYTES, data.length);
    const zero = data.compare(ZERO_PAGE, 0, end - page, page, end) === 0;
    if (zero) await flushRun(page);
    else if (runStart < 0) runStart = page;
  }
  await flushRun(data.length);
  return written;
}

