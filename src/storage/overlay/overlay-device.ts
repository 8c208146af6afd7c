// A machine's disk as a copy-on-write overlay: a read-only base image shared by every machine
// plus a sparse overlay file of its own (format: overlay-format.ts, docs/OVERLAY.md).
//
// Reads of clusters the machine never wrote go straight to the base fd, so the page cache
// holds one copy of the image for the whole fleet. Writes go to the overlay: in place when the
// cluster is already there, otherwise into a newly allocated slot (copy-on-write: the base
// cluster is read, merged and written whole; cluster-writer.ts).
//
// Crash consistency by ordered writes (docs/OVERLAY.md, "Crash consistency"): data slots are
// written first, the map only learns of them in memory; a flush cycle syncs the data, then
// writes the dirty map pages, then syncs again. The on-disk map therefore only ever points at
// durable data, and a crash loses at most what was never flushed.
import fs from 'node:fs';
import type { BlockDevice, Done } from '../block-device.ts';
import { ClusterLocks } from './cluster-locks.ts';
import { type ClusterMap, STATE_BASE, STATE_SLOT_BASE, STATE_ZERO } from './cluster-map.ts';
import { ClusterWriter } from './cluster-writer.ts';
import { type FileIo, errnoError } from './file-io.ts';
import { GroupCommit } from './group-commit.ts';
import { MAX_CLUSTER_BYTES, type OverlayHeader } from './overlay-format.ts';
import type { SlotAllocator } from './slot-allocator.ts';

/** What openOverlayDevice assembles: the parts are built and validated there. */
export interface OverlayDeviceParts {
  readonly path: string;
  readonly header: OverlayHeader;
  readonly overlay: FileIo;
  readonly base: FileIo;
  readonly map: ClusterMap;
  readonly slots: SlotAllocator;
  readonly readOnly: boolean;
}

/** Space an overlay takes, from its map (see also overlaySpaceUsage for a closed file). */
export interface OverlaySpaceUsage {
  readonly clusterBytes: number;
  readonly clusterCount: number;
  /** Clusters whose data lives in the overlay. */
  readonly dataClusters: number;
  /** Clusters discarded: they read as zeros and hold no data. */
  readonly zeroClusters: number;
  /** dataClusters × clusterBytes: what this machine's changes cost. */
  readonly dataBytes: number;
  /** Slots in the file that are free for reuse (discarded data not yet overwritten). */
  readonly freeSlots: number;
  /** Logical size of the overlay file: header, map and every slot up to the last. */
  readonly fileBytes: number;
}

/** A discard locks and processes at most this many clusters at a time. */
const DISCARD_BATCH_CLUSTERS = 4096;
/** Shared, never written: the source of zero-fills for partially discarded clusters. */
const ZEROS = Buffer.alloc(MAX_CLUSTER_BYTES);

export class OverlayDevice implements BlockDevice {
  readonly blockSize: number;
  readonly sizeBytes: number;
  readonly readOnly: boolean;
  readonly canDiscard = true;
  readonly id: string;
  readonly path: string;
  readonly header: OverlayHeader;
  private readonly clusterBytes: number;
  private readonly dataOffset: number;
  private readonly overlay: FileIo;
  private readonly base: FileIo;
  private readonly map: ClusterMap;
  private readonly slots: SlotAllocator;
  private readonly locks = new ClusterLocks();
  private readonly commit: GroupCommit;
  private readonly writer: ClusterWriter;
  /** Set by every completed data write; a flush with nothing written since costs no sync. */
  private unsyncedData = false;
  /** Reads, writes and discards not yet completed: close() waits for them. */
  private inFlight = 0;
  private drained: (() => void) | null = null;
  /** Writes and discards not yet completed: a freeze waits for them. */
  private mutating = 0;
  /** While frozen (a snapshot is being copied), writes and discards wait here, in order. */
  private frozen: (() => void)[] | null = null;
  private whenQuiet: (() => void) | null = null;
  #closed = false;

  constructor(parts: OverlayDeviceParts) {
    this.header = parts.header;
    this.path = parts.path;
    this.blockSize = parts.header.blockBytes;
    this.sizeBytes = parts.header.virtualSizeBytes;
    this.readOnly = parts.readOnly;
    // The overlay's random id survives resets: the machine keeps its disk identity (NAA, serial).
    this.id = parts.header.overlayId.subarray(0, 8).toString('hex');
    this.clusterBytes = parts.header.clusterBytes;
    this.dataOffset = parts.header.dataOffset;
    this.overlay = parts.overlay;
    this.base = parts.base;
    this.map = parts.map;
    this.slots = parts.slots;
    this.commit = new GroupCommit((done) => this.runFlushCycle(done));
    this.writer = new ClusterWriter(this.overlay, this.base, this.map, this.slots, this.clusterBytes, this.dataOffset, this.sizeBytes, () => {
      this.unsyncedData = true;
    });
  }

