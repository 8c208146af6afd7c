// Crash consistency of the overlay under SIGKILL. A child (test/helpers/overlay-crash-child.ts)
// runs a seeded stream of writes, discards, FUA writes and flushes and logs each step; the
// parent kills it at a random moment, then checks that
//   - checkOverlay finds the metadata clean, and the overlay opens;
//   - every block holds either its content at its last durability point or the content of an
//     operation issued after that point, never anything else (no torn map, no stale slot).
// A block's durability point is the latest operation on it that was acknowledged durable: a FUA
// write whose completion was logged, or any operation that completed before a flush that
// completed. Operations on one block apply in issue order (the overlay serialises overlapping
// writes), so anything older than that point must be gone.
//
// OVERLAY_CRASH_ITERATIONS (default 40) sets the number of seeds; OVERLAY_CRASH_SEED the first.
// OVERLAY_CRASH_KEEP=1 keeps each run's folder (base, overlay, the child's log in log.txt); a
// failed run's folder is kept anyway, and the failure names it.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import { checkOverlay, createOverlay, openOverlayDevice } from '../../src/storage/overlay/index.ts';
import { seededRandom } from '../../src/lib/seeded-random.ts';
import { CRASH_BLOCK_BYTES, blockPattern } from '../helpers/overlay-crash-child.ts';

const ITERATIONS = Number(process.env.OVERLAY_CRASH_ITERATIONS ?? 40);
const FIRST_SEED = Number(process.env.OVERLAY_CRASH_SEED ?? 1);
/** Two children at a time: the machine has at least two cores, and each run mostly waits. */
const PARALLEL = 2;
const CHILD = path.resolve(import.meta.dirname, '../helpers/overlay-crash-child.ts');
const ROOT = path.resolve(import.meta.dirname, '../..');
const CLUSTER_SIZES = [4096, 16384, 65536] as const;

const dirs: string[] = [];
/** Folders of failed runs: kept for a look at the files (the failure names its folder). */
const failedDirs = new Set<string>();
after(() => {
  if (process.env.OVERLAY_CRASH_KEEP === '1') return;
  for (const dir of dirs) if (!failedDirs.has(dir)) fs.rmSync(dir, { recursive: true, force: true });
});

/** What the log says happened, op by op. */
interface LoggedOp {
  readonly id: number;
  readonly kind: 'w' | 'd';
  readonly block: number;
  readonly count: number;
  readonly durable: boolean;
  completed: boolean;
  /** The op's position in the history of each of its blocks. */
  readonly positions: number[];
}

interface Outcome {
  readonly ops: number;
  readonly completed: number;
  readonly durablePoints: number;
  readonly inFlightAtKill: number;
  readonly blocksChecked: number;
}

/** Runs the child for `seed`, kills it, and checks the overlay it leaves. */
async function crashOnce(seed: number): Promise<Outcome> {
  const next = seededRandom(seed);
  // Half the runs on tmpfs (synchronous small I/O in the device), half on the disk.
  const parent = seed % 2 === 0 && fs.existsSync('/dev/shm') ? '/dev/shm' : os.tmpdir();
  const dir = fs.mkdtempSync(path.join(parent, `diskless-overlay-crash-${seed}-`));
  dirs.push(dir);
  const basePath = path.join(dir, 'base.img');
  const overlayPath = path.join(dir, 'disk.ovl');
  const sizeBytes = 4 * 1024 * 1024 + (next(2) === 0 ? 0 : 3 * CRASH_BLOCK_BYTES);
  const blocks = sizeBytes / CRASH_BLOCK_BYTES;
  const base = Buffer.concat(Array.from({ length: blocks }, (_, block) => blockPattern(0, block)));
  fs.writeFileSync(basePath, base);
  await createOverlay(overlayPath, basePath, { clusterBytes: CLUSTER_SIZES[next(CLUSTER_SIZES.length)] ?? 16384 });

  const log = await runAndKill(seed, overlayPath, basePath, 30 + next(500));
  fs.writeFileSync(path.join(dir, 'log.txt'), log.join('\n'));
  // Opening it trims unreferenced slots off the end: a copy keeps what the kill left.
  fs.copyFileSync(overlayPath, path.join(dir, 'disk.ovl.at-kill'));
  try {
    return await checkAfterKill(seed, log, overlayPath, basePath, sizeBytes);
  } catch (err) {
    // A failure is rare and depends on where the kill landed: keep what it left behind.
    failedDirs.add(dir);
    if (err instanceof Error) err.message += ` (base, overlay as the kill left it, and the child's log kept in ${dir})`;
    throw err;
  }
}

