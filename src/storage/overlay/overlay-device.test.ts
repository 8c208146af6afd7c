// The overlay device against a model (a plain Buffer): read-your-writes, copy-on-write of
// partial clusters, concurrent writes into one cluster, discard, flush and reopen, a changed
// base refused, and reads split into the fewest preads.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { after, test } from 'node:test';
import type { Done } from '../block-device.ts';
import { FileIo } from './file-io.ts';
import { scanOverlay } from './map-scan.ts';
import { OverlayDevice } from './overlay-device.ts';
import { createOverlay, openOverlayDevice, type OpenOverlayOptions } from './overlay-files.ts';
import { SlotAllocator } from './slot-allocator.ts';
import { seededRandom as random } from '../../lib/seeded-random.ts';
import { closeDevice, discardAt, flushDevice, makeBase, patternBytes, readAt, scratchDir, writeAt } from './test-kit.ts';

const scratch = scratchDir('overlay-device');
after(scratch.cleanup);
let counter = 0;

interface Fixture {
  readonly basePath: string;
  readonly overlayPath: string;
  readonly model: Buffer;
}

async function fixture(baseBytes: number, clusterBytes: number): Promise<Fixture> {
  const n = counter++;
  const basePath = scratch.file(`base-${n}.img`);
  const overlayPath = scratch.file(`overlay-${n}.ovl`);
  const model = makeBase(basePath, baseBytes, n + 1);
  await createOverlay(overlayPath, basePath, { clusterBytes });
  return { basePath, overlayPath, model: Buffer.from(model) };
}

const modes: [string, OpenOverlayOptions][] = [
  ['thread pool I/O', { syncReadMaxBytes: 0, syncWriteMaxBytes: 0 }],
  ['synchronous I/O', { syncReadMaxBytes: 1 << 30, syncWriteMaxBytes: 1 << 30 }],
];

for (const [modeName, options] of modes) {
  for (const clusterBytes of [4096, 16384, 65536]) {
    test(`read-your-writes at random offsets and lengths (${clusterBytes / 1024} KiB clusters, ${modeName})`, async () => {
      // An odd size: the last cluster is partial, and the disk is not a whole number of clusters.
      const f = await fixture(2 * 1024 * 1024 + 3 * 512, clusterBytes);
      let device = await openOverlayDevice(f.overlayPath, f.basePath, options);
      const next = random(clusterBytes);
      const blocks = f.model.length / 512;
      try {
        for (let i = 0; i < 300; i++) {
          const start = next(blocks);
          const count = 1 + next(Math.min(blocks - start, next(4) === 0 ? 600 : 40));
          const choice = next(10);
          if (choice < 5) {
            const data = patternBytes(count * 512, i + 1000);
            await writeAt(device, data, start * 512, next(4) === 0);
            data.copy(f.model, start * 512);
          } else if (choice < 6) {
            await discardAt(device, start * 512, count * 512);
            f.model.fill(0, start * 512, (start + count) * 512);
          } else if (choice < 7) {
            await flushDevice(device);
          } else if (choice < 8 && i % 20 === 0) {
            await closeDevice(device);
            device = await openOverlayDevice(f.overlayPath, f.basePath, options);
          } else {
            const back = await readAt(device, start * 512, count * 512);
            assert.ok(back.equals(f.model.subarray(start * 512, (start + count) * 512)), `op ${i}: read ${start}+${count} differs from the model`);
          }
        }
        assert.ok((await readAt(device, 0, f.model.length)).equals(f.model), 'whole disk equals the model');
      } finally {
        await closeDevice(device);
      }
    });
  }
}

test('a partial write into a cluster the overlay lacks copies the rest from the base', async () => {
  const f = await fixture(1024 * 1024, 65536);
  const device = await openOverlayDevice(f.overlayPath, f.basePath);
  try {
    const cases: [number, number][] = [
      [3 * 65536 + 4096, 512], // in the middle: the whole cluster is read
      [5 * 65536, 1024], // at the head: only the tail is read
      [7 * 65536 + 65536 - 512, 512], // at the tail: only the head is read
      [9 * 65536 + 65536 - 512, 1024], // across two clusters: both are copied
    ];
    for (const [offset, length] of cases) {
      const data = Buffer.alloc(length, 0x5a);
      await writeAt(device, data, offset);
      data.copy(f.model, offset);
    }
    assert.ok((await readAt(device, 0, f.model.length)).equals(f.model));
    assert.equal(device.spaceUsage().dataClusters, 5);
    assert.equal(device.spaceUsage().dataBytes, 5 * 65536);
  } finally {
    await closeDevice(device);
  }
});

