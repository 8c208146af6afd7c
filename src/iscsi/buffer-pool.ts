// Recycles the large buffers that write commands gather their data-out into.
//
// Why: every Buffer of 4 KiB or more is its own ArrayBuffer, and V8 answers a fast stream of
// them (1 GB/s of 1 MiB writes) with a garbage collection every few tens of milliseconds
// ("external memory pressure"): a quarter of the event loop's time in the 1 MiB write bench.
// A task's buffer is dead the moment the device has finished with it, so the session hands it
// back here and the next write command of that size class reuses it.
//
// Buffers are kept by power-of-two capacity classes, so a stream of odd-sized writes still
// reuses. What is retained is capped: a pool never holds more than maxRetainedBytes, and the
// connection empties it when the initiator goes quiet.
//
// The connection's pool starts at 4 KiB (minPooledBytes): a 4 KiB READ's data-in buffer is its
// own ArrayBuffer too (Node's slab only serves requests under 4 KiB), and 100,000 of them a
// second cost a malloc, a free and external-memory pressure each.

/** The default smallest pooled request: smaller ones are plain allocations. */
export const MIN_POOLED_BYTES = 64 * 1024;
/** The smallest class any pool uses: a page. */
const SMALLEST_CLASS_BYTES = 4096;

export class BufferPool {
  /** Free buffers by capacity (a power of two, at least a page and at least minPooledBytes). */
  readonly #free = new Map<number, Buffer[]>();
  #retainedBytes = 0;

  /** `minPooledBytes`: requests below it are plain allocations, never pooled. */
  constructor(
    readonly maxRetainedBytes: number,
    readonly minPooledBytes: number = MIN_POOLED_BYTES,
  ) {}

  /** Bytes held by free buffers. */
  get retainedBytes(): number {
    return this.#retainedBytes;
  }

  /**
   * A buffer of at least `length` bytes with unspecified contents. Give it back with give() (the
   * very object returned here, not a slice) once nothing references it any more.
   */
  take(length: number): Buffer {
    if (length < this.minPooledBytes) return Buffer.allocUnsafe(length);
    const capacity = capacityFor(length);
    const buffer = this.#free.get(capacity)?.pop();
    // Slow: memory of its own, never a piece of Node's shared slab.
    if (buffer === undefined) return Buffer.allocUnsafeSlow(capacity);
    this.#retainedBytes -= capacity;
    return buffer;
  }

  /** Returns a buffer from take(); the caller must not touch it afterwards. */
  give(buffer: Buffer): void {
    const capacity = buffer.length;
    // Small buffers were never pooled; a capacity that is not a class was not ours.
    if (capacity < this.minPooledBytes || capacityFor(capacity) !== capacity) return;
    if (this.#retainedBytes + capacity > this.maxRetainedBytes) return;
    let list = this.#free.get(capacity);
    if (list === undefined) {
      list = [];
      this.#free.set(capacity, list);
    }
    list.push(buffer);
    this.#retainedBytes += capacity;
  }

  /** Drops every free buffer (idle connection). */
  clear(): void {
    this.#free.clear();
    this.#retainedBytes = 0;
  }
}

/** The power of two at or above `length` (at least a page). */
function capacityFor(length: number): number {
  if (length <= SMALLEST_CLASS_BYTES) return SMALLEST_CLASS_BYTES;
  // Up to 2^30 in 32-bit integer arithmetic; larger requests (never made) use floating point.
  return length <= 0x40000000 ? (1 << (32 - Math.clz32(length - 1))) >>> 0 : 2 ** Math.ceil(Math.log2(length));
}
