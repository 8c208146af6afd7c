import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import type { BlockDevice } from './block-device.ts';
import { createSparseFile, deviceIdForPath, FileDevice, openFileDevice, PAGE_CACHE_WRITE_MAX_BYTES, SYNC_WRITE_MAX_BYTES } from './file-device.ts';
import { RecordingGuard } from './page-cache-test-kit.ts';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'diskless-file-device-'));
after(() => fs.rmSync(dir, { recursive: true, force: true }));
let counter = 0;
const tmpFile = (): string => path.join(dir, `disk-${counter++}.img`);

const call = <A extends unknown[]>(fn: (...args: [...A, (err: NodeJS.ErrnoException | null) => void]) => void, ...args: A): Promise<void> =>
  new Promise((resolve, reject) => fn(...args, (err) => (err === null ? resolve() : reject(err))));
const read = (d: BlockDevice, target: Buffer, offset: number) => call(d.read.bind(d), target, offset);
const write = (d: BlockDevice, source: Buffer, offset: number, durable = false) => call(d.write.bind(d), source, offset, durable);
const close = (d: BlockDevice) => call(d.close.bind(d));

test('createSparseFile makes a sparse file of the size, and refuses to overwrite', async () => {
  const file = tmpFile();
  await createSparseFile(file, 64 * 1024 * 1024);
  const stat = fs.statSync(file);
  assert.equal(stat.size, 64 * 1024 * 1024);
  assert.ok(stat.blocks * 512 < 1024 * 1024, 'no data blocks allocated');
  await assert.rejects(createSparseFile(file, 1024), { code: 'EEXIST' });
});

test('size is rounded down to whole blocks; id is a stable hash of the real path', async () => {
  const file = tmpFile();
  fs.writeFileSync(file, Buffer.alloc(4096 + 100));
  const link = path.join(dir, 'link.img');
  fs.symlinkSync(file, link);
  const d = await openFileDevice(link, { blockSize: 4096 });
  try {
    assert.equal(d.sizeBytes, 4096);
    assert.equal(d.blockSize, 4096);
    assert.equal(d.canDiscard, false);
    assert.equal(d.id, deviceIdForPath(fs.realpathSync(file)));
    assert.match(d.id, /^[0-9a-f]{16}$/);
    assert.equal(d.info.isBlockDevice, false);
  } finally {
    await close(d);
  }
  await assert.rejects(openFileDevice(file, { blockSize: 1000 }), RangeError);
});

test('write then read round trip, durable writes, flush', async () => {
  const file = tmpFile();
  await createSparseFile(file, 1024 * 1024);
  const d = await openFileDevice(file);
  try {
    const data = Buffer.from(Array.from({ length: 8192 }, (_, i) => i & 0xff));
    await write(d, data, 4096);
    await write(d, data.subarray(0, 512), 0, true);
    await call(d.flush.bind(d));
    const back = Buffer.alloc(8192);
    await read(d, back, 4096);
    assert.deepEqual(back, data);
    assert.deepEqual(fs.readFileSync(file).subarray(4096, 4096 + 8192), data);
    assert.deepEqual(fs.readFileSync(file).subarray(0, 512), data.subarray(0, 512));
  } finally {
    await close(d);
  }
});

test('reads past end of file (file shrank underneath) are zero-filled', async () => {
  const file = tmpFile();
  fs.writeFileSync(file, Buffer.alloc(2048, 0x11));
  const d = await openFileDevice(file);
  try {
    fs.truncateSync(file, 1024 + 100);
    const target = Buffer.alloc(2048, 0xff);
    await read(d, target, 0);
    assert.ok(target.subarray(0, 1124).every((b) => b === 0x11));
    assert.ok(target.subarray(1124).every((b) => b === 0));
  } finally {
    await close(d);
  }
});

