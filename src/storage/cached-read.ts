// Reads that are already in the page cache are served on the event loop; only what would wait
// for the disk goes to the libuv thread pool (native/file-io.c: preadv2 with RWF_NOWAIT).
//
// Why: a disk-backed file is read on the pool, so that one page-cache miss cannot stall every
// connection. But on a boot server most reads hit the cache (every machine reads the same golden
// image), and for those the pool's hand-off (a queue, a thread wake-up, a context switch on a
// small machine, an async completion) costs more than the copy itself. RWF_NOWAIT asks the kernel
// to copy what is cached and to return at once, with EAGAIN or a short count, instead of waiting
// for the disk. Without the native helper, or on a kernel or file system without RWF_NOWAIT,
// every read goes to the pool as before.
import { loadAddon } from '../lib/native-addon.ts';
import type { Done } from './block-device.ts';
import { readFully } from './positioned-io.ts';

interface FileIoNative {
  preadNoWait(fd: number, buffer: Buffer, offset: number, length: number, position: number): number;
}

/** Reads above this size go to the pool anyway: copying them would hold the event loop too long. */
export const CACHED_READ_MAX_BYTES = 256 * 1024;

/**
 * The kernel has no RWF_NOWAIT reads. EOPNOTSUPP (95) is not here: it is one file system's
 * answer (tmpfs and ramfs are read plainly by the helper), and one file on, say, a FUSE mount
 * must not turn cached reads off for the golden images on ext4 beside it.
 */
const UNSUPPORTED = new Set([22 /* EINVAL */, 38 /* ENOSYS */]);

let native: FileIoNative | null | undefined;

function helper(): FileIoNative | null {
  if (native === undefined) {
    const loaded = loadAddon<FileIoNative>('file_io', ['preadNoWait']);
    native = 'native' in loaded ? loaded.native : null;
  }
  return native;
}

export interface CachedReadStats {
  /** Reads served whole from the page cache, partly, or not at all (the pool did the rest). */
  cached: number;
  partial: number;
  missed: number;
}

export const cachedReadStats: CachedReadStats = { cached: 0, partial: 0, missed: 0 };

/** Whether cached reads are possible here (the helper loads); for tests and logs. */
export function cachedReadsAvailable(): boolean {
  return helper() !== null;
}

/**
 * Copies into `target` what the page cache holds of it, without waiting: the bytes read (a
 * short count: the rest is not cached, or the end of the file), or -1 when this cannot be asked
 * (no helper, a read too large, none of it cached, or an error the pool read will report).
 */
function readFromCache(fd: number, target: Buffer, position: number): number {
  const io = helper();
  if (io === null || target.length === 0 || target.length > CACHED_READ_MAX_BYTES) return -1;
  const n = io.preadNoWait(fd, target, 0, target.length, position);
  if (n < 0 && UNSUPPORTED.has(-n)) native = null; // say it once: every later read takes the pool
  return n > 0 ? n : -1;
}

/**
 * Fills `target` from the page cache right now, if all of it is there: true when it was (and
 * `target` holds the bytes), false when nothing useful happened (read the usual way then).
 */
export function readCachedNow(fd: number, target: Buffer, position: number): boolean {
  if (readFromCache(fd, target, position) !== target.length) return false;
  cachedReadStats.cached++;
  return true;
}

/**
 * Fills `target` from `position` like readFully: from the page cache on the event loop where it
 * can, the rest on the thread pool. `done` is always called asynchronously.
 */
export function readFullyCached(fd: number, target: Buffer, position: number, done: Done): void {
  const n = readFromCache(fd, target, position);
  if (n === target.length) {
    cachedReadStats.cached++;
    return process.nextTick(done, null);
  }
  if (n <= 0) {
    // Nothing cached (or no way to ask): readFully also knows what to do at the end of the file.
    if (native !== null && target.length <= CACHED_READ_MAX_BYTES) cachedReadStats.missed++;
    return readFully(fd, target, position, done);
  }
  // The first part was cached; the rest is read (and waited for) on the pool.
  cachedReadStats.partial++;
  readFully(fd, target.subarray(n), position + n, done);
}
