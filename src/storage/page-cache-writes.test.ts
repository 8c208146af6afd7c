import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { FileIo } from './overlay/file-io.ts';
import { RecordingGuard } from './page-cache-test-kit.ts';
import { PageCacheWriteGuard, SLOW_WRITE_MS } from './page-cache-writes.ts';

test('a slow write pauses writes on the event loop, twice as long each time, and a quiet while forgives', () => {
  let now = 0;
  const guard = new PageCacheWriteGuard(() => now);
  assert.equal(guard.allows(), true);
  guard.took(SLOW_WRITE_MS); // at the limit: fine
  assert.equal(guard.allows(), true);
  guard.took(SLOW_WRITE_MS + 1);
  assert.equal(guard.allows(), false);
  now = 999;
  assert.equal(guard.allows(), false);
  now = 1000;
  assert.equal(guard.allows(), true, 'back after the first back-off (1 s)');
  guard.took(50);
  now = 2999;
  assert.equal(guard.allows(), false, 'a second slow write: 2 s');
  now = 3000;
  assert.equal(guard.allows(), true);
  // Throttled for good: each write right after a pause is slow again. 4, 8, 16, 32, then 60 s.
  for (const pause of [4000, 8000, 16_000, 32_000, 60_000, 60_000]) {
    guard.took(50);
    now += pause - 1;
    assert.equal(guard.allows(), false, `paused ${pause} ms`);
    now += 1;
    assert.equal(guard.allows(), true);
  }
  now += 60_001;
  guard.took(50);
  now += 1000;
  assert.equal(guard.allows(), true, 'a minute without a slow write: 1 s again');
  assert.equal(guard.slowWrites, 9);
});

test('FileIo writes a disk-backed file on the event loop while the guard allows, timing each write; else through the pool', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'diskless-pcw-'));
  try {
    for (const allow of [true, false]) {
      const file = path.join(dir, `f-${allow}`);
      const fd = fs.openSync(file, 'w+');
      const guard = new RecordingGuard(allow);
      const io = new FileIo(fd, 0, 0, { maxBytes: 64 * 1024, guard });
      const a = Buffer.alloc(4096, 1);
      const b = Buffer.alloc(8192, 2);
      const big = Buffer.alloc(128 * 1024, 3); // above maxBytes: always the pool
      let sync = true;
      const wrote = new Promise<void>((resolve, reject) =>
        io.writev([a, b], 4096, (err) => {
          if (err !== null) return reject(err);
          io.write(big, 65536, (err2) => (err2 !== null ? reject(err2) : resolve()));
        }),
      );
      sync = false;
      await wrote;
      assert.equal(sync, false, 'done is never called before write() returns');
      fs.closeSync(fd);
      const bytes = fs.readFileSync(file);
      assert.deepEqual(bytes.subarray(4096, 4096 + 12288), Buffer.concat([a, b]));
      assert.deepEqual(bytes.subarray(65536), big);
      assert.equal(guard.durations.length, allow ? 1 : 0, 'only the small write ran on the loop, and was timed');
    }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