test('ranges beyond the device are refused', async () => {
  const file = tmpFile();
  await createSparseFile(file, 4096);
  const d = await openFileDevice(file);
  try {
    await assert.rejects(read(d, Buffer.alloc(1024), 3584), { code: 'EINVAL' });
    await assert.rejects(write(d, Buffer.alloc(1024), 3584), { code: 'EINVAL' });
    await assert.rejects(call(d.discard.bind(d), 0, 8192), { code: 'EINVAL' });
    assert.equal(fs.statSync(file).size, 4096);
  } finally {
    await close(d);
  }
});

test('read-only devices refuse writes and discards', async () => {
  const file = tmpFile();
  await createSparseFile(file, 4096);
  const d = await openFileDevice(file, { readOnly: true });
  try {
    assert.equal(d.readOnly, true);
    await assert.rejects(write(d, Buffer.alloc(512), 0), { code: 'EROFS' });
    await assert.rejects(call(d.discard.bind(d), 0, 512), { code: 'EROFS' });
    await read(d, Buffer.alloc(512), 0);
  } finally {
    await close(d);
  }
});

test('discard zeroes the range, across chunk boundaries, and leaves holes unallocated', async () => {
  const file = tmpFile();
  const size = 4 * 1024 * 1024;
  await createSparseFile(file, size);
  const d = await openFileDevice(file);
  try {
    await write(d, Buffer.alloc(512, 0xab), 1024 * 1024 - 512);
    await write(d, Buffer.alloc(512, 0xcd), 2 * 1024 * 1024 + 512);
    await write(d, Buffer.alloc(512, 0xef), 3 * 1024 * 1024);
    await call(d.discard.bind(d), 512, 3 * 1024 * 1024 - 512);
    const contents = fs.readFileSync(file);
    assert.ok(contents.subarray(0, 3 * 1024 * 1024).every((b) => b === 0));
    assert.equal(contents[3 * 1024 * 1024], 0xef);
    assert.ok(fs.statSync(file).blocks * 512 < 3 * 1024 * 1024, 'the untouched holes stayed holes');
  } finally {
    await close(d);
  }
});

test('opening a directory or a missing file fails', async () => {
  await assert.rejects(openFileDevice(path.join(dir, 'missing.img')), { code: 'ENOENT' });
  await assert.rejects(openFileDevice(dir));
});

test('small requests run synchronously when asked (memory file systems), with the same results', async () => {
  const file = tmpFile();
  fs.writeFileSync(file, Buffer.alloc(8192, 0x22));
  const d = await openFileDevice(file, { syncReadMaxBytes: 4096, syncWriteMaxBytes: 4096 });
  try {
    assert.equal(d.syncReadMaxBytes, 4096);
    const data = Buffer.alloc(4096, 0x5a);
    let called = false;
    const written = new Promise<void>((resolve, reject) =>
      d.write(data, 4096, false, (err) => {
        called = true;
        return err === null ? resolve() : reject(err);
      }),
    );
    assert.equal(called, false, 'done is never called from inside write()');
    await written;
    assert.deepEqual(fs.readFileSync(file).subarray(4096), data);
    const back = Buffer.alloc(4096);
    await read(d, back, 4096);
    assert.deepEqual(back, data);
    // Larger than the limit: the thread pool, same bytes.
    const all = Buffer.alloc(8192);
    await read(d, all, 0);
    assert.ok(all.subarray(0, 4096).every((b) => b === 0x22));
    fs.truncateSync(file, 4096 + 100);
    const past = Buffer.alloc(4096, 0xff);
    await read(d, past, 4096);
    assert.ok(past.subarray(0, 100).every((b) => b === 0x5a) && past.subarray(100).every((b) => b === 0), 'zero-filled past end of file');
  } finally {
    await close(d);
  }
});

