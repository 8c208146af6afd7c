// Which data slots of the overlay file are free. A slot is a cluster-sized place in the data
// area; the map says which cluster lives in it.
//
// The crash-safety rule lives here (docs/OVERLAY.md, "Reusing space"): a slot that a discard
// unmapped is *retired*, not free. The map entry on disk may still point at it until a flush
// cycle has written and synced the new entry; only then is the slot released, and a later
// write may put another cluster's data in it. Reusing it earlier could let a crash leave the
// old cluster's entry pointing at the new cluster's data.
//
// Nor may a slot go to a writer while a read that found it in the map is still in flight.
// Pinning each slot read would cost two Map updates per read, so reads are counted per epoch
// instead (a two-phase grace period, as in RCU): a release closes the current epoch, and its
// slots become free once every read that began in that epoch has ended.
//
// Allocation takes the lowest free slot, which keeps data packed at the front of the file so
// that close() can truncate a free tail.
import { DisklessError } from '../../lib/errors.ts';
import { OverlayErrorCode } from './overlay-errors.ts';
import { MAX_SLOTS } from './overlay-format.ts';

export class SlotAllocator {
  /** 1 = free and reusable now; indexed by slot, grown as the file grows. */
  private free: Uint8Array;
  #freeCount = 0;
  /** No free slot lies below this index. */
  private searchFrom = 0;
  /** Slots in the file: data area size / cluster size. */
  #slotCount: number;
  /** Unmapped in memory, maybe still mapped on disk: released by the next flush cycle. */
  private retired: number[] = [];
  /** Reads in flight that began in epoch 0 and in epoch 1; `epoch` is the current one. */
  private readonly readers = [0, 0];
  private epoch = 0;
  /** Released slots waiting for the reads of the closed epoch to end. */
  private draining: number[] = [];

  /** `used[slot]` is 1 for every slot the map on disk references. */
  constructor(slotCount: number, used: Uint8Array) {
    this.#slotCount = slotCount;
    this.free = new Uint8Array(Math.max(64, slotCount));
    for (let slot = 0; slot < slotCount; slot++) {
      if (used[slot] !== 1) {
        this.free[slot] = 1;
        this.#freeCount++;
      }
    }
  }

  get slotCount(): number {
    return this.#slotCount;
  }

  get freeCount(): number {
    return this.#freeCount;
  }

  get retiredCount(): number {
    return this.retired.length;
  }

  /** The lowest free slot, or a new one at the end of the file. */
  allocate(): number {
    if (this.#freeCount > 0) {
      const slot = this.free.indexOf(1, this.searchFrom);
      if (slot >= 0 && slot < this.#slotCount) {
        this.free[slot] = 0;
        this.#freeCount--;
        this.searchFrom = slot + 1;
        return slot;
      }
    }
    if (this.#slotCount >= MAX_SLOTS) throw new DisklessError(OverlayErrorCode.SlotsExhausted, `the overlay has ${this.#slotCount} data slots, the most it can address`);
    const slot = this.#slotCount++;
    if (slot >= this.free.length) {
      const grown = new Uint8Array(this.free.length * 2);
      grown.set(this.free);
      this.free = grown;
    }
    return slot;
  }

  /** A slot allocated for a write that failed: nothing on disk references it, free it now. */
  giveBack(slot: number): void {
    this.markFree(slot);
  }

  /** A slot whose cluster was unmapped in memory: free only once the map is durable. */
  retire(slot: number): void {
    this.retired.push(slot);
  }

  /** The retired slots a flush cycle will make safe; called when the cycle snapshots the map. */
  takeRetired(): number[] {
    const taken = this.retired;
    this.retired = [];
    return taken;
  }

  /** Back to retired: the cycle that would have released them failed. */
  unTake(slots: readonly number[]): void {
    this.retired.push(...slots);
  }

  /**
   * After the map that unmapped these slots is durable. Reads that began before this call
   * may still be reading them: the current epoch closes, and the slots become free when its
   * last read ends. If the epoch before is still draining, they wait for the next cycle.
   */
  release(slots: readonly number[]): void {
    if (slots.length === 0) return;
    const closing = this.epoch;
    const next = 1 - closing;
    if (this.readers[next] !== 0) {
      this.retired.push(...slots);
      return;
    }
    this.epoch = next;
    if (this.readers[closing] === 0) {
      for (const slot of slots) this.markFree(slot);
    } else {
      this.draining = [...slots];
    }
  }

  /** A read of overlay slots begins; returns its epoch, to hand to endRead. */
  beginRead(): number {
    const epoch = this.epoch;
    this.readers[epoch] = (this.readers[epoch] ?? 0) + 1;
    return epoch;
  }

  endRead(epoch: number): void {
    const left = (this.readers[epoch] ?? 1) - 1;
    this.readers[epoch] = left;
    // Only a closed epoch has a draining batch, and only one epoch is closed at a time.
    if (left === 0 && epoch !== this.epoch && this.draining.length > 0) {
      for (const slot of this.draining) this.markFree(slot);
      this.draining = [];
    }
  }

  /** The slot count once free slots at the end are dropped (what close() truncates to). */
  trimmedSlotCount(): number {
    let count = this.#slotCount;
    while (count > 0 && this.free[count - 1] === 1) count--;
    return count;
  }

  /** Forgets the free tail; the caller has truncated the file to `count` slots. */
  trimTo(count: number): void {
    for (let slot = count; slot < this.#slotCount; slot++) {
      if (this.free[slot] === 1) {
        this.free[slot] = 0;
        this.#freeCount--;
      }
    }
    this.#slotCount = count;
    this.searchFrom = Math.min(this.searchFrom, count);
  }

  private markFree(slot: number): void {
    if (this.free[slot] === 1) return;
    this.free[slot] = 1;
    this.#freeCount++;
    if (slot < this.searchFrom) this.searchFrom = slot;
  }
}
