// Twenty machines over one golden image: each overlay sees its own writes and the image
// elsewhere, the image file never changes, and each overlay reports only what it changed.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import { after, test } from 'node:test';
import type { OverlayDevice } from './overlay-device.ts';
import { createOverlay, openOverlayDevice } from './overlay-files.ts';
import { overlaySpaceUsage } from './space-usage.ts';
import { closeDevice, flushDevice, makeBase, patternBytes, readAt, scratchDir, writeAt } from './test-kit.ts';

const scratch = scratchDir('overlay-twenty');
after(scratch.cleanup);

const MACHINES = 20;
const CLUSTER = 16384;
const IMAGE_BYTES = 8 * 1024 * 1024;
const sha256 = (file: string): string => createHash('sha256').update(fs.readFileSync(file)).digest('hex');

test('twenty overlays over one image: own writes, shared image elsewhere, image untouched', async () => {
  const basePath = scratch.file('golden.img');
  const image = makeBase(basePath, IMAGE_BYTES, 42);
  const imageHash = sha256(basePath);
  fs.chmodSync(basePath, 0o444); // as the store keeps it: nobody may write the image
  const devices: OverlayDevice[] = [];
  const models: Buffer[] = [];
  for (let m = 0; m < MACHINES; m++) {
    const overlayPath = scratch.file(`machine-${m}.ovl`);
    await createOverlay(overlayPath, basePath, { clusterBytes: CLUSTER });
    devices.push(await openOverlayDevice(overlayPath, basePath));
    models.push(Buffer.from(image));
  }
  try {
    // Every machine writes the same hot region, and machine m writes m + 1 clusters further on
    // (regions 3 clusters apart, so from machine 3 on they overlap other machines' regions);
    // the writes start and end inside clusters, so each is a copy-on-write.
    await Promise.all(
      devices.map(async (device, m) => {
        const model = models[m] ?? Buffer.alloc(0);
        const writes: [number, Buffer][] = [
          [1024 * 1024 + 512, patternBytes(3 * CLUSTER, 1000 + m)],
          [2 * 1024 * 1024 + m * 3 * CLUSTER + 4096, patternBytes((m + 1) * CLUSTER - 8192, 2000 + m)],
          [512 * 7, patternBytes(512, 3000 + m)],
        ];
        for (const [offset, data] of writes) {
          await writeAt(device, data, offset, m % 2 === 0);
          data.copy(model, offset);
        }
        await flushDevice(device);
      }),
    );
    for (let m = 0; m < MACHINES; m++) {
      const device = devices[m];
      if (device === undefined) continue;
      const back = await readAt(device, 0, IMAGE_BYTES);
      assert.ok(back.equals(models[m] ?? Buffer.alloc(0)), `machine ${m} sees its own writes and the image elsewhere`);
      // 4 clusters for the hot region (3 clusters long, starting 512 bytes in), m + 1 for its
      // own region, 1 for the small write near the start.
      const expected = 4 + (m + 1) + 1;
      assert.equal(device.spaceUsage().dataClusters, expected, `machine ${m} space`);
    }
    assert.equal(sha256(basePath), imageHash, 'the image is unchanged');
  } finally {
    for (const device of devices) await closeDevice(device);
  }
  for (let m = 0; m < MACHINES; m++) {
    const usage = await overlaySpaceUsage(scratch.file(`machine-${m}.ovl`));
    assert.equal(usage.dataBytes, (4 + (m + 1) + 1) * CLUSTER, `machine ${m} reports its own changes only`);
    assert.ok(usage.allocatedBytes < IMAGE_BYTES / 2, `machine ${m} costs ${usage.allocatedBytes} bytes, far less than the image`);
  }
  assert.equal(sha256(basePath), imageHash, 'the image is unchanged after closing');
});
