// Creating, resetting (discard-on-reboot) and flattening (promote) overlays.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { after, test } from 'node:test';
import { checkOverlay } from './check-overlay.ts';
import { flattenOverlay } from './flatten-overlay.ts';
import { createOverlay, openOverlayDevice, resetOverlay } from './overlay-files.ts';
import { closeDevice, discardAt, makeBase, patternBytes, readAt, scratchDir, writeAt } from './test-kit.ts';

const scratch = scratchDir('overlay-lifecycle');
after(scratch.cleanup);
let counter = 0;

function paths(): { basePath: string; overlayPath: string; outPath: string } {
  const n = counter++;
  return { basePath: scratch.file(`base-${n}.img`), overlayPath: scratch.file(`overlay-${n}.ovl`), outPath: scratch.file(`flat-${n}.img`) };
}

test('createOverlay: sparse, refuses to overwrite, validates options, rounds the size up to blocks', async () => {
  const { basePath, overlayPath } = paths();
  makeBase(basePath, 1024 * 1024 + 100); // not a whole number of blocks
  const header = await createOverlay(overlayPath, basePath);
  assert.equal(header.clusterBytes, 16384);
  assert.equal(header.virtualSizeBytes, 1024 * 1024 + 512);
  assert.equal(header.generation, 1);
  assert.equal(fs.statSync(overlayPath).size, header.dataOffset);
  await assert.rejects(createOverlay(overlayPath, basePath), { code: 'EEXIST' });
  await assert.rejects(createOverlay(scratch.file('x.ovl'), basePath, { clusterBytes: 3000 }), { code: 'OVERLAY_BAD_OPTIONS' });
  await assert.rejects(createOverlay(scratch.file('x.ovl'), basePath, { virtualSizeBytes: 1000 }), { code: 'OVERLAY_BAD_OPTIONS' });
  await assert.rejects(createOverlay(scratch.file('x.ovl'), basePath, { imageDigest: Buffer.alloc(5) }), { code: 'OVERLAY_BAD_OPTIONS' });
  assert.deepEqual(fs.readdirSync(scratch.dir).filter((name) => name.includes('.tmp-')), [], 'no temporary files left behind');
  // The tail past the base reads as zeros; a larger virtual size grows the disk.
  const device = await openOverlayDevice(overlayPath, basePath);
  try {
    assert.ok((await readAt(device, 1024 * 1024 + 100, 412)).equals(Buffer.alloc(412)));
  } finally {
    await closeDevice(device);
  }
});

test('resetOverlay: back to the pristine base atomically, same identity, next generation', async () => {
  const { basePath, overlayPath } = paths();
  const image = makeBase(basePath, 2 * 1024 * 1024);
  await createOverlay(overlayPath, basePath);
  let device = await openOverlayDevice(overlayPath, basePath);
  const id = device.id;
  await writeAt(device, patternBytes(300000, 1), 12345 * 8);
  await discardAt(device, 1024 * 1024, 65536);
  await closeDevice(device);
  const before = fs.statSync(overlayPath);
  const header = await resetOverlay(overlayPath);
  assert.equal(header.generation, 2);
  assert.notEqual(fs.statSync(overlayPath).ino, before.ino, 'a new file was renamed over the old one');
  assert.equal((await checkOverlay(overlayPath)).dataClusters, 0);
  device = await openOverlayDevice(overlayPath, basePath);
  try {
    assert.equal(device.id, id, 'the machine keeps its disk identity');
    assert.equal(device.header.generation, 2);
    assert.ok((await readAt(device, 0, image.length)).equals(image));
    assert.equal(device.spaceUsage().dataClusters, 0);
  } finally {
    await closeDevice(device);
  }
  assert.deepEqual(fs.readdirSync(scratch.dir).filter((name) => name.includes('.tmp-')), []);
});

test('flattenOverlay: the merged disk as a plain, sparse file, with progress', async () => {
  const { basePath, overlayPath, outPath } = paths();
  const size = 9 * 1024 * 1024 + 512; // not a whole number of flatten chunks
  const model = Buffer.from(makeBase(basePath, size));
  await createOverlay(overlayPath, basePath);
  const device = await openOverlayDevice(overlayPath, basePath);
  await writeAt(device, patternBytes(100000, 2), 4096 + 512);
  patternBytes(100000, 2).copy(model, 4096 + 512);
  await discardAt(device, 4 * 1024 * 1024, 4 * 1024 * 1024 + 512); // a whole zero chunk: left as a hole
  model.fill(0, 4 * 1024 * 1024, 8 * 1024 * 1024 + 512);
  await writeAt(device, patternBytes(512, 3), size - 512);
  patternBytes(512, 3).copy(model, size - 512);
  await closeDevice(device);
  const progress: number[] = [];
  const result = await flattenOverlay(overlayPath, basePath, outPath, (doneBytes, totalBytes) => {
    assert.equal(totalBytes, size);
    progress.push(doneBytes);
  });
  assert.equal(result.sizeBytes, size);
  assert.ok(fs.readFileSync(outPath).equals(model));
  assert.equal(result.writtenBytes, size - 4 * 1024 * 1024, 'the zero chunk was not written');
  assert.deepEqual(progress, [4 * 1024 * 1024, 8 * 1024 * 1024, size], 'one report per 4 MiB chunk');
  await assert.rejects(flattenOverlay(overlayPath, basePath, outPath), { code: 'EEXIST' });
  assert.deepEqual(fs.readdirSync(scratch.dir).filter((name) => name.includes('.tmp-')), []);
});