/** Checks the overlay a killed child left (see the top); what the run did, for the totals. */
async function checkAfterKill(seed: number, log: readonly string[], overlayPath: string, basePath: string, sizeBytes: number): Promise<Outcome> {
  const blocks = sizeBytes / CRASH_BLOCK_BYTES;
  const { ops, perBlock, durableIndex, durablePoints } = replay(log, blocks);

  const report = await checkOverlay(overlayPath);
  assert.ok(report.ok, `seed ${seed}: checkOverlay after SIGKILL:\n${report.problems.join('\n')}`);
  const device = await openOverlayDevice(overlayPath, basePath);
  const disk = Buffer.alloc(sizeBytes);
  try {
    await new Promise<void>((resolve, reject) => device.read(disk, 0, (err) => (err === null ? resolve() : reject(err))));
  } finally {
    await new Promise<void>((resolve, reject) => device.close((err) => (err === null ? resolve() : reject(err))));
  }
  for (let block = 0; block < blocks; block++) {
    const found = disk.subarray(block * CRASH_BLOCK_BYTES, (block + 1) * CRASH_BLOCK_BYTES);
    const history = perBlock[block] ?? [];
    const from = durableIndex[block] ?? -1;
    // From the durability point on; with none, the base image too.
    const allowed: (LoggedOp | null)[] = from < 0 ? [null, ...history] : history.slice(from);
    const matches = allowed.some((op) => found.equals(op === null ? blockPattern(0, block) : op.kind === 'd' ? ZERO_BLOCK : blockPattern(op.id, block)));
    if (!matches) {
      const describe = (op: LoggedOp | null): string => (op === null ? 'base' : `${op.kind}${op.id}${op.durable ? '(FUA)' : ''}${op.completed ? '' : '(in flight)'}`);
      assert.fail(
        `seed ${seed}: block ${block} holds ${found.equals(ZERO_BLOCK) ? 'zeros' : `op ${found.readUInt32LE(0)}'s data for block ${found.readUInt32LE(4)}`}; ` +
          `allowed: ${allowed.map(describe).join(', ')}; whole history: ${history.map(describe).join(', ')}`,
      );
    }
  }
  const opList = [...ops.values()];
  return { ops: opList.length, completed: opList.filter((op) => op.completed).length, durablePoints, inFlightAtKill: opList.filter((op) => !op.completed).length, blocksChecked: blocks };
}

const ZERO_BLOCK = Buffer.alloc(CRASH_BLOCK_BYTES);

/** Spawns the child, waits for "ready", lets it run `runMs`, SIGKILLs it; returns its log lines. */
function runAndKill(seed: number, overlayPath: string, basePath: string, runMs: number): Promise<string[]> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', CHILD, String(seed), overlayPath, basePath], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    let timer: NodeJS.Timeout | undefined;
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (chunk: string) => {
      stdout += chunk;
      if (timer === undefined && stdout.includes('ready')) timer = setTimeout(() => child.kill('SIGKILL'), runMs);
    });
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('error', reject);
    child.on('close', (code, signal) => {
      if (timer !== undefined) clearTimeout(timer);
      if (signal !== 'SIGKILL') return reject(new Error(`seed ${seed}: child ended with ${code ?? signal} before it was killed:\n${stderr}`));
      // A line cut short by the kill is dropped: pipe writes this small are atomic, so a
      // partial line can only be the log's last, and the step it announced never started.
      const lines = stdout.split('\n');
      lines.pop();
      resolve(lines);
    });
  });
}

