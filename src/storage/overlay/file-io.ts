// Positioned reads and writes on one raw fd, callback style (the I/O hot path: no promise per
// request). As in ../file-device.ts, small transfers on a memory file system run
// synchronously: a memcpy there costs less than the thread-pool round trip; elsewhere reads of
// cached data are served on the event loop too (../cached-read.ts), and so are writes of a
// disk-backed file while they only fill the page cache (../page-cache-writes.ts says when).
// Completion is always asynchronous, so callers finish their bookkeeping before `done` runs.
import fs from 'node:fs';
import type { Done } from '../block-device.ts';
import { readCachedNow, readFullyCached } from '../cached-read.ts';
import type { PageCacheWriteGuard } from '../page-cache-writes.ts';
import { readFullySync, writeFully, writeFullySync, writevFully, writevFullySync } from '../positioned-io.ts';

export { errnoError } from '../positioned-io.ts';

export class FileIo {
  constructor(
    readonly fd: number,
    /** Reads of at most this many bytes run synchronously (0: never). */
    readonly syncReadMaxBytes = 0,
    /** Writes of at most this many bytes run synchronously (0: never). */
    readonly syncWriteMaxBytes = 0,
    /** Larger writes up to `maxBytes` run synchronously too while `guard` allows (disk-backed files). */
    readonly pageCache: { readonly maxBytes: number; readonly guard: PageCacheWriteGuard } | null = null,
  ) {}

  /** Fills all of `target` from `position`; bytes past end of file read as zeros. */
  read(target: Buffer, position: number, done: Done): void {
    if (target.length > 0 && target.length <= this.syncReadMaxBytes) return process.nextTick(done, readFullySync(this.fd, target, position));
    readFullyCached(this.fd, target, position, done);
  }

  /**
   * Fills `target` at once when that costs no wait: a memory file system, or data in the page
   * cache. False when it could not (then read it with `read`); true even past the end of the
   * file only on a memory file system (zeros), as `read` would give.
   */
  readNow(target: Buffer, position: number): boolean {
    if (target.length > 0 && target.length <= this.syncReadMaxBytes) return readFullySync(this.fd, target, position) === null;
    return readCachedNow(this.fd, target, position);
  }

  /** Writes `sources` back to back from `position` (one pwritev). */
  writev(sources: readonly Buffer[], position: number, done: Done): void {
    let total = 0;
    for (const source of sources) total += source.length;
    if (total > 0 && total <= this.syncWriteMaxBytes) return process.nextTick(done, writevFullySync(this.fd, sources, position));
    if (this.#onLoop(total)) return process.nextTick(done, this.#timed(() => writevFullySync(this.fd, sources, position)));
    writevFully(this.fd, sources, position, done);
  }

  /** Writes all of `source` at `position`, looping on short writes. */
  write(source: Buffer, position: number, done: Done): void {
    if (source.length > 0 && source.length <= this.syncWriteMaxBytes) return process.nextTick(done, writeFullySync(this.fd, source, position));
    if (this.#onLoop(source.length)) return process.nextTick(done, this.#timed(() => writeFullySync(this.fd, source, position)));
    writeFully(this.fd, source, position, done);
  }

  /** Whether a write of `bytes` to this disk-backed file runs on the event loop now. */
  #onLoop(bytes: number): boolean {
    return this.pageCache !== null && bytes > 0 && bytes <= this.pageCache.maxBytes && this.pageCache.guard.allows();
  }

  #timed(write: () => NodeJS.ErrnoException | null): NodeJS.ErrnoException | null {
    const started = performance.now();
    const err = write();
    this.pageCache?.guard.took(performance.now() - started);
    return err;
  }

  datasync(done: Done): void {
    fs.fdatasync(this.fd, done);
  }
}
