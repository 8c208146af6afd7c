// The base image's identity as the overlay records it: its size and a sha256 over evenly
// spaced samples of its content. Hashing a 50 GiB image in full would take minutes at every
// open of every machine's disk; the samples are a few MiB, read from the page cache once the
// first machine has opened the image. A change outside the samples goes unseen, so the image
// store (which treats image versions as immutable) may also pass a full digest it computed
// once: the header keeps it, and opening with a different one is refused.
import fs from 'node:fs';
import { createHash } from 'node:crypto';
import { promisify } from 'node:util';

export const DEFAULT_SAMPLE_BYTES = 64 * 1024;
export const DEFAULT_SAMPLE_COUNT = 64;
const DOMAIN = Buffer.from('diskless-overlay-base-v1\0', 'ascii');
const readFd = promisify(fs.read);

/**
 * sha256(domain ‖ u64le size ‖ samples). With size ≤ count × sampleBytes the samples are the
 * whole file; otherwise sample i starts at floor(i × (size − sampleBytes) / (count − 1)), so
 * the first and the last bytes of the image are always covered.
 */
export async function fingerprintBase(fd: number, sizeBytes: number, sampleBytes: number, sampleCount: number): Promise<Buffer> {
  const hash = createHash('sha256');
  hash.update(DOMAIN);
  const size = Buffer.alloc(8);
  size.writeBigUInt64LE(BigInt(sizeBytes));
  hash.update(size);
  const chunk = Buffer.alloc(sampleBytes);
  const hashRange = async (position: number, length: number): Promise<void> => {
    let done = 0;
    while (done < length) {
      const { bytesRead } = await readFd(fd, chunk, 0, Math.min(chunk.length, length - done), position + done);
      if (bytesRead === 0) throw new Error(`base image ended at ${position + done} bytes, expected ${sizeBytes}`);
      hash.update(chunk.subarray(0, bytesRead));
      done += bytesRead;
    }
  };
  if (sizeBytes <= sampleBytes * sampleCount) {
    await hashRange(0, sizeBytes);
  } else {
    for (let i = 0; i < sampleCount; i++) await hashRange(Math.floor((i * (sizeBytes - sampleBytes)) / (sampleCount - 1)), sampleBytes);
  }
  return hash.digest();
}
