// A fixed-bucket histogram for Prometheus (text format 0.0.4: `_bucket{le}`, `_sum`, `_count`).
// observe() sits on the iSCSI command path, so it allocates nothing and only scans a short
// Float64Array from the lowest bound up (latencies mostly land in the first few buckets).
// Counts are kept per bucket and made cumulative only on export, at scrape time.

export class Histogram {
  /** Upper bounds in seconds (Prometheus `le`, inclusive), ascending; +Inf is implicit. */
  readonly bounds: Float64Array;
  /**
   * Observations per bucket, not cumulative; the last slot is the +Inf bucket. Float64, not
   * Uint32: a busy target passes 2^32 commands in hours, and doubles count exactly to 2^53.
   */
  readonly counts: Float64Array;
  sum = 0;
  count = 0;

  constructor(bounds: ArrayLike<number>) {
    for (let i = 0; i < bounds.length; i++) {
      const bound = bounds[i] ?? Number.NaN;
      if (!Number.isFinite(bound)) throw new RangeError(`histogram bound ${bound} is not a finite number (+Inf is implicit)`);
      if (i > 0 && !(bound > (bounds[i - 1] ?? Number.NaN))) throw new RangeError('histogram bounds must be strictly ascending');
    }
    this.bounds = Float64Array.from(bounds);
    this.counts = new Float64Array(bounds.length + 1);
  }

  /** Counts one observation; NaN is dropped (it would poison the sum for good). */
  observe(seconds: number): void {
    if (seconds !== seconds) return;
    const bounds = this.bounds;
    const n = bounds.length;
    let i = 0;
    // `<=`: a value equal to a bound belongs to that bound's bucket (Prometheus `le`).
    while (i < n && !(seconds <= (bounds[i] as number))) i++;
    (this.counts[i] as number)++;
    this.sum += seconds;
    this.count++;
  }

  /** Adds another histogram's observations (a finished session's into its target's totals). */
  add(other: Histogram): void {
    if (!sameBounds(this.bounds, other.bounds)) throw new RangeError('cannot add histograms with different bounds');
    const counts = this.counts;
    const theirs = other.counts;
    for (let i = 0; i < counts.length; i++) counts[i] = (counts[i] as number) + (theirs[i] as number);
    this.sum += other.sum;
    this.count += other.count;
  }

  /** A copy with the same bounds and observations. */
  clone(): Histogram {
    const copy = new Histogram(this.bounds);
    copy.add(this);
    return copy;
  }

  /** Observations at or below each bound, then the +Inf bucket (equal to `count`). */
  cumulative(): number[] {
    const out = new Array<number>(this.counts.length);
    let running = 0;
    for (let i = 0; i < this.counts.length; i++) {
      running += this.counts[i] as number;
      out[i] = running;
    }
    return out;
  }
}

function sameBounds(a: Float64Array, b: Float64Array): boolean {
  if (a === b) return true;
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