test('files on tmpfs get synchronous small I/O by default; others do not', async () => {
  const file = tmpFile();
  await createSparseFile(file, 4096);
  const d = await openFileDevice(file);
  const onTmpfs = (await fs.promises.statfs(dir)).type === 0x01021994;
  try {
    assert.equal(d.syncReadMaxBytes, onTmpfs ? 64 * 1024 : 0);
    assert.equal(d.syncWriteMaxBytes, onTmpfs ? SYNC_WRITE_MAX_BYTES : 0);
    assert.equal(d.pageCache?.maxBytes ?? 0, onTmpfs ? 0 : PAGE_CACHE_WRITE_MAX_BYTES, 'disk-backed files write to the page cache on the event loop');
  } finally {
    await close(d);
  }
});

test('small writes on a memory file system are batched per tick: order kept, reads and flushes see them', async () => {
  const file = tmpFile();
  await createSparseFile(file, 1024 * 1024);
  // Batching applies where small writes are synchronous (a memory file system); forced here.
  const d = await openFileDevice(file, { syncWriteMaxBytes: 64 * 1024 });
  try {
    const order: number[] = [];
    const errors: Array<NodeJS.ErrnoException | null> = [];
    let returned = false;
    const block = (fill: number) => Buffer.alloc(4096, fill);
    const writes: Array<[number, Buffer]> = [];
    // A run of 20 adjacent blocks, a gap, 5 more, then block 3 again: the last write wins.
    for (let i = 0; i < 20; i++) writes.push([i * 4096, block(i + 1)]);
    for (let i = 30; i < 35; i++) writes.push([i * 4096, block(i + 1)]);
    writes.push([3 * 4096, block(0xee)]);
    writes.forEach(([offset, data], i) =>
      d.write(data, offset, false, (err) => {
        assert.ok(returned, 'never called from inside write()');
        order.push(i);
        errors.push(err);
      }),
    );
    // A read in the same tick sees the queued data.
    const early = Buffer.alloc(8192);
    const readDone = read(d, early, 2 * 4096);
    returned = true;
    await readDone;
    assert.ok(early.subarray(0, 4096).equals(block(3)));
    assert.ok(early.subarray(4096).equals(block(0xee)));
    await call(d.flush.bind(d));
    assert.deepEqual(order, writes.map((_, i) => i), 'callbacks in write order');
    assert.ok(errors.every((e) => e === null));
    const content = fs.readFileSync(file);
    for (let i = 0; i < 20; i++) assert.equal(content[i * 4096 + 7], i === 3 ? 0xee : i + 1);
    for (let i = 20; i < 30; i++) assert.equal(content[i * 4096 + 7], 0, 'the gap stays a hole');
    for (let i = 30; i < 35; i++) assert.equal(content[i * 4096 + 7], i + 1);
  } finally {
    await close(d);
  }
});

test('disk-backed: non-durable writes up to the limit go out on the event loop, timed, while the guard allows', async () => {
  for (const allow of [true, false]) {
    const file = tmpFile();
    await createSparseFile(file, 1024 * 1024);
    const fd = fs.openSync(file, 'r+');
    const guard = new RecordingGuard(allow);
    const d = new FileDevice(fd, 512, 1024 * 1024, false, 'test', { path: file, realPath: file, isBlockDevice: false }, 0, 0, { maxBytes: 64 * 1024, guard });
    const small = Buffer.alloc(8192, 7);
    const next = Buffer.alloc(8192, 8);
    const durable = Buffer.alloc(4096, 9);
    const large = Buffer.alloc(128 * 1024, 10);
    await Promise.all([write(d, small, 0), write(d, next, 8192), write(d, durable, 65536, true), write(d, large, 131072)]);
    const back = Buffer.alloc(1024 * 1024);
    await read(d, back, 0);
    assert.deepEqual(back.subarray(0, 16384), Buffer.concat([small, next]));
    assert.deepEqual(back.subarray(65536, 69632), durable);
    assert.deepEqual(back.subarray(131072, 262144), large);
    // The two small ones left together, before the durable write: one timed batch.
    assert.equal(guard.durations.length, allow ? 1 : 0);
    await close(d);
  }
});
