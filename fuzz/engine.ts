// The coverage-guided loop: seeds (built in + fuzz/corpus/NAME/), then mutate a corpus entry,
// run it, keep it when it reaches a new block (or a new hit-count bucket of one). A crash is an
// exception the target did not expect (anything but DecodeError/DisklessError): it is kept,
// de-duplicated by the top of its stack, with the input that caused it. An input that takes
// longer than `slowMs` is reported as slow (a possible hang or blow-up).
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { BlockCoverage } from './coverage.ts';
import { seededRandom } from '../src/lib/seeded-random.ts';
import { mutate } from './mutate.ts';
import type { FuzzTarget } from './targets.ts';

export interface FuzzOptions {
  readonly target: FuzzTarget;
  readonly seconds: number;
  readonly seed?: number;
  /** Read extra seeds from here (fuzz/corpus/NAME). */
  readonly corpusDir?: string;
  /** Write inputs that found new coverage here (may be corpusDir). */
  readonly saveDir?: string;
  /** Write crashing inputs and their stacks here. */
  readonly crashDir?: string;
  readonly slowMs?: number;
  /** End at the first crash (the engine self-test). */
  readonly stopOnCrash?: boolean;
  readonly log?: (line: string) => void;
}

export interface Crash {
  readonly input: Buffer;
  readonly message: string;
  readonly stack: string;
  /** The first frames of the stack: one crash per place in the code. */
  readonly signature: string;
}

export interface FuzzReport {
  readonly target: string;
  readonly execs: number;
  readonly seconds: number;
  readonly seeds: number;
  readonly corpus: number;
  readonly blocks: number;
  readonly features: number;
  /** Blocks reached by the seeds alone, to show what fuzzing added. */
  readonly seedBlocks: number;
  readonly crashes: readonly Crash[];
  readonly slow: ReadonlyArray<{ input: Buffer; ms: number }>;
}

const hash = (b: Buffer): string => createHash('sha1').update(b).digest('hex').slice(0, 16);

function signatureOf(err: unknown): { message: string; stack: string; signature: string } {
  const e = err instanceof Error ? err : new Error(String(err));
  const stack = e.stack ?? e.message;
  const frames = stack
    .split('\n')
    .filter((l) => l.trim().startsWith('at '))
    .slice(0, 3)
    .map((l) => l.trim().replace(/:\d+\)?$/, ''));
  return { message: `${e.name}: ${e.message}`, stack, signature: `${e.name} ${frames.join(' | ')}` };
}

export function readCorpus(dir: string | undefined): Buffer[] {
  if (dir === undefined || !fs.existsSync(dir)) return [];
  return fs
    .readdirSync(dir)
    .sort()
    .map((f) => path.join(dir, f))
    .filter((f) => fs.statSync(f).isFile())
    .map((f) => fs.readFileSync(f));
}

