// When a buffered write to a disk-backed file (an overlay, a plain file disk) may run on the
// event loop.
//
// A buffered write only copies into the page cache: for the overlay's 16-256 KiB writes a few
// tens of microseconds, less than handing it to libuv's thread pool (a queue, a thread wake-up,
// two context switches and a completion per write, which on 2 cores cost more than the copy;
// `finish_task_switch` was 10% of a boot storm's profile). Measured in the boot storm (20
// machines writing 16 MiB each to their overlays): write p50 7.0 -> 4.8 ms, p99 35-46 -> 14-29
// ms, aggregate 812-958 -> 933-1,019 MiB/s, server CPU 1.32-1.47 -> 1.08-1.36 s.
//
// The danger is the write that does wait: when dirty pages pass the kernel's limits, a writer is
// throttled (balance_dirty_pages) for as long as writeback needs, and on the event loop that
// stalls every connection of the server. Linux offers no way to ask first (RWF_NOWAIT is refused
// for buffered writes on ext4). So the guard times every such write: one that took longer than
// SLOW_WRITE_MS sends all writes back to the pool for a while, twice as long each time it
// happens again, so a throttled system costs at most one stall per back-off period.
export const SLOW_WRITE_MS = 10;
const FIRST_BACKOFF_MS = 1000;
const MAX_BACKOFF_MS = 60_000;
/** This long without a slow write after a pause ends forgets the back-off. */
const FORGIVE_MS = 60_000;

export class PageCacheWriteGuard {
  #pausedUntilMs = 0;
  #backoffMs = FIRST_BACKOFF_MS;
  /** Writes that were slow (each paused the event-loop path), for tests and the log. */
  slowWrites = 0;
  /** Told of each slow write and how long writes now go to the pool (main.ts logs it). */
  onSlow: ((ms: number, pauseMs: number) => void) | null = null;

  constructor(private readonly now: () => number = () => performance.now()) {}

  /** Whether a write may run on the event loop now. */
  allows(): boolean {
    return this.now() >= this.#pausedUntilMs;
  }

  /** How long a write on the event loop took; a slow one pauses the event-loop path. */
  took(ms: number): void {
    if (ms <= SLOW_WRITE_MS) return;
    const now = this.now();
    this.slowWrites++;
    if (this.slowWrites === 1 || now - this.#pausedUntilMs > FORGIVE_MS) this.#backoffMs = FIRST_BACKOFF_MS;
    else this.#backoffMs = Math.min(MAX_BACKOFF_MS, this.#backoffMs * 2);
    this.#pausedUntilMs = now + this.#backoffMs;
    this.onSlow?.(ms, this.#backoffMs);
  }
}

/** The process's guard: throttling is the kernel's, for every file at once. */
export const pageCacheWrites = new PageCacheWriteGuard();
