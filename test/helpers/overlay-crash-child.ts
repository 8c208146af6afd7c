// The victim of test/interop/overlay-crash.test.ts:
//   node --import tsx test/helpers/overlay-crash-child.ts SEED OVERLAY_PATH BASE_PATH
// opens the overlay and runs a seeded random stream of writes, discards, FUA writes and
// flushes, several in flight at once, until it is SIGKILLed. Each step is logged to stdout
// with a plain write(2) on fd 1: process.stdout buffers in the process when the pipe is full
// (measured: thousands of lines lost to a SIGKILL), a write(2) that returned is in the pipe.
// Each line is written before its step starts or after it completed:
//   i ID w BLOCK COUNT DURABLE   write ID issued (DURABLE 1: FUA)
//   i ID d BLOCK COUNT           discard ID issued
//   d ID                         write or discard ID completed (for a FUA write: durable)
//   f ID                         flush ID issued
//   F ID                         flush ID completed: everything completed before "f ID" is durable
// Block contents are blockPattern(op, block), so the parent can tell which write it sees.
import fs from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { openOverlayDevice } from '../../src/storage/overlay/index.ts';
import { seededRandom } from '../../src/lib/seeded-random.ts';

export const CRASH_BLOCK_BYTES = 512;

/** The content op `op` writes to block `block` (op 0: the base image). Starts with both ids. */
export function blockPattern(op: number, block: number): Buffer {
  const b = Buffer.allocUnsafe(CRASH_BLOCK_BYTES);
  b.writeUInt32LE(op, 0);
  b.writeUInt32LE(block, 4);
  let x = (Math.imul(op + 1, 0x9e3779b1) ^ Math.imul(block + 1, 0x85ebca6b)) >>> 0 || 1;
  for (let i = 8; i < CRASH_BLOCK_BYTES; i += 4) {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    b.writeUInt32LE(x, i);
  }
  return b;
}


/** Exits on its own after this long, in case the parent never kills it. */
const SAFETY_EXIT_MS = 60_000;

async function main(): Promise<void> {
  const [seedText, overlayPath, basePath] = process.argv.slice(2);
  if (seedText === undefined || overlayPath === undefined || basePath === undefined) throw new Error('usage: overlay-crash-child.ts SEED OVERLAY_PATH BASE_PATH');
  const seed = Number(seedText);
  const next = seededRandom(seed * 7919 + 1);
  const synchronousIo = next(2) === 0;
  const device = await openOverlayDevice(overlayPath, basePath, synchronousIo ? { syncReadMaxBytes: 1 << 30, syncWriteMaxBytes: 1 << 30 } : { syncReadMaxBytes: 0, syncWriteMaxBytes: 0 });
  const blocks = device.sizeBytes / CRASH_BLOCK_BYTES;
  // Ops fall in a hot region most of the time, so clusters are rewritten, discarded and
  // reused while other ops on them are in flight.
  const hotBlocks = Math.max(64, Math.floor(blocks / 8));
  const queueDepth = 1 + next(12);
  const say = (line: string): void => {
    const bytes = Buffer.from(`${line}\n`);
    for (let written = 0; written < bytes.length; ) {
      try {
        written += fs.writeSync(1, bytes, written);
      } catch (err) {
        // A non-blocking pipe that is full: wait for the parent to read, never drop a line.
        if ((err as NodeJS.ErrnoException).code !== 'EAGAIN') throw err;
      }
    }
  };
  let nextId = 1;
  let inFlight = 0;
  const pickRange = (): [number, number] => {
    const span = next(4) === 0 ? blocks : hotBlocks;
    const block = next(span);
    const count = 1 + next(Math.min(span - block, next(5) === 0 ? 400 : 24));
    return [block, count];
  };
  const issue = (): void => {
    const id = nextId++;
    inFlight++;
    const roll = next(100);
    const completed = (err: NodeJS.ErrnoException | null): void => {
      if (err !== null) throw err;
      inFlight--;
      // Through setImmediate: on tmpfs every completion is a nextTick, and refilling from
      // there would keep the loop from ever reaching the fdatasync completions.
      setImmediate(fill);
    };
    if (roll < 8) {
      say(`f ${id}`);
      device.flush((err) => {
        if (err === null) say(`F ${id}`);
        completed(err);
      });
      return;
    }
    const [block, count] = pickRange();
    if (roll < 20) {
      say(`i ${id} d ${block} ${count}`);
      device.discard(block * CRASH_BLOCK_BYTES, count * CRASH_BLOCK_BYTES, (err) => {
        if (err === null) say(`d ${id}`);
        completed(err);
      });
      return;
    }
    const durable = roll < 35;
    const data = Buffer.concat(Array.from({ length: count }, (_, i) => blockPattern(id, block + i)));
    say(`i ${id} w ${block} ${count} ${durable ? 1 : 0}`);
    device.write(data, block * CRASH_BLOCK_BYTES, durable, (err) => {
      if (err === null) say(`d ${id}`);
      completed(err);
    });
  };
  const fill = (): void => {
    while (inFlight < queueDepth) issue();
  };
  say(`ready ${synchronousIo ? 'sync' : 'async'} qd=${queueDepth}`);
  setTimeout(() => process.exit(0), SAFETY_EXIT_MS).unref();
  fill();
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(path.resolve(process.argv[1])).href) {
  main().catch((err: unknown) => {
    process.stderr.write(`overlay-crash-child: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exit(1);
  });
}
