// Helpers shared by the overlay's tests: promise wrappers over the callback device, scratch
// directories and base images with recognisable content.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { BlockDevice } from '../block-device.ts';

const call = <A extends unknown[]>(fn: (...args: [...A, (err: NodeJS.ErrnoException | null) => void]) => void, ...args: A): Promise<void> =>
  new Promise((resolve, reject) => fn(...args, (err) => (err === null ? resolve() : reject(err))));

export const readAt = async (d: BlockDevice, offset: number, length: number): Promise<Buffer> => {
  const target = Buffer.alloc(length);
  await call(d.read.bind(d), target, offset);
  return target;
};
export const writeAt = (d: BlockDevice, source: Buffer, offset: number, durable = false): Promise<void> => call(d.write.bind(d), source, offset, durable);
export const discardAt = (d: BlockDevice, offset: number, length: number): Promise<void> => call(d.discard.bind(d), offset, length);
export const flushDevice = (d: BlockDevice): Promise<void> => call(d.flush.bind(d));
export const closeDevice = (d: BlockDevice): Promise<void> => call(d.close.bind(d));

/** A scratch directory removed by the returned cleanup. */
export function scratchDir(prefix: string): { dir: string; file: (name: string) => string; cleanup: () => void } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `diskless-${prefix}-`));
  return { dir, file: (name) => path.join(dir, name), cleanup: () => fs.rmSync(dir, { recursive: true, force: true }) };
}

/** Deterministic bytes: a xorshift32 stream from `seed` (never all zeros). */
export function patternBytes(length: number, seed: number): Buffer {
  const out = Buffer.allocUnsafe(length);
  let x = (seed * 2654435761) >>> 0 || 0x9e3779b9;
  for (let i = 0; i < length; i += 4) {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    for (let j = 0; j < 4 && i + j < length; j++) out[i + j] = (x >>> (j * 8)) & 0xff;
  }
  return out;
}

/** Writes a base image of `sizeBytes` filled with patternBytes(seed) and returns its content. */
export function makeBase(filePath: string, sizeBytes: number, seed = 1): Buffer {
  const content = patternBytes(sizeBytes, seed);
  fs.writeFileSync(filePath, content);
  return content;
}
