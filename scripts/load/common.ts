// Shared by the load scripts: options, latency percentiles, and a sampler of the server
// process's memory and CPU (from /proc, so the server runs in a process of its own).
import fs from 'node:fs';

export function option(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  const value = i >= 0 ? Number(process.argv[i + 1]) : Number.NaN;
  return Number.isFinite(value) ? value : fallback;
}

export class Latencies {
  readonly #samples: number[] = [];
  add(ms: number): void {
    this.#samples.push(ms);
  }
  get count(): number {
    return this.#samples.length;
  }
  percentile(p: number): number {
    if (this.#samples.length === 0) return Number.NaN;
    const sorted = [...this.#samples].sort((a, b) => a - b);
    return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? Number.NaN;
  }
  summary(): string {
    if (this.count === 0) return 'no samples';
    const f = (v: number): string => (v < 10 ? v.toFixed(2) : v.toFixed(0));
    return `n=${this.count} p50=${f(this.percentile(50))} ms p90=${f(this.percentile(90))} ms p99=${f(this.percentile(99))} ms max=${f(this.percentile(100))} ms`;
  }
}

export interface ProcessSample {
  readonly atS: number;
  readonly rssMiB: number;
  readonly cpuSeconds: number;
}

/** Samples a process's RSS and CPU time once a second until stop(). */
export class ProcessSampler {
  readonly samples: ProcessSample[] = [];
  readonly #timer: NodeJS.Timeout;
  readonly #started = Date.now();

  constructor(readonly pid: number) {
    this.#take();
    this.#timer = setInterval(() => this.#take(), 1000);
  }

  #take(): void {
    try {
      const status = fs.readFileSync(`/proc/${this.pid}/status`, 'utf8');
      const stat = fs.readFileSync(`/proc/${this.pid}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      const ticks = Number(fields[11]) + Number(fields[12]); // utime + stime
      this.samples.push({ atS: (Date.now() - this.#started) / 1000, rssMiB: Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0) / 1024, cpuSeconds: ticks / 100 });
    } catch {
      // the process is gone
    }
  }

  stop(): void {
    clearInterval(this.#timer);
    this.#take();
  }

  summary(): string {
    const rss = this.samples.map((s) => s.rssMiB);
    const first = this.samples[0];
    const last = this.samples.at(-1);
    const cpu = first !== undefined && last !== undefined && last.atS > first.atS ? ((last.cpuSeconds - first.cpuSeconds) / (last.atS - first.atS)) * 100 : 0;
    return `server RSS start ${rss[0]?.toFixed(0)} MiB, peak ${Math.max(...rss).toFixed(0)} MiB, end ${rss.at(-1)?.toFixed(0)} MiB; server CPU ${cpu.toFixed(0)}% of one core`;
  }

  /** RSS every `step` seconds, for the "memory over time" line. */
  timeline(step = 10): string {
    return this.samples
      .filter((s, i) => i === 0 || Math.floor(s.atS / step) !== Math.floor((this.samples[i - 1]?.atS ?? 0) / step))
      .map((s) => `${s.atS.toFixed(0)}s:${s.rssMiB.toFixed(0)}`)
      .join(' ');
  }
}

/**
 * Percentiles of a histogram from the server's /metrics (Prometheus text), per label set that
 * matches `filter`: the upper bound of the bucket where the cumulative count crosses p.
 */
export function histogramPercentiles(metrics: string, name: string, filter: (labels: string) => boolean = () => true): Map<string, { count: number; p50: string; p99: string }> {
  const series = new Map<string, Array<[number, number]>>();
  for (const m of metrics.matchAll(new RegExp(`^${name}_bucket\\{(.*)\\} (\\d+)$`, 'gm'))) {
    const labels = m[1] ?? '';
    const le = /le="([^"]+)"/.exec(labels)?.[1] ?? '+Inf';
    const key = labels.replace(/,?le="[^"]+"/, '');
    if (!filter(key)) continue;
    const list = series.get(key) ?? [];
    list.push([le === '+Inf' ? Number.POSITIVE_INFINITY : Number(le), Number(m[2])]);
    series.set(key, list);
  }
  const out = new Map<string, { count: number; p50: string; p99: string }>();
  for (const [key, buckets] of series) {
    buckets.sort((a, b) => a[0] - b[0]);
    const total = buckets.at(-1)?.[1] ?? 0;
    const at = (p: number): string => {
      const bound = buckets.find(([, n]) => n >= total * p)?.[0] ?? Number.POSITIVE_INFINITY;
      return bound === Number.POSITIVE_INFINITY ? '>max bucket' : `≤${(bound * 1000).toFixed(bound < 0.001 ? 2 : 1)} ms`;
    };
    if (total > 0) out.set(key, { count: total, p50: at(0.5), p99: at(0.99) });
  }
  return out;
}