/** Builds each block's history (in issue order) and the index of its last durable op. */
function replay(lines: readonly string[], blocks: number): { ops: Map<number, LoggedOp>; perBlock: LoggedOp[][]; durableIndex: number[]; durablePoints: number } {
  const ops = new Map<number, LoggedOp>();
  const perBlock: LoggedOp[][] = Array.from({ length: blocks }, () => []);
  const durableIndex: number[] = new Array<number>(blocks).fill(-1);
  const completedOrder: LoggedOp[] = [];
  const flushCovers = new Map<number, number>();
  let durablePoints = 0;
  let flushedUpTo = 0;
  const makeDurable = (op: LoggedOp): void => {
    op.positions.forEach((index, i) => {
      const block = op.block + i;
      if (index > (durableIndex[block] ?? -1)) durableIndex[block] = index;
    });
  };
  for (const line of lines) {
    const [tag, idText, kind, blockText, countText, durableText] = line.split(' ');
    const id = Number(idText);
    if (tag === 'i') {
      const op: LoggedOp = { id, kind: kind === 'd' ? 'd' : 'w', block: Number(blockText), count: Number(countText), durable: durableText === '1', completed: false, positions: [] };
      ops.set(id, op);
      for (let block = op.block; block < op.block + op.count; block++) {
        const history = perBlock[block];
        assert.ok(history !== undefined, `op ${id} reaches past the disk`);
        op.positions.push(history.length);
        history.push(op);
      }
    } else if (tag === 'd') {
      const op = ops.get(id);
      assert.ok(op !== undefined, `completion of unknown op ${id}`);
      op.completed = true;
      completedOrder.push(op);
      if (op.durable) {
        makeDurable(op);
        durablePoints++;
      }
    } else if (tag === 'f') {
      flushCovers.set(id, completedOrder.length); // ops completed before the flush was issued
    } else if (tag === 'F') {
      // Flushes cover growing prefixes of the completion order: each op is made durable once.
      const covered = flushCovers.get(id) ?? 0;
      for (; flushedUpTo < covered; flushedUpTo++) {
        const op = completedOrder[flushedUpTo];
        if (op !== undefined) makeDurable(op);
      }
      durablePoints++;
    }
  }
  return { ops, perBlock, durableIndex, durablePoints };
}

test(`the overlay survives SIGKILL at random points (${ITERATIONS} seeds from ${FIRST_SEED})`, { timeout: Math.max(120_000, ITERATIONS * 5_000) }, async (t) => {
  const seeds = Array.from({ length: ITERATIONS }, (_, i) => FIRST_SEED + i);
  const outcomes: Outcome[] = [];
  const worker = async (): Promise<void> => {
    for (let seed = seeds.shift(); seed !== undefined; seed = seeds.shift()) outcomes.push(await crashOnce(seed));
  };
  await Promise.all(Array.from({ length: PARALLEL }, worker));
  const sum = (pick: (o: Outcome) => number): number => outcomes.reduce((total, o) => total + pick(o), 0);
  t.diagnostic(`${outcomes.length} crashes: ${sum((o) => o.ops)} ops issued, ${sum((o) => o.completed)} completed, ${sum((o) => o.durablePoints)} durability points, ${sum((o) => o.inFlightAtKill)} in flight at the kill, ${sum((o) => o.blocksChecked)} blocks checked`);
  assert.equal(outcomes.length, ITERATIONS);
  // Not vacuous: the runs did work, made durability points and were killed mid-stream.
  assert.ok(sum((o) => o.durablePoints) > ITERATIONS, 'durability points were reached');
  assert.ok(outcomes.filter((o) => o.inFlightAtKill > 0).length > ITERATIONS / 2, 'most kills landed with operations in flight');
});
