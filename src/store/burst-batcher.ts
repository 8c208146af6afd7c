// Group commit: items queued during one event-loop turn are committed together in one
// transaction, and every caller waits for that same commit (as dhcp/lease-store.ts does with
// one fdatasync). A burst of boot events or DHCP ACKs then costs one commit, not one each.
// Items queued while a commit runs go into the next one, so commits never overlap.

interface Waiter {
  readonly resolve: () => void;
  readonly reject: (err: unknown) => void;
}

export interface BatcherStats {
  /** Commits run (each one transaction). */
  readonly commits: number;
  /** Items committed. */
  readonly items: number;
}

export class BurstBatcher<T> {
  readonly #commit: (items: readonly T[]) => Promise<void>;
  #pending: T[] = [];
  #waiters: Waiter[] = [];
  #scheduled = false;
  #running: Promise<void> | null = null;
  #commits = 0;
  #items = 0;

  constructor(commit: (items: readonly T[]) => Promise<void>) {
    this.#commit = commit;
  }

  /** Queues items; resolves once the commit that holds them has succeeded. */
  add(items: readonly T[]): Promise<void> {
    if (items.length === 0) return Promise.resolve();
    this.#pending.push(...items);
    return new Promise((resolve, reject) => {
      this.#waiters.push({ resolve, reject });
      this.#schedule();
    });
  }

  /** Resolves when everything queued so far is committed (or has failed). */
  async drain(): Promise<void> {
    while (this.#pending.length > 0 || this.#scheduled || this.#running !== null) {
      await (this.#running ?? new Promise((r) => setImmediate(r)));
    }
  }

  stats(): BatcherStats {
    return { commits: this.#commits, items: this.#items };
  }

  #schedule(): void {
    if (this.#scheduled || this.#running !== null) return;
    this.#scheduled = true;
    // setImmediate, not a microtask: the rest of this turn's I/O callbacks queue into the batch.
    setImmediate(() => {
      this.#scheduled = false;
      this.#running = this.#run().finally(() => {
        this.#running = null;
        if (this.#pending.length > 0) this.#schedule();
      });
    });
  }

  async #run(): Promise<void> {
    const items = this.#pending;
    const waiters = this.#waiters;
    this.#pending = [];
    this.#waiters = [];
    try {
      await this.#commit(items);
      this.#commits += 1;
      this.#items += items.length;
      for (const w of waiters) w.resolve();
    } catch (err) {
      for (const w of waiters) w.reject(err);
    }
  }
}
