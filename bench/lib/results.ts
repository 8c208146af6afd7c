// Each benchmark script records its targeted results here (bench-results/NAME.json), and
// bench/summary.ts prints them as one table at the end of `npm run bench`: the targets,
// what this run measured, and whether each is met. A ratio is the median of the per-round
// ratios diskless/peer (rounds alternate the servers, so drift in the machine's load hits both
// sides of a pair alike), not the ratio of two medians.
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { median } from './harness.ts';

export const RESULTS_DIR = process.env.BENCH_RESULTS_DIR ?? 'bench-results';

export interface TargetResult {
  /** What was measured, as in the table. */
  readonly name: string;
  readonly peer: string;
  /** Medians over the rounds, in `unit`. */
  readonly diskless: number;
  readonly peerValue: number;
  readonly unit: string;
  /** Median of the per-round ratios diskless/peer. */
  readonly ratio: number;
  readonly higherIsBetter: boolean;
  /** The target as text, e.g. ">= 1.2x". */
  readonly target: string;
  readonly met: boolean;
  readonly rounds: number;
  readonly note?: string | undefined;
}

/** Median of the per-round ratios a[i]/b[i] (rounds where both sides measured). */
export function pairedRatio(a: readonly number[], b: readonly number[]): number {
  const ratios: number[] = [];
  for (let i = 0; i < Math.min(a.length, b.length); i++) {
    const x = a[i];
    const y = b[i];
    if (x !== undefined && y !== undefined && y > 0 && Number.isFinite(x)) ratios.push(x / y);
  }
  return ratios.length === 0 ? Number.NaN : median(ratios);
}

/** A result against a ratio target: at least `min` (higher is better) or at most `max`. */
export function targetResult(
  fields: Omit<TargetResult, 'ratio' | 'target' | 'met' | 'diskless' | 'peerValue' | 'rounds'>,
  disklessRounds: readonly number[],
  peerRounds: readonly number[],
  bound: { readonly min: number } | { readonly max: number },
): TargetResult {
  const ratio = pairedRatio(disklessRounds, peerRounds);
  const met = 'min' in bound ? ratio >= bound.min : ratio <= bound.max;
  const target = 'min' in bound ? `>= ${bound.min}x` : `<= ${bound.max}x`;
  return { ...fields, diskless: median(disklessRounds), peerValue: median(peerRounds), ratio, target, met, rounds: Math.min(disklessRounds.length, peerRounds.length) };
}

/** Writes (replaces) one benchmark's results. */
export function recordResults(bench: string, results: readonly TargetResult[]): void {
  mkdirSync(RESULTS_DIR, { recursive: true });
  writeFileSync(join(RESULTS_DIR, `${bench}.json`), `${JSON.stringify({ bench, at: new Date().toISOString(), results }, null, 2)}\n`);
}

export interface RecordedBench {
  readonly bench: string;
  readonly at: string;
  readonly results: readonly TargetResult[];
}

function isRecorded(value: unknown): value is RecordedBench {
  return typeof value === 'object' && value !== null && Array.isArray((value as { results?: unknown }).results);
}

/** Every recorded benchmark, by file name. */
export function readResults(): RecordedBench[] {
  let files: string[];
  try {
    files = readdirSync(RESULTS_DIR).filter((f) => f.endsWith('.json')).sort();
  } catch {
    return [];
  }
  const out: RecordedBench[] = [];
  for (const file of files) {
    const parsed: unknown = JSON.parse(readFileSync(join(RESULTS_DIR, file), 'utf8'));
    if (isRecorded(parsed)) out.push({ ...parsed, bench: parsed.bench ?? file.replace(/\.json$/, '') });
  }
  return out;
}