test('concurrent writes into one cluster: none is lost, overlapping ones apply in issue order', async () => {
  const f = await fixture(1024 * 1024, 65536);
  const device = await openOverlayDevice(f.overlayPath, f.basePath, { syncReadMaxBytes: 0, syncWriteMaxBytes: 0 });
  try {
    const writes: Promise<void>[] = [];
    for (let block = 0; block < 128; block += 2) {
      const data = Buffer.alloc(512, block);
      writes.push(writeAt(device, data, 4 * 65536 + block * 512));
      data.copy(f.model, 4 * 65536 + block * 512);
    }
    // Three overlapping writes in flight at once: the last issued must win.
    for (const value of [0xa1, 0xa2, 0xa3]) {
      const data = Buffer.alloc(1536, value);
      writes.push(writeAt(device, data, 6 * 65536 + 65536 - 512));
      data.copy(f.model, 6 * 65536 + 65536 - 512);
    }
    await Promise.all(writes);
    assert.ok((await readAt(device, 0, f.model.length)).equals(f.model));
    assert.equal(device.spaceUsage().dataClusters, 3);
  } finally {
    await closeDevice(device);
  }
});

test('discard: covered clusters read as zeros over base data, edges are zeroed, space is reused after a flush', async () => {
  const f = await fixture(1024 * 1024, 16384);
  const device = await openOverlayDevice(f.overlayPath, f.basePath);
  try {
    await writeAt(device, patternBytes(8 * 16384, 77), 0);
    patternBytes(8 * 16384, 77).copy(f.model, 0);
    const fileBytes = device.spaceUsage().fileBytes;
    await discardAt(device, 512, 8 * 16384); // clusters 1..7 whole, edges in 0 and 8
    f.model.fill(0, 512, 512 + 8 * 16384);
    await discardAt(device, 20 * 16384, 4 * 16384); // base clusters: zeroed without data
    f.model.fill(0, 20 * 16384, 24 * 16384);
    assert.ok((await readAt(device, 0, f.model.length)).equals(f.model));
    assert.equal(device.spaceUsage().zeroClusters, 7 + 4);
    // The discarded slots are not reused before a flush has made their zeroed entries durable.
    await writeAt(device, Buffer.alloc(16384, 1), 40 * 16384);
    Buffer.alloc(16384, 1).copy(f.model, 40 * 16384);
    assert.equal(device.spaceUsage().fileBytes, fileBytes + 2 * 16384, 'two new slots: edge cluster 8, then cluster 40');
    await flushDevice(device);
    assert.equal(device.spaceUsage().freeSlots, 7);
    for (let i = 0; i < 7; i++) {
      await writeAt(device, Buffer.alloc(16384, 2 + i), (50 + i) * 16384);
      Buffer.alloc(16384, 2 + i).copy(f.model, (50 + i) * 16384);
    }
    assert.equal(device.spaceUsage().fileBytes, fileBytes + 2 * 16384, 'the seven freed slots were reused');
    assert.equal(device.spaceUsage().freeSlots, 0);
    assert.ok((await readAt(device, 0, f.model.length)).equals(f.model));
  } finally {
    await closeDevice(device);
  }
  const reopened = await openOverlayDevice(f.overlayPath, f.basePath);
  try {
    assert.ok((await readAt(reopened, 0, f.model.length)).equals(f.model), 'the same after reopening');
  } finally {
    await closeDevice(reopened);
  }
});

test('close truncates free slots at the end of the file', async () => {
  const f = await fixture(1024 * 1024, 16384);
  const device = await openOverlayDevice(f.overlayPath, f.basePath);
  await writeAt(device, patternBytes(10 * 16384, 3), 0);
  await discardAt(device, 4 * 16384, 6 * 16384);
  await closeDevice(device);
  const { dataOffset } = (await createHeaderOf(f.overlayPath));
  assert.equal(fs.statSync(f.overlayPath).size, dataOffset + 4 * 16384);
});

async function createHeaderOf(overlayPath: string): Promise<{ dataOffset: number }> {
  const fd = fs.openSync(overlayPath, 'r');
  try {
    return (await scanOverlay(fd)).header;
  } finally {
    fs.closeSync(fd);
  }
}

