import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { after, describe, test } from 'node:test';
import { CACHED_READ_MAX_BYTES, cachedReadsAvailable, cachedReadStats, readFullyCached } from './cached-read.ts';

// A disk-backed folder: on tmpfs every page is "cached" and a miss could not be seen.
const dir = fs.mkdtempSync(path.join(process.env.DISKLESS_TEST_DISK_DIR ?? '/var/tmp', 'diskless-cached-read-'));
after(() => fs.rmSync(dir, { recursive: true, force: true }));

function read(fd: number, length: number, position: number): Promise<Buffer> {
  const target = Buffer.alloc(length, 0xee);
  return new Promise((resolve, reject) => {
    let sync = true;
    readFullyCached(fd, target, position, (err) => {
      if (sync) reject(new Error('done ran before readFullyCached returned'));
      else if (err !== null) reject(err);
      else resolve(target);
    });
    sync = false;
  });
}

describe('readFullyCached', () => {
  test('cached data is read on the event loop, byte for byte, and done stays asynchronous', async (t) => {
    if (!cachedReadsAvailable()) {
      t.skip('the native helper (native/file-io.c) is not built: every read takes the thread pool');
      return;
    }
    const file = path.join(dir, 'warm.bin');
    const data = randomBytes(1024 * 1024);
    fs.writeFileSync(file, data); // just written: in the page cache
    const fd = fs.openSync(file, 'r');
    try {
      const before = { ...cachedReadStats };
      for (const [at, length] of [
        [0, 4096],
        [12_345, 128 * 1024],
        [1024 * 1024 - 100, 100],
      ] as const) {
        assert.deepEqual(await read(fd, length, at), data.subarray(at, at + length), `${length} at ${at}`);
      }
      assert.equal(cachedReadStats.cached - before.cached, 3, 'all three from the cache');
    } finally {
      fs.closeSync(fd);
    }
  });

  test('past the end of the file reads zeros; larger reads and bad fds take the pool and keep its errors', async () => {
    const file = path.join(dir, 'short.bin');
    const data = randomBytes(10_000);
    fs.writeFileSync(file, data);
    const fd = fs.openSync(file, 'r');
    try {
      const tail = await read(fd, 8192, 8192);
      assert.deepEqual(tail.subarray(0, 10_000 - 8192), data.subarray(8192));
      assert.ok(tail.subarray(10_000 - 8192).every((b) => b === 0), 'zeros past the end');
      const big = await read(fd, CACHED_READ_MAX_BYTES + 4096, 0);
      assert.deepEqual(big.subarray(0, 10_000), data);
    } finally {
      fs.closeSync(fd);
    }
    await assert.rejects(read(fd, 4096, 0), { code: 'EBADF' });
  });

  test('a file dropped from the page cache is still read right (through the pool)', async (t) => {
    if (!cachedReadsAvailable()) {
      t.skip('the native helper (native/file-io.c) is not built');
      return;
    }
    const file = path.join(dir, 'cold.bin');
    const data = randomBytes(512 * 1024);
    fs.writeFileSync(file, data);
    const fd = fs.openSync(file, 'r');
    try {
      fs.fdatasyncSync(fd);
      // POSIX_FADV_DONTNEED through dd: drop this file's pages (clean after the sync).
      const dropped = dropCache(file);
      const before = { ...cachedReadStats };
      assert.deepEqual(await read(fd, 128 * 1024, 64 * 1024), data.subarray(64 * 1024, 192 * 1024));
      assert.ok(dropped, 'dd iflag=nocache dropped the pages');
      assert.equal(cachedReadStats.cached - before.cached, 0, 'not served from the cache');
      assert.ok(cachedReadStats.missed + cachedReadStats.partial > before.missed + before.partial, 'a miss, read on the pool');
    } finally {
      fs.closeSync(fd);
    }
  });
});

describe('readFullyCached on a memory file system', () => {
  test('a file on tmpfs is read on the event loop, and cached reads of disk-backed files go on after it', async (t) => {
    if (!cachedReadsAvailable()) {
      t.skip('the native helper (native/file-io.c) is not built');
      return;
    }
    if (!fs.existsSync('/dev/shm')) {
      t.skip('no /dev/shm (tmpfs) on this machine');
      return;
    }
    const shmDir = fs.mkdtempSync('/dev/shm/diskless-cached-read-');
    t.after(() => fs.rmSync(shmDir, { recursive: true, force: true }));
    const inMemory = path.join(shmDir, 'm.bin');
    const onDisk = path.join(dir, 'd.bin');
    const data = randomBytes(256 * 1024);
    fs.writeFileSync(inMemory, data);
    fs.writeFileSync(onDisk, data);
    const memFd = fs.openSync(inMemory, 'r');
    const diskFd = fs.openSync(onDisk, 'r');
    try {
      const before = { ...cachedReadStats };
      // tmpfs answers RWF_NOWAIT with EOPNOTSUPP: the helper reads it plainly, it is memory.
      assert.deepEqual(await read(memFd, 64 * 1024, 4096), data.subarray(4096, 4096 + 64 * 1024));
      assert.deepEqual(await read(diskFd, 64 * 1024, 8192), data.subarray(8192, 8192 + 64 * 1024));
      assert.equal(cachedReadStats.cached - before.cached, 2, 'both from memory, the disk-backed one after the tmpfs one');
      assert.ok(cachedReadsAvailable(), 'a tmpfs file does not switch cached reads off');
    } finally {
      fs.closeSync(memFd);
      fs.closeSync(diskFd);
    }
  });
});

/** Drops the file's pages from the page cache (dd's nocache flag: fadvise DONTNEED). */
function dropCache(file: string): boolean {
  try {
    execFileSync('dd', [`if=${file}`, 'iflag=nocache', 'count=0', 'status=none']);
    return true;
  } catch {
    return false;
  }
}
