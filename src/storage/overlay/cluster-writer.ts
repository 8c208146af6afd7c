// The write path of the overlay device: in place for clusters the overlay has, into a new
// slot for the others, with copy-on-write for partially written ones. The caller (the device)
// holds the clusters' locks; this file owns the order "data first, map after".
import type { Done } from '../block-device.ts';
import { type ClusterMap, STATE_BASE, STATE_SLOT_BASE } from './cluster-map.ts';
import type { FileIo } from './file-io.ts';
import type { SlotAllocator } from './slot-allocator.ts';

/** One pwrite of a slice of the caller's buffer (merged copy-on-write clusters go on their own). */
interface WriteSegment {
  readonly filePos: number;
  srcStart: number;
  srcEnd: number;
}

/** A cluster that gets a new slot; `cow` is set when the write covers only part of it. */
interface FreshCluster {
  readonly cluster: number;
  readonly slot: number;
  readonly cow: Buffer | null;
  readonly fromBase: boolean;
  readonly lo: number;
  readonly hi: number;
}

/** pwritev takes at most IOV_MAX (1024) buffers; a write is far fewer pieces than that. */
const MAX_PIECES_PER_WRITE = 512;

/** Copy-on-write buffers kept for reuse: enough for a queue of partial writes in flight. */
const COW_POOL_SIZE = 32;

export class ClusterWriter {
  /**
   * Cluster-sized buffers of finished copy-on-writes. Reusing them spares the garbage collector
   * a cluster per first-touch write (bench/overlay-cluster.ts: 16 KiB first-touch writes went
   * from about 45 k to 80 k IOPS).
   */
  private readonly cowPool: Buffer[] = [];

  constructor(
    private readonly overlay: FileIo,
    private readonly base: FileIo,
    private readonly map: ClusterMap,
    private readonly slots: SlotAllocator,
    private readonly clusterBytes: number,
    private readonly dataOffset: number,
    /** The disk size: the last cluster may extend past it. */
    private readonly sizeBytes: number,
    /** Called when data reached the file (the next flush must sync it). */
    private readonly onDataWritten: () => void,
  ) {}

  private slotOffset(slot: number): number {
    return this.dataOffset + slot * this.clusterBytes;
  }

  /**
   * The write proper, with clusters first..last held. Clusters already in the overlay are
   * written in place; the others get a slot, and a partially covered one is merged with its
   * base (or zero) content first. The map changes only once every pwrite has completed, so a
   * concurrent read sees the old content until the new content is complete.
   */
  write(source: Buffer, offsetBytes: number, first: number, last: number, done: Done): void {
    const cs = this.clusterBytes;
    const end = offsetBytes + source.length;
    const segments: WriteSegment[] = [];
    const fresh: FreshCluster[] = [];
    try {
      for (let cluster = first; cluster <= last; cluster++) {
        const clusterStart = cluster * cs;
        const lo = Math.max(offsetBytes, clusterStart);
        const hi = Math.min(end, clusterStart + cs);
        const state = this.map.get(cluster);
        if (state >= STATE_SLOT_BASE) {
          addSourceSegment(segments, this.slotOffset(state - STATE_SLOT_BASE) + (lo - clusterStart), lo - offsetBytes, hi - offsetBytes);
          continue;
        }
        const slot = this.slots.allocate();
        // A cluster is written whole into a new slot, so every mapped slot is complete in the
        // file (the last cluster of an odd-sized disk is padded with zeros).
        const whole = lo === clusterStart && hi === clusterStart + cs;
        const cow = whole ? null : (this.cowPool.pop() ?? Buffer.allocUnsafe(cs));
        fresh.push({ cluster, slot, cow, fromBase: state === STATE_BASE, lo, hi });
        if (cow === null) addSourceSegment(segments, this.slotOffset(slot), lo - offsetBytes, hi - offsetBytes);
      }
    } catch (err) {
      for (const f of fresh) this.slots.giveBack(f.slot);
      return process.nextTick(done, err as NodeJS.ErrnoException);
    }
    const commit: Done = (err) => {
      // The pwrites are over, so the kernel is done with the buffers.
      for (const f of fresh) if (f.cow !== null && this.cowPool.length < COW_POOL_SIZE) this.cowPool.push(f.cow);
      if (err !== null) {
        for (const f of fresh) this.slots.giveBack(f.slot);
        return done(err);
      }
      for (const f of fresh) this.map.set(f.cluster, f.slot + STATE_SLOT_BASE);
      this.onDataWritten();
      done(null);
    };
    this.writeAll(source, offsetBytes, segments, fresh, commit);
  }

