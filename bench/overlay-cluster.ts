// node --import tsx bench/overlay-cluster.ts — which cluster size should overlays default to?
//
// For 4, 16, 64 and 256 KiB clusters, on /dev/shm (so the numbers are the overlay's own cost,
// not a disk's), over a 256 MiB base of random bytes:
//   first touch   4 KiB writes, each into a cluster the overlay does not have yet (one per
//                 256 KiB, so the same count for every size): the pure copy-on-write cost
//   scattered     4 KiB writes at random over the disk, on a fresh overlay: a mix of
//                 copy-on-write and in-place writes, as a machine's own writes are
//   rewrite       the same scattered writes again (all in place)
//   reads         then the whole disk sequentially in 64 KiB and 1 MiB requests, and 4 KiB
//                 random reads: mapped clusters split reads into one pread per run of slots
//   overlay MiB   the overlay file after the scattered writes: the space each size costs
//   install       1 MiB writes over the whole disk at queue depth 4 on a fresh overlay (an
//                 operating system being installed), then the disk read back in 1 MiB
// Rounds rotate the order of the cluster sizes; the table shows medians.
//
// Environment: BENCH_PAIRS (rounds, default 3), BENCH_DIR (default /dev/shm).
import { randomFillSync } from 'node:crypto';
import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { BlockDevice } from '../src/storage/block-device.ts';
import { openFileDevice } from '../src/storage/file-device.ts';
import { createOverlay, openOverlayDevice } from '../src/storage/overlay/index.ts';
import { alternate, fail, formatTable, median, onCleanup } from './lib/harness.ts';

const ROUNDS = Math.max(1, Number(process.env.BENCH_PAIRS ?? 3));
const DIR = process.env.BENCH_DIR ?? '/dev/shm';
const BASE_BYTES = 256 * 1024 * 1024;
/** Scattered writes: with 64 KiB clusters they touch about half of the disk's clusters. */
const WRITES = 3072;
const WRITE_QUEUE_DEPTH = 16;
const RANDOM_READS = 32768;
const KIB = 1024;
const MIB = 1024 * 1024;
const CLUSTERS = [4 * KIB, 16 * KIB, 64 * KIB, 256 * KIB] as const;

interface Sample {
  readonly installWriteMiBs: number;
  readonly installReadMiBs: number;
  readonly firstTouchIops: number;
  readonly randomWriteIops: number;
  readonly randomRewriteIops: number;
  readonly seqRead64kMiBs: number;
  readonly seqRead1mMiBs: number;
  readonly randomRead4kIops: number;
  readonly overlayMiB: number;
}

/** Runs `count` operations with `depth` in flight; resolves with the elapsed milliseconds. */
function runQueued(count: number, depth: number, issue: (index: number, done: (err: NodeJS.ErrnoException | null) => void) => void): Promise<number> {
  return new Promise((resolve, reject) => {
    const started = process.hrtime.bigint();
    let next = 0;
    let completed = 0;
    let failed = false;
    const launch = (): void => {
      const index = next++;
      issue(index, (err) => {
        if (failed) return;
        if (err !== null) {
          failed = true;
          return reject(err);
        }
        if (++completed === count) return resolve(Number(process.hrtime.bigint() - started) / 1e6);
        if (next < count) launch();
      });
    };
    for (let i = 0; i < Math.min(depth, count); i++) launch();
  });
}

/** Deterministic 4 KiB-aligned offsets, the same for every cluster size. */
function randomOffsets(count: number, seed: number): number[] {
  let x = seed >>> 0 || 1;
  const blocks = BASE_BYTES / (4 * KIB);
  return Array.from({ length: count }, () => {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    return (x % blocks) * 4 * KIB;
  });
}

async function sequentialRead(device: BlockDevice, requestBytes: number, depth: number): Promise<number> {
  const buffers = Array.from({ length: depth }, () => Buffer.allocUnsafe(requestBytes));
  const count = device.sizeBytes / requestBytes;
  const ms = await runQueued(count, depth, (i, done) => device.read(buffers[i % depth] ?? Buffer.alloc(requestBytes), i * requestBytes, done));
  return device.sizeBytes / MIB / (ms / 1000);
}