  /** Flush cycles run so far (tests check that concurrent flushes share one). */
  get flushCycles(): number {
    return this.commit.cycles;
  }

  spaceUsage(): OverlaySpaceUsage {
    return {
      clusterBytes: this.clusterBytes,
      clusterCount: this.map.clusterCount,
      dataClusters: this.map.dataClusters,
      zeroClusters: this.map.zeroClusters,
      dataBytes: this.map.dataClusters * this.clusterBytes,
      freeSlots: this.slots.freeCount,
      fileBytes: this.dataOffset + this.slots.slotCount * this.clusterBytes,
    };
  }

  private checkRange(offsetBytes: number, lengthBytes: number, writing: boolean): NodeJS.ErrnoException | null {
    if (this.#closed) return errnoError('EBADF', 'overlay device is closed');
    if (writing && this.readOnly) return errnoError('EROFS', 'overlay device is read-only');
    if (!Number.isSafeInteger(offsetBytes) || offsetBytes < 0 || lengthBytes < 0 || offsetBytes + lengthBytes > this.sizeBytes) {
      return errnoError('EINVAL', `range ${offsetBytes}+${lengthBytes} beyond ${this.sizeBytes} bytes`);
    }
    return null;
  }

  private opDone(): void {
    if (--this.inFlight === 0 && this.drained !== null) this.drained();
  }

  private mutationDone(): void {
    this.opDone();
    if (--this.mutating === 0 && this.whenQuiet !== null) this.whenQuiet();
  }

  /**
   * Holds new writes and discards, waits for those in flight, and runs a flush cycle, so the
   * file on disk is the whole disk as of now (what a snapshot copies). Reads go on. Resolves
   * to the function that lets the held writes through, in the order they came.
   */
  freezeWrites(): Promise<() => void> {
    if (this.#closed) return Promise.reject(errnoError('EBADF', 'overlay device is closed'));
    if (this.frozen !== null) return Promise.reject(errnoError('EBUSY', 'overlay device is already frozen (a snapshot is being taken)'));
    const held: (() => void)[] = [];
    this.frozen = held;
    const thaw = (): void => {
      if (this.frozen !== held) return;
      this.frozen = null;
      for (const resume of held) resume();
    };
    return new Promise<void>((resolve) => {
      if (this.mutating === 0) return resolve();
      this.whenQuiet = () => {
        this.whenQuiet = null;
        resolve();
      };
    })
      .then(() => new Promise<void>((resolve, reject) => this.commit.request((err) => (err === null ? resolve() : reject(err)))))
      .then(
        () => thaw,
        (err: unknown) => {
          thaw();
          throw err;
        },
      );
  }

  private slotOffset(slot: number): number {
    return this.dataOffset + slot * this.clusterBytes;
  }

  // ---- read ----------------------------------------------------------------------------------

  /**
   * Walks the clusters of the range and merges neighbours of the same kind into runs: base
   * clusters are contiguous in the base by construction, overlay clusters when their slots are
   * consecutive (as sequential writes allocate them). One pread per run, zeros filled in place.
   */
  read(target: Buffer, offsetBytes: number, done: Done): void {
    const err = this.checkRange(offsetBytes, target.length, false);
    if (err !== null) return process.nextTick(done, err);
    if (target.length === 0) return process.nextTick(done, null);
    this.inFlight++;
    const cs = this.clusterBytes;
    const end = offsetBytes + target.length;
    const cluster0 = Math.floor(offsetBytes / cs);
    if (cluster0 === Math.floor((end - 1) / cs)) return this.readOneCluster(target, offsetBytes, cluster0, done);
    let pending = 1;
    let firstErr: NodeJS.ErrnoException | null = null;
    const finish: Done = (e) => {
      if (e !== null && firstErr === null) firstErr = e;
      if (--pending > 0) return;
      this.opDone();
      done(firstErr);
    };
    let runKind = -1;
    let runFile = 0;
    let runStart = 0;
    let runLength = 0;
    const issueRun = (): void => {
      const view = runLength === target.length ? target : target.subarray(runStart, runStart + runLength);
      if (runKind === STATE_ZERO) {
        view.fill(0);
      } else if (runKind === STATE_BASE) {
        pending++;
        this.base.read(view, runFile, finish);
      } else {
        pending++;
        this.readSlots(view, runFile, finish);
      }
    };
    let pos = offsetBytes;
    while (pos < end) {
      const cluster = Math.floor(pos / cs);
      const clusterStart = cluster * cs;
      const next = Math.min(clusterStart + cs, end);
      const state = this.map.get(cluster);
      const kind = state >= STATE_SLOT_BASE ? STATE_SLOT_BASE : state;
      const filePos = kind === STATE_BASE ? pos : kind === STATE_ZERO ? 0 : this.slotOffset(state - STATE_SLOT_BASE) + (pos - clusterStart);
      if (kind === runKind && (kind === STATE_ZERO || filePos === runFile + runLength)) {
        runLength += next - pos;
      } else {
        if (runLength > 0) issueRun();
        runKind = kind;
        runFile = filePos;
        runStart = pos - offsetBytes;
        runLength = next - pos;
      }
      pos = next;
    }
    issueRun();
    finish(null);
  }

  /** The common case (a request inside one cluster): one pread, no run bookkeeping. */
  private readOneCluster(target: Buffer, offsetBytes: number, cluster: number, done: Done): void {
    const state = this.map.get(cluster);
    const finish: Done = (err) => {
      this.opDone();
      done(err);
    };
    if (state === STATE_BASE) return this.base.read(target, offsetBytes, finish);
    if (state === STATE_ZERO) {
      target.fill(0);
      return process.nextTick(finish, null);
    }
    this.readSlots(target, this.slotOffset(state - STATE_SLOT_BASE) + (offsetBytes - cluster * this.clusterBytes), finish);
  }

  /** Reads overlay slots inside a read epoch, so a flush cannot free them for reuse mid-read. */
  private readSlots(view: Buffer, filePos: number, done: Done): void {
    const epoch = this.slots.beginRead();
    this.overlay.read(view, filePos, (err) => {
      this.slots.endRead(epoch);
      done(err);
    });
  }

  // ---- write ---------------------------------------------------------------------------------

  write(source: Buffer, offsetBytes: number, durable: boolean, done: Done): void {
    const err = this.checkRange(offsetBytes, source.length, true);
    if (err !== null) return process.nextTick(done, err);
    if (source.length === 0) return durable ? this.commit.request(done) : process.nextTick(done, null);
    if (this.frozen !== null) {
      this.frozen.push(() => this.write(source, offsetBytes, durable, done));
      return;
    }
    this.inFlight++;
    this.mutating++;
    const first = Math.floor(offsetBytes / this.clusterBytes);
    const last = Math.floor((offsetBytes + source.length - 1) / this.clusterBytes);
    this.locks.acquire(first, last, () => {
      this.writer.write(source, offsetBytes, first, last, (writeErr) => {
        this.locks.release(first, last);
        if (writeErr !== null || !durable) {
          this.mutationDone();
          return done(writeErr);
        }
        // FUA: a flush cycle makes this write durable, and with it the map entry of a new slot.
        // The write stays in flight until then, so close() cannot close the fd under the cycle.
        this.commit.request((flushErr) => {
          this.mutationDone();
          done(flushErr);
        });
      });
    });
  }

  // ---- discard -------------------------------------------------------------------------------

  /**
   * Clusters fully inside the range become "zeroed" (a map entry, no data; their slot is
   * retired and reused after the next flush); the partial clusters at the edges get zeros
   * written. Large ranges go in batches so that one discard never holds a million locks.
   */
  discard(offsetBytes: number, lengthBytes: number, done: Done): void {
    const err = this.checkRange(offsetBytes, lengthBytes, true);
    if (err !== null) return process.nextTick(done, err);
    if (lengthBytes === 0) return process.nextTick(done, null);
    if (this.frozen !== null) {
      this.frozen.push(() => this.discard(offsetBytes, lengthBytes, done));
      return;
    }
    this.inFlight++;
    this.mutating++;
    const cs = this.clusterBytes;
    const end = offsetBytes + lengthBytes;
    const step = (from: number): void => {
      if (from >= end) {
        this.mutationDone();
        return done(null);
      }
      const first = Math.floor(from / cs);
      const last = Math.min(Math.floor((end - 1) / cs), first + DISCARD_BATCH_CLUSTERS - 1);
      const to = Math.min(end, (last + 1) * cs);
      this.locks.acquire(first, last, () => {
        this.discardLocked(from, to, first, last, (stepErr) => {
          this.locks.release(first, last);
          if (stepErr === null) return step(to);
          this.mutationDone();
          done(stepErr);
        });
      });
    };
    step(offsetBytes);
  }

  private discardLocked(from: number, to: number, first: number, last: number, done: Done): void {
    const cs = this.clusterBytes;
    let pending = 1;
    let firstErr: NodeJS.ErrnoException | null = null;
    const finish: Done = (err) => {
      if (err !== null && firstErr === null) firstErr = err;
      if (--pending === 0) done(firstErr);
    };
    for (let cluster = first; cluster <= last; cluster++) {
      const clusterStart = cluster * cs;
      const clusterEnd = Math.min(clusterStart + cs, this.sizeBytes);
      const lo = Math.max(from, clusterStart);
      const hi = Math.min(to, clusterEnd);
      const state = this.map.get(cluster);
      if (state === STATE_ZERO) continue;
      if (lo === clusterStart && hi === clusterEnd) {
        if (state >= STATE_SLOT_BASE) this.slots.retire(state - STATE_SLOT_BASE);
        this.map.set(cluster, STATE_ZERO);
      } else {
        pending++;
        this.writer.write(ZEROS.subarray(0, hi - lo), lo, cluster, cluster, finish);
      }
    }
    // Always complete asynchronously: batches chain through here, and must not recurse.
    process.nextTick(finish, null);
  }

  // ---- flush and close -----------------------------------------------------------------------

  flush(done: Done): void {
    if (this.#closed) return process.nextTick(done, errnoError('EBADF', 'overlay device is closed'));
    this.commit.request(done);
  }

  /**
   * One flush cycle: (1) snapshot the dirty map pages and the retired slots, (2) fdatasync so
   * every data slot those pages point at is durable, (3) write the pages, (4) fdatasync, (5)
   * release the retired slots for reuse, now that no durable entry points at them.
   */
  private runFlushCycle(done: Done): void {
    const runs = this.map.takeDirty();
    const retired = this.slots.takeRetired();
    const dataDirty = this.unsyncedData;
    this.unsyncedData = false;
    if (!dataDirty && runs.length === 0 && retired.length === 0) return process.nextTick(done, null);
    const fail = (err: NodeJS.ErrnoException): void => {
      this.map.markDirty(runs.flatMap((run) => run.pages));
      this.slots.unTake(retired);
      this.unsyncedData = true;
      done(err);
    };
    const finish = (): void => {
      this.slots.release(retired);
      done(null);
    };
    const writeMap = (): void => {
      if (runs.length === 0) return finish();
      let pending = runs.length;
      let firstErr: NodeJS.ErrnoException | null = null;
      for (const run of runs) {
        this.overlay.write(run.bytes, run.fileOffset, (err) => {
          if (err !== null && firstErr === null) firstErr = err;
          if (--pending > 0) return;
          if (firstErr !== null) return fail(firstErr);
          this.overlay.datasync((syncErr) => (syncErr !== null ? fail(syncErr) : finish()));
        });
      }
    };
    // Without new data since the last cycle, every slot the map points at is already durable.
    if (!dataDirty) return writeMap();
    this.overlay.datasync((err) => (err !== null ? fail(err) : writeMap()));
  }

  /**
   * Waits for I/O in flight, runs a last flush cycle (so a clean shutdown loses nothing),
   * truncates free slots off the end of the file and closes both files. Later I/O fails EBADF.
   */
  close(done: Done): void {
    if (this.#closed) return process.nextTick(done, null);
    this.#closed = true;
    const closeFiles = (err: NodeJS.ErrnoException | null): void => {
      fs.close(this.overlay.fd, (overlayErr) => {
        fs.close(this.base.fd, (baseErr) => done(err ?? overlayErr ?? baseErr));
      });
    };
    const finish = (): void => {
      if (this.readOnly) return closeFiles(null);
      this.commit.request((err) => {
        if (err !== null) return closeFiles(err);
        const keep = this.slots.trimmedSlotCount();
        if (keep === this.slots.slotCount) return closeFiles(null);
        fs.ftruncate(this.overlay.fd, this.slotOffset(keep), (truncErr) => {
          if (truncErr === null) this.slots.trimTo(keep);
          closeFiles(truncErr);
        });
      });
    };
    if (this.inFlight === 0) return finish();
    this.drained = () => {
      this.drained = null;
      finish();
    };
  }
}
