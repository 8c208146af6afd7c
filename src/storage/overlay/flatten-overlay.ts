// flattenOverlay: the overlay merged with its base, written to a new plain image file. The
// store uses it to promote a machine's disk into a new image version. Zero ranges are left as
// holes, so the new image is as sparse as the data allows.
import fsp from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { syncDirectory } from './sync-directory.ts';
import type { BlockDevice } from '../block-device.ts';
import { openOverlayDevice } from './overlay-files.ts';

/** Bytes read per step; a few reads stay in flight so the copy overlaps with the reads. */
const CHUNK_BYTES = 4 * 1024 * 1024;
const READS_IN_FLIGHT = 4;
const ZERO_CHUNK = Buffer.alloc(CHUNK_BYTES);

export type FlattenProgress = (doneBytes: number, totalBytes: number) => void;

export interface FlattenResult {
  readonly sizeBytes: number;
  /** Bytes actually written (the rest are holes). */
  readonly writtenBytes: number;
}

const readDevice = (device: BlockDevice, target: Buffer, offset: number): Promise<void> =>
  new Promise((resolve, reject) => device.read(target, offset, (err) => (err === null ? resolve() : reject(err))));

const closeDevice = (device: BlockDevice): Promise<void> =>
  new Promise((resolve, reject) => device.close((err) => (err === null ? resolve() : reject(err))));

/**
 * Writes the merged disk to `outPath` (which must not exist) through a temporary file that is
 * synced and then linked into place, so `outPath` is either absent or complete.
 */
export async function flattenOverlay(overlayPath: string, basePath: string, outPath: string, onProgress?: FlattenProgress): Promise<FlattenResult> {
  const device = await openOverlayDevice(overlayPath, basePath, { readOnly: true });
  const temporary = `${outPath}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`;
  let writtenBytes = 0;
  try {
    const out = await fsp.open(temporary, 'wx');
    try {
      await out.truncate(device.sizeBytes);
      const chunks = Math.ceil(device.sizeBytes / CHUNK_BYTES);
      const buffers = Array.from({ length: Math.min(READS_IN_FLIGHT, chunks) }, () => Buffer.allocUnsafe(CHUNK_BYTES));
      const reads: Promise<Buffer>[] = [];
      const startRead = (index: number): void => {
        const offset = index * CHUNK_BYTES;
        const buffer = (buffers[index % buffers.length] ?? Buffer.allocUnsafe(CHUNK_BYTES)).subarray(0, Math.min(CHUNK_BYTES, device.sizeBytes - offset));
        reads[index] = readDevice(device, buffer, offset).then(() => buffer);
      };
      for (let index = 0; index < buffers.length; index++) startRead(index);
      for (let index = 0; index < chunks; index++) {
        const chunk = await (reads[index] ?? Promise.reject(new Error(`read ${index} was not started`)));
        if (!chunk.equals(ZERO_CHUNK.subarray(0, chunk.length))) {
          await out.write(chunk, 0, chunk.length, index * CHUNK_BYTES);
          writtenBytes += chunk.length;
        }
        // The buffer is free again only now: the next read into it starts after the write.
        if (index + buffers.length < chunks) startRead(index + buffers.length);
        delete reads[index];
        onProgress?.(Math.min((index + 1) * CHUNK_BYTES, device.sizeBytes), device.sizeBytes);
      }
      await out.sync();
    } finally {
      await out.close();
    }
    await fsp.link(temporary, outPath);
    await syncDirectory(path.dirname(outPath));
    return { sizeBytes: device.sizeBytes, writtenBytes };
  } finally {
    await fsp.rm(temporary, { force: true });
    await closeDevice(device);
  }
}
