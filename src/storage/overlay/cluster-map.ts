// The allocation map in memory: one u32 per cluster, kept in pages that mirror the 4096-byte
// map pages on disk. A page is allocated only when one of its clusters leaves the base, so an
// overlay that changed little costs little memory whatever the disk size (50 machines over a
// 128 GiB image would otherwise hold 50 full maps).
//
// In-memory state per cluster: 0 = base, 1 = zeroed, slot + 2 = data in that slot. A fresh
// Uint32Array is therefore "all base", like a sparse map on disk.
import { ENTRIES_PER_PAGE, MAP_ENTRY_BYTES, MAP_PAGE_BYTES, encodeEntry } from './overlay-format.ts';

export const STATE_BASE = 0;
export const STATE_ZERO = 1;
/** States from here up are data slots: slot = state - STATE_SLOT_BASE. */
export const STATE_SLOT_BASE = 2;

/** Encoded map pages ready to be written: `bytes` goes at `fileOffset`, covering `pages`. */
export interface MapPageRun {
  readonly fileOffset: number;
  readonly bytes: Buffer;
  readonly pages: readonly number[];
}

export class ClusterMap {
  private readonly pages: (Uint32Array | undefined)[];
  /** Pages changed in memory since they were last handed to a flush cycle. */
  private readonly dirty = new Set<number>();
  #dataClusters = 0;
  #zeroClusters = 0;

  constructor(
    readonly clusterCount: number,
    /** File offset of map page 0. */
    readonly mapOffset: number,
  ) {
    this.pages = new Array<Uint32Array | undefined>(Math.ceil(clusterCount / ENTRIES_PER_PAGE));
  }

  get dataClusters(): number {
    return this.#dataClusters;
  }

  get zeroClusters(): number {
    return this.#zeroClusters;
  }

  /** The state of a cluster (see STATE_*); callers have range-checked the index. */
  get(cluster: number): number {
    const page = this.pages[Math.floor(cluster / ENTRIES_PER_PAGE)];
    return page === undefined ? STATE_BASE : (page[cluster % ENTRIES_PER_PAGE] ?? STATE_BASE);
  }

  /** Changes a cluster's state and marks its page for the next flush. */
  set(cluster: number, state: number): void {
    this.store(cluster, state);
    this.dirty.add(Math.floor(cluster / ENTRIES_PER_PAGE));
  }

  /** Sets a state read from disk: the page is already there, nothing to write back. */
  load(cluster: number, state: number): void {
    this.store(cluster, state);
  }

  private store(cluster: number, state: number): void {
    const pageIndex = Math.floor(cluster / ENTRIES_PER_PAGE);
    let page = this.pages[pageIndex];
    if (page === undefined) {
      if (state === STATE_BASE) return;
      page = new Uint32Array(ENTRIES_PER_PAGE);
      this.pages[pageIndex] = page;
    }
    const index = cluster % ENTRIES_PER_PAGE;
    this.count(page[index] ?? STATE_BASE, -1);
    this.count(state, +1);
    page[index] = state;
  }

  private count(state: number, delta: number): void {
    if (state === STATE_ZERO) this.#zeroClusters += delta;
    else if (state >= STATE_SLOT_BASE) this.#dataClusters += delta;
  }

  /**
   * Encodes every dirty page as it is now and forgets that it was dirty: the snapshot a flush
   * cycle writes. Contiguous pages become one run, so a flush costs one pwrite per run.
   */
  takeDirty(): MapPageRun[] {
    if (this.dirty.size === 0) return [];
    const indices = [...this.dirty].sort((a, b) => a - b);
    this.dirty.clear();
    const runs: MapPageRun[] = [];
    let start = 0;
    for (let i = 1; i <= indices.length; i++) {
      if (i < indices.length && indices[i] === (indices[i - 1] ?? 0) + 1) continue;
      const pages = indices.slice(start, i);
      const bytes = Buffer.alloc(pages.length * MAP_PAGE_BYTES);
      pages.forEach((pageIndex, n) => this.encodePage(pageIndex, bytes, n * MAP_PAGE_BYTES));
      runs.push({ fileOffset: this.mapOffset + (pages[0] ?? 0) * MAP_PAGE_BYTES, bytes, pages });
      start = i;
    }
    return runs;
  }

  /** Puts pages back on the dirty list (their write failed; the next flush retries). */
  markDirty(pages: readonly number[]): void {
    for (const pageIndex of pages) this.dirty.add(pageIndex);
  }

  /** The on-disk bytes of one map page (entries past clusterCount stay zero). */
  private encodePage(pageIndex: number, target: Buffer, offset: number): void {
    const page = this.pages[pageIndex];
    if (page === undefined) {
      target.fill(0, offset, offset + MAP_PAGE_BYTES);
      return;
    }
    const firstCluster = pageIndex * ENTRIES_PER_PAGE;
    for (let i = 0; i < ENTRIES_PER_PAGE; i++) {
      const state = page[i] ?? STATE_BASE;
      const at = offset + i * MAP_ENTRY_BYTES;
      if (state === STATE_BASE) target.fill(0, at, at + MAP_ENTRY_BYTES);
      else encodeEntry(target, at, firstCluster + i, state === STATE_ZERO ? { kind: 'zero' } : { kind: 'data', slot: state - STATE_SLOT_BASE });
    }
  }

  /** Calls `visit` for every cluster that is not base, in cluster order. */
  forEachMapped(visit: (cluster: number, state: number) => void): void {
    this.pages.forEach((page, pageIndex) => {
      if (page === undefined) return;
      for (let i = 0; i < ENTRIES_PER_PAGE; i++) {
        const state = page[i] ?? STATE_BASE;
        if (state !== STATE_BASE) visit(pageIndex * ENTRIES_PER_PAGE + i, state);
      }
    });
  }
}