const closeDevice = (device: BlockDevice): Promise<void> => new Promise((resolve, reject) => device.close((err) => (err === null ? resolve() : reject(err))));

/** 4 KiB writes, each into a cluster of its own that the overlay does not have yet. */
async function measureFirstTouch(dir: string, basePath: string, clusterBytes: number, round: number): Promise<number> {
  const overlayPath = join(dir, `touch-${clusterBytes}-${round}.ovl`);
  await createOverlay(overlayPath, basePath, { clusterBytes });
  const device = await openOverlayDevice(overlayPath, basePath);
  try {
    const data = randomFillSync(Buffer.alloc(4 * KIB));
    const count = BASE_BYTES / (256 * KIB);
    const offsets = randomOffsets(count, 777 + round).map((offset, i) => i * 256 * KIB + (offset % (256 * KIB)));
    const ms = await runQueued(count, WRITE_QUEUE_DEPTH, (i, done) => device.write(data, offsets[i] ?? 0, false, done));
    return count / (ms / 1000);
  } finally {
    await closeDevice(device);
    rmSync(overlayPath, { force: true });
  }
}

/** Large sequential writes over the whole disk, then the written disk read back. */
async function measureInstall(dir: string, basePath: string, clusterBytes: number, round: number): Promise<{ write: number; read: number }> {
  const overlayPath = join(dir, `install-${clusterBytes}-${round}.ovl`);
  await createOverlay(overlayPath, basePath, { clusterBytes });
  const device = await openOverlayDevice(overlayPath, basePath);
  try {
    const buffers = Array.from({ length: 4 }, () => randomFillSync(Buffer.alloc(MIB)));
    const ms = await runQueued(device.sizeBytes / MIB, 4, (i, done) => device.write(buffers[i % 4] ?? Buffer.alloc(MIB), i * MIB, false, done));
    await new Promise<void>((resolve, reject) => device.flush((err) => (err === null ? resolve() : reject(err))));
    return { write: device.sizeBytes / MIB / (ms / 1000), read: await sequentialRead(device, MIB, 4) };
  } finally {
    await closeDevice(device);
    rmSync(overlayPath, { force: true });
  }
}

async function measure(dir: string, basePath: string, clusterBytes: number, round: number): Promise<Sample> {
  const install = await measureInstall(dir, basePath, clusterBytes, round);
  const firstTouchIops = await measureFirstTouch(dir, basePath, clusterBytes, round);
  const overlayPath = join(dir, `overlay-${clusterBytes}-${round}.ovl`);
  await createOverlay(overlayPath, basePath, { clusterBytes });
  const device = await openOverlayDevice(overlayPath, basePath);
  try {
    const data = randomFillSync(Buffer.alloc(4 * KIB));
    const offsets = randomOffsets(WRITES, 12345 + round);
    const writeMs = await runQueued(WRITES, WRITE_QUEUE_DEPTH, (i, done) => device.write(data, offsets[i] ?? 0, false, done));
    const rewriteMs = await runQueued(WRITES, WRITE_QUEUE_DEPTH, (i, done) => device.write(data, offsets[i] ?? 0, false, done));
    await new Promise<void>((resolve, reject) => device.flush((err) => (err === null ? resolve() : reject(err))));
    const seqRead64kMiBs = await sequentialRead(device, 64 * KIB, 8);
    const seqRead1mMiBs = await sequentialRead(device, MIB, 4);
    const readOffsets = randomOffsets(RANDOM_READS, 999 + round);
    const readBuffers = Array.from({ length: 16 }, () => Buffer.allocUnsafe(4 * KIB));
    const readMs = await runQueued(RANDOM_READS, 16, (i, done) => device.read(readBuffers[i % 16] ?? Buffer.alloc(4 * KIB), readOffsets[i] ?? 0, done));
    return {
      installWriteMiBs: install.write,
      installReadMiBs: install.read,
      firstTouchIops,
      randomWriteIops: WRITES / (writeMs / 1000),
      randomRewriteIops: WRITES / (rewriteMs / 1000),
      seqRead64kMiBs,
      seqRead1mMiBs,
      randomRead4kIops: RANDOM_READS / (readMs / 1000),
      overlayMiB: device.spaceUsage().fileBytes / MIB,
    };
  } finally {
    await closeDevice(device);
    rmSync(overlayPath, { force: true });
  }
}

