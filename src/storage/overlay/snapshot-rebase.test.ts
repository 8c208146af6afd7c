// Snapshots (freeze + copy), rollback (copy back) and moving an overlay to a new base with its
// changes (rebase).
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { after, test } from 'node:test';
import { checkOverlay } from './check-overlay.ts';
import { copyOverlayFile } from './copy-overlay.ts';
import { createOverlay, openOverlayDevice } from './overlay-files.ts';
import { rebaseOverlay } from './rebase-overlay.ts';
import { closeDevice, discardAt, makeBase, patternBytes, readAt, scratchDir, writeAt } from './test-kit.ts';

const scratch = scratchDir('overlay-snapshot');
after(scratch.cleanup);
const MiB = 1024 * 1024;
let counter = 0;
const fresh = (name: string): string => scratch.file(`${name}-${counter++}`);

test('freezeWrites holds writes until thawed, lets reads through, and leaves a complete file to copy', async () => {
  const basePath = fresh('base');
  const overlayPath = fresh('ovl');
  const base = makeBase(basePath, 2 * MiB, 3);
  await createOverlay(overlayPath, basePath);
  const device = await openOverlayDevice(overlayPath, basePath);
  try {
    const a = patternBytes(64 * 1024, 10);
    await writeAt(device, a, 0); // not durable: the freeze's flush must make it so
    const thaw = await device.freezeWrites();
    let landed = false;
    const held = writeAt(device, patternBytes(4096, 11), 0).then(() => (landed = true));
    await new Promise((r) => setTimeout(r, 20));
    assert.equal(landed, false, 'a write waits while frozen');
    assert.ok((await readAt(device, 0, a.length)).equals(a), 'reads go on while frozen');
    await assert.rejects(device.freezeWrites(), { code: 'EBUSY' });
    const snapshot = fresh('snap');
    const copied = await copyOverlayFile(overlayPath, snapshot);
    assert.ok(copied.writtenBytes < copied.fileBytes, 'the copy is sparse');
    thaw();
    await held;
    assert.equal(landed, true);
    // The snapshot is the disk as of the freeze, and a valid overlay by itself.
    assert.equal((await checkOverlay(snapshot)).ok, true);
    const snapDevice = await openOverlayDevice(snapshot, basePath, { readOnly: true });
    try {
      assert.ok((await readAt(snapDevice, 0, a.length)).equals(a));
      assert.ok((await readAt(snapDevice, MiB, 4096)).equals(base.subarray(MiB, MiB + 4096)));
    } finally {
      await closeDevice(snapDevice);
    }
  } finally {
    await closeDevice(device);
  }
});

test('rollback: copying a snapshot back brings the disk to that moment; a copy refuses a non-overlay and an existing target', async () => {
  const basePath = fresh('base');
  const overlayPath = fresh('ovl');
  makeBase(basePath, MiB, 4);
  await createOverlay(overlayPath, basePath);
  const snapshot = fresh('snap');
  let device = await openOverlayDevice(overlayPath, basePath);
  const before = patternBytes(32 * 1024, 20);
  await writeAt(device, before, 100 * 1024, true);
  await closeDevice(device);
  await copyOverlayFile(overlayPath, snapshot);
  device = await openOverlayDevice(overlayPath, basePath);
  await writeAt(device, patternBytes(32 * 1024, 21), 100 * 1024, true);
  await discardAt(device, 512 * 1024, 64 * 1024);
  await closeDevice(device);
  await copyOverlayFile(snapshot, overlayPath, { replace: true });
  device = await openOverlayDevice(overlayPath, basePath);
  try {
    assert.ok((await readAt(device, 100 * 1024, before.length)).equals(before));
    assert.notDeepEqual(await readAt(device, 512 * 1024, 4096), Buffer.alloc(4096), 'the discard after the snapshot is undone');
  } finally {
    await closeDevice(device);
  }
  await assert.rejects(copyOverlayFile(snapshot, overlayPath), { code: 'EEXIST' });
  await assert.rejects(copyOverlayFile(basePath, fresh('x')), { code: 'OVERLAY_BAD_OPTIONS' });
  assert.deepEqual(fs.readdirSync(scratch.dir).filter((n) => n.includes('.tmp-')), []);
});

test('rebase keeps the changed clusters (data and discards) over the new base, keeps the disk id, drops what is past a smaller base', async () => {
  const oldBase = fresh('old');
  const newBase = fresh('new');
  const overlayPath = fresh('ovl');
  makeBase(oldBase, 2 * MiB, 5);
  const next = makeBase(newBase, MiB + 512 * 1024, 6); // smaller than the old version
  await createOverlay(overlayPath, oldBase);
  let device = await openOverlayDevice(overlayPath, oldBase);
  const id = device.id;
  const mine = patternBytes(20 * 1024, 30); // spans two 16 KiB clusters, partly
  await writeAt(device, mine, 40 * 1024);
  await discardAt(device, 256 * 1024, 64 * 1024);
  await writeAt(device, patternBytes(16 * 1024, 31), MiB + 768 * 1024); // past the new size
  await closeDevice(device);
  const result = await rebaseOverlay(overlayPath, newBase);
  assert.equal(result.virtualSizeBytes, next.length);
  assert.equal(result.droppedClusters, 1);
  assert.equal(result.keptClusters, 2 + 4);
  assert.equal((await checkOverlay(overlayPath)).ok, true);
  await assert.rejects(openOverlayDevice(overlayPath, oldBase), 'the overlay now belongs to the new base');
  device = await openOverlayDevice(overlayPath, newBase);
  try {
    assert.equal(device.id, id, 'the disk keeps its identity');
    assert.equal(device.sizeBytes, next.length);
    assert.ok((await readAt(device, 40 * 1024, mine.length)).equals(mine), 'own writes kept');
    // The rest of a partly written cluster came from the old base when it was first written:
    // the cluster moves whole, as the machine saw it.
    assert.ok((await readAt(device, 256 * 1024, 64 * 1024)).equals(Buffer.alloc(64 * 1024)), 'discards kept');
    assert.ok((await readAt(device, 512 * 1024, 4096)).equals(next.subarray(512 * 1024, 512 * 1024 + 4096)), 'unchanged clusters read the new version');
  } finally {
    await closeDevice(device);
  }
});
