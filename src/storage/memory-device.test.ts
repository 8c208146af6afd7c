import assert from 'node:assert/strict';
import { test } from 'node:test';
import { MemoryDevice } from './memory-device.ts';

const op = (fn: (done: (err: NodeJS.ErrnoException | null) => void) => void): Promise<NodeJS.ErrnoException | null> =>
  new Promise((resolve) => {
    let sync = true;
    fn((err) => {
      assert.equal(sync, false, 'callbacks are asynchronous');
      resolve(err);
    });
    sync = false;
  });

test('read/write/discard/flush on RAM', async () => {
  const d = new MemoryDevice({ sizeBytes: 4096 });
  assert.equal(await op((done) => d.write(Buffer.alloc(512, 7), 512, true, done)), null);
  const target = Buffer.alloc(1024);
  assert.equal(await op((done) => d.read(target, 0, done)), null);
  assert.equal(target[0], 0);
  assert.equal(target[512], 7);
  assert.equal(await op((done) => d.discard(512, 512, done)), null);
  assert.equal(d.data[512], 0);
  assert.equal(await op((done) => d.flush(done)), null);
  assert.deepEqual(d.calls, { read: 1, write: 1, durableWrite: 1, flush: 1, discard: 1 });
});

test('range errors, read-only, injected faults', async () => {
  const d = new MemoryDevice({ sizeBytes: 1024, readOnly: true });
  assert.equal((await op((done) => d.read(Buffer.alloc(512), 1024, done)))?.code, 'EINVAL');
  assert.equal((await op((done) => d.write(Buffer.alloc(512), 0, false, done)))?.code, 'EROFS');
  d.failNext('read', 'EIO');
  assert.equal((await op((done) => d.read(Buffer.alloc(512), 0, done)))?.code, 'EIO');
  assert.equal(await op((done) => d.read(Buffer.alloc(512), 0, done)), null, 'a fault fires once');
  assert.throws(() => new MemoryDevice({ sizeBytes: 1000 }), RangeError);
});
