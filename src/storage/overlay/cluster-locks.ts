// Per-cluster serialisation of writes and discards. Two partial writes into a cluster the
// overlay does not have yet would each copy the base, merge and allocate, and the second map
// update would drop the first write; an in-place write racing a discard could land in a slot
// that was just handed to another cluster. So every write or discard holds its clusters.
//
// An operation queues on all its clusters at once, in the call that starts it. Since JavaScript
// runs that registration without interruption, every queue orders its operations by start
// time: the oldest waiting operation is at the head of each of its queues, so there is no
// deadlock, and overlapping writes take effect in the order they were issued.
//
// No promises: a waiter is a small object with a count of the queues where it is not yet head.
interface Waiter {
  /** Queues in which this waiter is not yet at the head. */
  blocked: number;
  readonly run: () => void;
}

export class ClusterLocks {
  private readonly queues = new Map<number, Waiter[]>();

  /** Clusters with a holder or a waiter (for tests and leak checks). */
  get busyClusters(): number {
    return this.queues.size;
  }

  /** Runs `run` (possibly at once, inside this call) when clusters first..last are all held. */
  acquire(first: number, last: number, run: () => void): void {
    const waiter: Waiter = { blocked: 0, run };
    for (let cluster = first; cluster <= last; cluster++) {
      const queue = this.queues.get(cluster);
      if (queue === undefined) {
        this.queues.set(cluster, [waiter]);
      } else {
        queue.push(waiter);
        waiter.blocked++;
      }
    }
    if (waiter.blocked === 0) run();
  }

  /** Releases clusters first..last held by the head waiter; starts waiters that become ready. */
  release(first: number, last: number): void {
    let ready: Waiter[] | undefined;
    for (let cluster = first; cluster <= last; cluster++) {
      const queue = this.queues.get(cluster);
      if (queue === undefined) throw new Error(`cluster ${cluster} released but not held`);
      queue.shift();
      const next = queue[0];
      if (next === undefined) {
        this.queues.delete(cluster);
      } else if (--next.blocked === 0) {
        (ready ??= []).push(next);
      }
    }
    // Started after the loop, so a waiter that finishes at once cannot modify the queues
    // this loop is walking.
    if (ready !== undefined) for (const waiter of ready) waiter.run();
  }
}