test('a base that changed is refused with a message that says so', async () => {
  const f = await fixture(4 * 1024 * 1024, 65536);
  fs.appendFileSync(f.basePath, Buffer.alloc(512));
  await assert.rejects(openOverlayDevice(f.overlayPath, f.basePath), (err: Error & { code?: string }) => {
    assert.equal(err.code, 'OVERLAY_BASE_SIZE_CHANGED');
    assert.match(err.message, /is 4194816 bytes but the overlay was made over a 4194304-byte image/);
    return true;
  });
  fs.truncateSync(f.basePath, 4 * 1024 * 1024);
  const fd = fs.openSync(f.basePath, 'r+');
  fs.writeSync(fd, Buffer.from('changed'), 0, 7, 4 * 1024 * 1024 - 7); // the last bytes are always sampled
  fs.closeSync(fd);
  await assert.rejects(openOverlayDevice(f.overlayPath, f.basePath), (err: Error & { code?: string }) => {
    assert.equal(err.code, 'OVERLAY_BASE_CONTENT_CHANGED');
    assert.match(err.message, /has different content from the image the overlay was made over/);
    return true;
  });
});

test('an image digest recorded at creation must match the one given at open', async () => {
  const n = counter++;
  const basePath = scratch.file(`digest-${n}.img`);
  const overlayPath = scratch.file(`digest-${n}.ovl`);
  makeBase(basePath, 1024 * 1024);
  await createOverlay(overlayPath, basePath, { imageDigest: Buffer.alloc(32, 1) });
  await closeDevice(await openOverlayDevice(overlayPath, basePath, { imageDigest: Buffer.alloc(32, 1) }));
  await closeDevice(await openOverlayDevice(overlayPath, basePath)); // no digest given: not checked
  await assert.rejects(openOverlayDevice(overlayPath, basePath, { imageDigest: Buffer.alloc(32, 2) }), { code: 'OVERLAY_IMAGE_DIGEST_MISMATCH' });
});

test('flush: nothing written costs no cycle work; concurrent flushes and FUA writes share cycles', async () => {
  const f = await fixture(1024 * 1024, 65536);
  const device = await openOverlayDevice(f.overlayPath, f.basePath, { syncReadMaxBytes: 0, syncWriteMaxBytes: 0 });
  try {
    await flushDevice(device);
    const writes = Array.from({ length: 16 }, (_, i) => writeAt(device, Buffer.alloc(4096, i), i * 65536, true));
    await Promise.all(writes);
    const before = device.flushCycles;
    await Promise.all(Array.from({ length: 20 }, () => flushDevice(device)));
    assert.ok(device.flushCycles - before <= 2, `20 concurrent flushes took ${device.flushCycles - before} cycles`);
    assert.ok(device.flushCycles <= 1 + 16, 'FUA writes were grouped');
  } finally {
    await closeDevice(device);
  }
});

test('errors: out of range, read-only, after close; the device reports its geometry', async () => {
  const f = await fixture(1024 * 1024, 65536);
  const device = await openOverlayDevice(f.overlayPath, f.basePath);
  assert.equal(device.sizeBytes, 1024 * 1024);
  assert.equal(device.blockSize, 512);
  assert.equal(device.canDiscard, true);
  assert.match(device.id, /^[0-9a-f]{16}$/);
  await assert.rejects(readAt(device, 1024 * 1024 - 512, 1024), { code: 'EINVAL' });
  await assert.rejects(writeAt(device, Buffer.alloc(512), -512), { code: 'EINVAL' });
  await assert.rejects(discardAt(device, 0, 2 * 1024 * 1024), { code: 'EINVAL' });
  await closeDevice(device);
  await assert.rejects(readAt(device, 0, 512), { code: 'EBADF' });
  await closeDevice(device); // a second close is harmless
  const readOnly = await openOverlayDevice(f.overlayPath, f.basePath, { readOnly: true });
  try {
    assert.equal(readOnly.readOnly, true);
    assert.equal(readOnly.id, device.id);
    await assert.rejects(writeAt(readOnly, Buffer.alloc(512), 0), { code: 'EROFS' });
    await assert.rejects(discardAt(readOnly, 0, 512), { code: 'EROFS' });
  } finally {
    await closeDevice(readOnly);
  }
});

/** Counts preads, to check that a read spanning clusters is split into the fewest. */
class CountingIo extends FileIo {
  reads: [number, number][] = [];
  override read(target: Buffer, position: number, done: Done): void {
    this.reads.push([position, target.length]);
    super.read(target, position, done);
  }
}