  /**
   * Every pwrite of the write at once: the slices of the caller's buffer go out straight away,
   * each partially written new cluster as soon as its base content has been read and merged.
   * Waiting for all base reads before the first pwrite cost a second round trip through the
   * thread pool per write (bench/boot-storm.ts: a 64 KiB write at a 4 KiB offset is 3 whole
   * clusters and 2 partial ones).
   */
  private writeAll(source: Buffer, offsetBytes: number, segments: readonly WriteSegment[], fresh: readonly FreshCluster[], done: Done): void {
    if (this.writeGathered(source, offsetBytes, segments, fresh, done)) return;
    let pending = 1;
    let firstErr: NodeJS.ErrnoException | null = null;
    const finish: Done = (err) => {
      if (err !== null && firstErr === null) firstErr = err;
      if (--pending === 0) done(firstErr);
    };
    for (const s of segments) {
      pending++;
      this.overlay.write(source.subarray(s.srcStart, s.srcEnd), s.filePos, finish);
    }
    for (const f of fresh) {
      const cow = f.cow;
      if (cow === null) continue;
      const clusterStart = f.cluster * this.clusterBytes;
      const slotPos = this.slotOffset(f.slot);
      const mergeAndWrite = (): void => {
        source.copy(cow, f.lo - clusterStart, f.lo - offsetBytes, f.hi - offsetBytes);
        this.overlay.write(cow, slotPos, finish);
      };
      pending++;
      if (!f.fromBase) {
        cow.fill(0);
        mergeAndWrite();
        continue;
      }
      const [from, to] = this.uncovered(f);
      cow.fill(0, Math.min(this.clusterBytes, this.sizeBytes - clusterStart));
      this.base.read(cow.subarray(from, to), clusterStart + from, (err) => {
        if (err !== null) return finish(err);
        mergeAndWrite();
      });
    }
    finish(null);
  }

  /**
   * The part of a partially written cluster the write leaves uncovered, as [from, to) within the
   * cluster: the head, the tail, or (a write in the middle) the whole cluster in one pread.
   */
  private uncovered(f: FreshCluster): [number, number] {
    const clusterStart = f.cluster * this.clusterBytes;
    const inDisk = Math.min(this.clusterBytes, this.sizeBytes - clusterStart);
    const headEnd = f.lo - clusterStart;
    const tailStart = f.hi - clusterStart;
    return headEnd > 0 && tailStart < inDisk ? [0, inDisk] : headEnd > 0 ? [0, headEnd] : [tailStart, inDisk];
  }

  /**
   * When the base content of every partially written cluster can be had at once (the golden
   * image in the page cache, or a memory file system), the clusters are merged here and the
   * whole write leaves as one pwritev per run of adjacent slots: new slots are handed out in
   * order, so a 64 KiB write at a 4 KiB offset (two partial clusters around three whole ones) is
   * one thread-pool round trip instead of three. False, with nothing written, when some base
   * content is not at hand: writeAll then reads it on the pool.
   */
  private writeGathered(source: Buffer, offsetBytes: number, segments: readonly WriteSegment[], fresh: readonly FreshCluster[], done: Done): boolean {
    const pieces: Array<{ readonly at: number; readonly bytes: Buffer }> = [];
    for (const f of fresh) {
      const cow = f.cow;
      if (cow === null) continue;
      const clusterStart = f.cluster * this.clusterBytes;
      if (f.fromBase) {
        const [from, to] = this.uncovered(f);
        cow.fill(0, Math.min(this.clusterBytes, this.sizeBytes - clusterStart));
        if (from < to && !this.base.readNow(cow.subarray(from, to), clusterStart + from)) return false;
      } else {
        cow.fill(0);
      }
      source.copy(cow, f.lo - clusterStart, f.lo - offsetBytes, f.hi - offsetBytes);
      pieces.push({ at: this.slotOffset(f.slot), bytes: cow });
    }
    if (pieces.length === 0) return false; // whole clusters only: segments are merged already
    for (const s of segments) pieces.push({ at: s.filePos, bytes: source.subarray(s.srcStart, s.srcEnd) });
    pieces.sort((a, b) => a.at - b.at);
    let pending = 1;
    let firstErr: NodeJS.ErrnoException | null = null;
    const finish: Done = (err) => {
      if (err !== null && firstErr === null) firstErr = err;
      if (--pending === 0) done(firstErr);
    };
    let i = 0;
    while (i < pieces.length) {
      const start = pieces[i]?.at ?? 0;
      const run: Buffer[] = [];
      let end = start;
      while (i < pieces.length && pieces[i]?.at === end && run.length < MAX_PIECES_PER_WRITE) {
        const bytes = pieces[i++]?.bytes ?? Buffer.alloc(0);
        run.push(bytes);
        end += bytes.length;
      }
      pending++;
      this.overlay.writev(run, start, finish);
    }
    finish(null);
    return true;
  }
}

/** Appends a slice of the caller's buffer, merging it into the previous pwrite when adjacent. */
function addSourceSegment(segments: WriteSegment[], filePos: number, srcStart: number, srcEnd: number): void {
  const prev = segments[segments.length - 1];
  if (prev !== undefined && prev.srcEnd === srcStart && prev.filePos + (prev.srcEnd - prev.srcStart) === filePos) {
    prev.srcEnd = srcEnd;
    return;
  }
  segments.push({ filePos, srcStart, srcEnd });
}
