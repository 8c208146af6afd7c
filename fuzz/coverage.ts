// Block coverage from V8, through node:inspector's Profiler in precise mode: after each input,
// takePreciseCoverage returns execution counts since the last call (and resets them). V8 lists
// a block only where its count differs from the enclosing range's, so a function's list is
// {function: n} plus the blocks that ran a different number of times, typically the ones that
// did not run at all (count 0). Going one branch deeper therefore shows up as a new range with
// count 0 further in: every (range, hit-count bucket) pair, zero included, is a feature, and an
// input is kept when it shows a feature no input showed before (AFL-style buckets 1, 2, 3, 4-7,
// ...). Only scripts whose URL passes `include` count (the code under test, not the fuzzer).
import { Session } from 'node:inspector';

interface CoverageRange {
  readonly startOffset: number;
  readonly endOffset: number;
  readonly count: number;
}
interface FunctionCoverage {
  readonly ranges: readonly CoverageRange[];
}
interface ScriptCoverage {
  readonly scriptId: string;
  readonly url: string;
  readonly functions: readonly FunctionCoverage[];
}

/** AFL's hit-count classes: 0, 1, 2, 3, 4-7, 8-15, 16-31, 32-127, 128+. */
function bucket(count: number): number {
  if (count <= 3) return count;
  if (count <= 7) return 4;
  if (count <= 15) return 5;
  if (count <= 31) return 6;
  if (count <= 127) return 7;
  return 8;
}

export class BlockCoverage {
  readonly #session = new Session();
  readonly #seen = new Set<string>();
  readonly #blocks = new Set<string>();
  readonly #include: (url: string) => boolean;
  readonly #scriptIncluded = new Map<string, boolean>();

  readonly #coarse: boolean;

  /** `coarse`: ran or not, no hit-count buckets (for corpus minimization). */
  constructor(include: (url: string) => boolean, options: { coarse?: boolean } = {}) {
    this.#include = include;
    this.#coarse = options.coarse ?? false;
    this.#session.connect();
    this.#post('Profiler.enable');
    this.#post('Profiler.startPreciseCoverage', { callCount: true, detailed: true });
  }

  #post(method: string, params?: object): unknown {
    // A session on the main thread answers synchronously: the callback runs inside post().
    let result: unknown;
    let error: Error | null = null;
    this.#session.post(method, params, (err, r) => {
      error = err ?? null;
      result = r;
    });
    if (error !== null) throw error;
    return result;
  }

  /** Counts since the last call are dropped (call before running an input). */
  reset(): void {
    this.#post('Profiler.takePreciseCoverage');
  }

  /** Records what the last input reached; returns how many new features it found. */
  collect(): number {
    const { result } = this.#post('Profiler.takePreciseCoverage') as { result: ScriptCoverage[] };
    let fresh = 0;
    for (const script of result) {
      let included = this.#scriptIncluded.get(script.scriptId);
      if (included === undefined) {
        included = this.#include(script.url);
        this.#scriptIncluded.set(script.scriptId, included);
      }
      if (!included) continue;
      for (const fn of script.functions) {
        // An uncalled function is a single range with count 0: nothing learned.
        if ((fn.ranges[0]?.count ?? 0) === 0) continue;
        for (const range of fn.ranges) {
          const block = `${script.scriptId}:${range.startOffset}:${range.endOffset}`;
          const feature = `${block}:${this.#coarse ? Math.min(1, range.count) : bucket(range.count)}`;
          if (range.count > 0) this.#blocks.add(block);
          if (this.#seen.has(feature)) continue;
          this.#seen.add(feature);
          fresh++;
        }
      }
    }
    return fresh;
  }

  /** Distinct ranges V8 reported with a non-zero count so far (executed blocks that stood out). */
  get blocks(): number {
    return this.#blocks.size;
  }

  get features(): number {
    return this.#seen.size;
  }

  stop(): void {
    this.#post('Profiler.stopPreciseCoverage');
    this.#post('Profiler.disable');
    this.#session.disconnect();
  }
}