/** The same reads straight from the base file: the ceiling an overlay could reach. */
async function measurePlainFile(basePath: string): Promise<Sample> {
  const device = await openFileDevice(basePath, { readOnly: true });
  try {
    const seqRead64kMiBs = await sequentialRead(device, 64 * KIB, 8);
    const seqRead1mMiBs = await sequentialRead(device, MIB, 4);
    const readOffsets = randomOffsets(RANDOM_READS, 999);
    const readBuffers = Array.from({ length: 16 }, () => Buffer.allocUnsafe(4 * KIB));
    const readMs = await runQueued(RANDOM_READS, 16, (i, done) => device.read(readBuffers[i % 16] ?? Buffer.alloc(4 * KIB), readOffsets[i] ?? 0, done));
    return { installWriteMiBs: NaN, installReadMiBs: NaN, firstTouchIops: NaN, randomWriteIops: NaN, randomRewriteIops: NaN, seqRead64kMiBs, seqRead1mMiBs, randomRead4kIops: RANDOM_READS / (readMs / 1000), overlayMiB: NaN };
  } finally {
    await closeDevice(device);
  }
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(DIR, 'diskless-overlay-bench-'));
  // Removed at the end and on Ctrl-C: 256 MiB of RAM per run otherwise stays in /dev/shm.
  const removeDir = onCleanup(() => rmSync(dir, { recursive: true, force: true }));
  try {
    await runBench(dir);
  } finally {
    removeDir();
  }
}

async function runBench(dir: string): Promise<void> {
  const basePath = join(dir, 'base.img');
  writeFileSync(basePath, randomFillSync(Buffer.alloc(BASE_BYTES)));
  process.stdout.write(`base ${BASE_BYTES / MIB} MiB in ${DIR} (${statSync(basePath).blocks * 512 === BASE_BYTES ? 'fully allocated' : 'sparse'}); ${WRITES} 4 KiB writes at QD ${WRITE_QUEUE_DEPTH}; ${ROUNDS} rounds\n\n`);
  const peers = CLUSTERS.map((clusterBytes) => ({ name: `${clusterBytes / KIB} KiB`, clusterBytes }));
  const samples = await alternate(peers, ROUNDS, (peer, round) => measure(dir, basePath, peer.clusterBytes, round));
  const plain = await measurePlainFile(basePath);
  const fmt = (value: number, digits = 0): string => (Number.isFinite(value) ? value.toFixed(digits) : '-');
  const row = (name: string, s: readonly Sample[]): string[] => {
    const m = (pick: (x: Sample) => number): number => median(s.map(pick));
    return [
      name,
      fmt(m((x) => x.firstTouchIops)),
      fmt(m((x) => x.randomWriteIops)),
      fmt(m((x) => x.randomRewriteIops)),
      fmt(m((x) => x.seqRead64kMiBs)),
      fmt(m((x) => x.seqRead1mMiBs)),
      fmt(m((x) => x.randomRead4kIops)),
      fmt(m((x) => x.overlayMiB), 1),
      fmt(m((x) => x.installWriteMiBs)),
      fmt(m((x) => x.installReadMiBs)),
    ];
  };
  const rows = peers.map((peer) => row(peer.name, samples.get(peer.name) ?? []));
  rows.push(row('plain file (no overlay)', [plain]));
  process.stdout.write(formatTable(['cluster', '4K first-touch IOPS', '4K scattered IOPS', '4K rewrite IOPS', '64K seq read MiB/s', '1M seq read MiB/s', '4K rand read IOPS', 'overlay MiB', 'install write MiB/s', 'install read MiB/s'], rows));
}

main().catch(fail);
