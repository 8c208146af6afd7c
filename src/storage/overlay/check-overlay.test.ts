// checkOverlay on healthy files and on hand-corrupted ones: each kind of damage is named, and
// openOverlayDevice refuses what checkOverlay flags.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { after, test } from 'node:test';
import { checkOverlay } from './check-overlay.ts';
import { createOverlay, openOverlayDevice } from './overlay-files.ts';
import { encodeEntry, HEADER_BYTES, MAP_ENTRY_BYTES } from './overlay-format.ts';
import { overlaySpaceUsage } from './space-usage.ts';
import { closeDevice, discardAt, makeBase, patternBytes, scratchDir, writeAt } from './test-kit.ts';

const scratch = scratchDir('overlay-check');
after(scratch.cleanup);
let counter = 0;
const CLUSTER = 16384;

/** An overlay with clusters 0-3 in slots 0-3, cluster 10 zeroed, closed cleanly. */
async function healthy(): Promise<{ overlayPath: string; basePath: string }> {
  const n = counter++;
  const basePath = scratch.file(`base-${n}.img`);
  const overlayPath = scratch.file(`overlay-${n}.ovl`);
  makeBase(basePath, 1024 * 1024);
  await createOverlay(overlayPath, basePath, { clusterBytes: CLUSTER });
  const device = await openOverlayDevice(overlayPath, basePath);
  await writeAt(device, patternBytes(4 * CLUSTER, 9), 0);
  await discardAt(device, 10 * CLUSTER, CLUSTER);
  await closeDevice(device);
  return { overlayPath, basePath };
}

/** Overwrites map entry `cluster` with raw bytes. */
function pokeEntry(overlayPath: string, cluster: number, bytes: Buffer): void {
  const fd = fs.openSync(overlayPath, 'r+');
  fs.writeSync(fd, bytes, 0, MAP_ENTRY_BYTES, HEADER_BYTES + cluster * MAP_ENTRY_BYTES);
  fs.closeSync(fd);
}

function entry(cluster: number, slot: number): Buffer {
  const b = Buffer.alloc(MAP_ENTRY_BYTES);
  encodeEntry(b, 0, cluster, { kind: 'data', slot });
  return b;
}

test('a healthy overlay checks clean and reports its counts and space', async () => {
  const { overlayPath } = await healthy();
  const report = await checkOverlay(overlayPath);
  assert.equal(report.ok, true, report.problems.join('\n'));
  assert.equal(report.problemCount, 0);
  assert.equal(report.dataClusters, 4);
  assert.equal(report.zeroClusters, 1);
  assert.equal(report.slotsUsed, 4);
  assert.equal(report.slotCapacity, 4);
  const usage = await overlaySpaceUsage(overlayPath);
  assert.equal(usage.dataClusters, 4);
  assert.equal(usage.dataBytes, 4 * CLUSTER);
  assert.equal(usage.zeroClusters, 1);
  assert.equal(usage.freeSlots, 0);
  assert.ok(usage.allocatedBytes >= 4 * CLUSTER && usage.allocatedBytes < usage.fileSizeBytes + 65536);
});

const corruptions: [string, (overlayPath: string) => void, RegExp][] = [
  ['a slot beyond the end of the file', (p) => pokeEntry(p, 20, entry(20, 99)), /cluster 20 maps slot 99 .* beyond the end of the file/],
  ['two clusters mapped to one slot', (p) => pokeEntry(p, 21, entry(21, 2)), /slot 2 is mapped by 2 clusters \(2, 21\)/],
  ['an entry copied to another cluster (check mismatch)', (p) => pokeEntry(p, 22, entry(3, 3)), /cluster 22: entry check/],
  ['an unknown entry kind', (p) => pokeEntry(p, 23, Buffer.from([0, 0, 0, 0, 7, 0, 0, 0])), /cluster 23: unknown entry kind 7/],
  ['a base entry with stray bytes', (p) => pokeEntry(p, 24, Buffer.from([1, 0, 0, 0, 0, 0, 0, 0])), /cluster 24: a base entry must be all zeros/],
  ['an entry past the last cluster', (p) => pokeEntry(p, 64 + 5, entry(69, 1)), /map entry 69 lies past the last cluster \(63\)/],
  ['a truncated data area', (p) => fs.truncateSync(p, fs.statSync(p).size - CLUSTER), /cluster 3 maps slot 3 .* beyond the end of the file/],
];

for (const [name, corrupt, message] of corruptions) {
  test(`checkOverlay catches ${name}, and the device refuses to open`, async () => {
    const { overlayPath, basePath } = await healthy();
    corrupt(overlayPath);
    const report = await checkOverlay(overlayPath);
    assert.equal(report.ok, false);
    assert.ok(report.problems.some((p) => message.test(p)), `expected ${message} in:\n${report.problems.join('\n')}`);
    await assert.rejects(openOverlayDevice(overlayPath, basePath), { code: 'OVERLAY_CORRUPT_MAP' });
  });
}

test('checkOverlay reports a damaged header instead of throwing', async () => {
  const { overlayPath, basePath } = await healthy();
  const fd = fs.openSync(overlayPath, 'r+');
  fs.writeSync(fd, Buffer.from([0xff]), 0, 1, 30); // inside the virtual size: the CRC no longer matches
  fs.closeSync(fd);
  const report = await checkOverlay(overlayPath);
  assert.equal(report.ok, false);
  assert.equal(report.header, null);
  assert.match(report.problems[0] ?? '', /OVERLAY_BAD_HEADER_CRC/);
  await assert.rejects(openOverlayDevice(overlayPath, basePath), { code: 'OVERLAY_BAD_HEADER_CRC' });
});

test('many problems are counted, the first 50 listed', async () => {
  const { overlayPath } = await healthy();
  for (let cluster = 11; cluster < 63; cluster++) pokeEntry(overlayPath, cluster, entry(cluster, 1000 + cluster));
  const report = await checkOverlay(overlayPath);
  assert.equal(report.problemCount, 52);
  assert.equal(report.problems.length, 50);
});