test('a read spanning clusters makes one pread per run of base or consecutive overlay clusters', async () => {
  const f = await fixture(1024 * 1024, 65536);
  const setup = await openOverlayDevice(f.overlayPath, f.basePath);
  await writeAt(setup, patternBytes(2 * 65536, 5), 2 * 65536); // clusters 2, 3 in slots 0, 1
  await writeAt(setup, patternBytes(65536, 6), 6 * 65536); // cluster 6 in slot 2
  await discardAt(setup, 8 * 65536, 65536); // cluster 8 zeroed
  await closeDevice(setup);
  const overlayFd = fs.openSync(f.overlayPath, 'r+');
  const scan = await scanOverlay(overlayFd);
  const overlay = new CountingIo(overlayFd);
  const base = new CountingIo(fs.openSync(f.basePath, 'r'));
  const device = new OverlayDevice({ path: f.overlayPath, header: scan.header, overlay, base, map: scan.map, slots: new SlotAllocator(scan.slotsInUse, scan.used), readOnly: false });
  try {
    const back = await readAt(device, 512, 10 * 65536 - 1024);
    const dataOffset = scan.header.dataOffset;
    assert.deepEqual(base.reads, [
      [512, 2 * 65536 - 512], // clusters 0-1
      [4 * 65536, 2 * 65536], // clusters 4-5
      [7 * 65536, 65536], // cluster 7 (8 is zeroed: no read)
      [9 * 65536, 65536 - 512], // cluster 9
    ]);
    assert.deepEqual(overlay.reads, [
      [dataOffset, 2 * 65536], // clusters 2-3: consecutive slots, one pread
      [dataOffset + 2 * 65536, 65536], // cluster 6
    ]);
    const expected = Buffer.from(f.model);
    patternBytes(2 * 65536, 5).copy(expected, 2 * 65536);
    patternBytes(65536, 6).copy(expected, 6 * 65536);
    expected.fill(0, 8 * 65536, 9 * 65536);
    assert.ok(back.equals(expected.subarray(512, 10 * 65536 - 512)));
  } finally {
    await closeDevice(device);
  }
});

class WriteCountingIo extends FileIo {
  writes: [number, number][] = [];
  asyncReads = 0;
  /** false: behave as a base whose data is not at hand (every readNow refused). */
  atHand = true;
  override read(target: Buffer, position: number, done: Done): void {
    this.asyncReads++;
    super.read(target, position, done);
  }
  override readNow(target: Buffer, position: number): boolean {
    return this.atHand && super.readNow(target, position);
  }
  override write(source: Buffer, position: number, done: Done): void {
    this.writes.push([position, source.length]);
    super.write(source, position, done);
  }
  override writev(sources: readonly Buffer[], position: number, done: Done): void {
    this.writes.push([position, sources.reduce((n, b) => n + b.length, 0)]);
    super.writev(sources, position, done);
  }
}

for (const atHand of [true, false]) {
  test(`a write straddling clusters: ${atHand ? 'base content at hand, one pwritev for all its new slots' : 'base content on the pool, one pwrite per piece'}`, async () => {
    const cs = 16384;
    const f = await fixture(1024 * 1024, cs);
    const setup = await openOverlayDevice(f.overlayPath, f.basePath);
    await closeDevice(setup);
    const overlayFd = fs.openSync(f.overlayPath, 'r+');
    const scan = await scanOverlay(overlayFd);
    const overlay = new WriteCountingIo(overlayFd, 1 << 30, 1 << 30);
    const base = new WriteCountingIo(fs.openSync(f.basePath, 'r'), 1 << 30, 0);
    base.atHand = atHand;
    const device = new OverlayDevice({ path: f.overlayPath, header: scan.header, overlay, base, map: scan.map, slots: new SlotAllocator(scan.slotsInUse, scan.used), readOnly: false });
    try {
      // 64 KiB at a 4 KiB offset into cluster 2: clusters 2 (partial), 3-5 (whole), 6 (partial).
      const data = patternBytes(65536, 9);
      const at = 2 * cs + 4096;
      await writeAt(device, data, at);
      const dataOffset = scan.header.dataOffset;
      if (atHand) {
        assert.deepEqual(overlay.writes, [[dataOffset, 5 * cs]], 'five new slots in one pwritev');
        assert.equal(base.asyncReads, 0, 'the base was read at once, not on the pool');
      } else {
        assert.equal(overlay.writes.length, 3, 'whole clusters in one pwrite, each partial one on its own');
        assert.equal(base.asyncReads, 2, 'the head and the tail of the write from the base');
      }
      const expected = Buffer.from(f.model);
      data.copy(expected, at);
      assert.ok((await readAt(device, 0, 8 * cs)).equals(expected.subarray(0, 8 * cs)));
      await flushDevice(device);
    } finally {
      await closeDevice(device);
    }
  });
}