export async function fuzz(options: FuzzOptions): Promise<FuzzReport> {
  const { target } = options;
  const random = seededRandom(options.seed ?? Date.now() & 0x7fffffff);
  const slowMs = options.slowMs ?? 1000;
  const log = options.log ?? (() => undefined);
  const coverage = new BlockCoverage((url) => target.cover.some((c) => url.includes(c)));
  const dictionary = target.dictionary.map((t) => Buffer.from(t, 'latin1'));
  const corpus: Buffer[] = [];
  const known = new Set<string>();
  const crashes = new Map<string, Crash>();
  const slow: Array<{ input: Buffer; ms: number }> = [];
  let execs = 0;

  const save = (dir: string | undefined, name: string, data: Buffer | string): void => {
    if (dir === undefined) return;
    fs.mkdirSync(dir, { recursive: true });
    fs.writeFileSync(path.join(dir, name), data);
  };

  /** Runs one input; returns the new features it found (0 for a crash). */
  const execute = async (input: Buffer): Promise<number> => {
    execs++;
    const started = performance.now();
    try {
      await target.run(input);
    } catch (err) {
      coverage.collect();
      const { message, stack, signature } = signatureOf(err);
      if (!crashes.has(signature)) {
        crashes.set(signature, { input, message, stack, signature });
        const name = hash(input);
        save(options.crashDir, `${name}.bin`, input);
        save(options.crashDir, `${name}.txt`, `${target.name}\n${message}\n${stack}\n`);
        log(`CRASH ${message} (${input.length} bytes, ${name})`);
      }
      return 0;
    }
    const ms = performance.now() - started;
    if (ms > slowMs && slow.length < 20) {
      slow.push({ input, ms });
      save(options.crashDir, `slow-${hash(input)}.bin`, input);
      log(`SLOW ${ms.toFixed(0)} ms (${input.length} bytes)`);
    }
    return coverage.collect();
  };

  coverage.reset();
  const seeds = [...target.seeds(), ...readCorpus(options.corpusDir)];
  for (const seed of seeds) {
    const key = hash(seed);
    if (known.has(key)) continue;
    known.add(key);
    await execute(seed);
    corpus.push(seed);
  }
  const seedBlocks = coverage.blocks;
  log(`${target.name}: ${corpus.length} seeds reach ${seedBlocks} blocks`);
  if (corpus.length === 0) corpus.push(Buffer.alloc(0));

  const deadline = performance.now() + options.seconds * 1000;
  let lastLog = performance.now();
  const context = { random, dictionary, maxLength: target.maxLength, other: () => corpus[random(corpus.length)] ?? Buffer.alloc(0) };
  while (performance.now() < deadline && !(options.stopOnCrash === true && crashes.size > 0)) {
    // Newer entries (found by fuzzing) are picked more often: they are the frontier.
    const index = random(2) === 0 ? corpus.length - 1 - random(Math.min(corpus.length, 16)) : random(corpus.length);
    const parent = corpus[index] ?? Buffer.alloc(0);
    const child = mutate(parent, context);
    const fresh = await execute(child);
    if (fresh > 0) {
      const key = hash(child);
      if (!known.has(key)) {
        known.add(key);
        corpus.push(child);
        save(options.saveDir, key, child);
      }
    }
    if (performance.now() - lastLog > 5000) {
      lastLog = performance.now();
      log(`${target.name}: ${execs} execs, corpus ${corpus.length}, ${coverage.blocks} blocks, ${crashes.size} crashes`);
    }
  }
  const report: FuzzReport = {
    target: target.name,
    execs,
    seconds: options.seconds,
    seeds: seeds.length,
    corpus: corpus.length,
    blocks: coverage.blocks,
    features: coverage.features,
    seedBlocks,
    crashes: [...crashes.values()],
    slow,
  };
  coverage.stop();
  return report;
}

/**
 * Shrinks `dir` to the entries that reach ranges the others do not (smallest first, greedy,
 * without hit-count buckets), with the built-in seeds counted as already kept. Returns
 * [before, after].
 */
export async function minimizeCorpus(target: FuzzTarget, dir: string): Promise<[number, number]> {
  const coverage = new BlockCoverage((url) => target.cover.some((c) => url.includes(c)), { coarse: true });
  coverage.reset();
  for (const seed of target.seeds()) {
    try {
      await target.run(seed);
    } catch {
      // a crashing seed still counts for coverage
    }
    coverage.collect();
  }
  const files = fs.existsSync(dir) ? fs.readdirSync(dir).map((f) => path.join(dir, f)) : [];
  const entries = files.map((f) => ({ file: f, data: fs.readFileSync(f) })).sort((a, b) => a.data.length - b.data.length);
  let kept = 0;
  for (const entry of entries) {
    try {
      await target.run(entry.data);
    } catch {
      // keep crashers out of the corpus: they belong in crashes/
      coverage.collect();
      fs.rmSync(entry.file);
      continue;
    }
    if (coverage.collect() > 0) kept++;
    else fs.rmSync(entry.file);
  }
  coverage.stop();
  return [entries.length, kept];
}
