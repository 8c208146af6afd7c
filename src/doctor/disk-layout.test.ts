import { test } from 'node:test';
import assert from 'node:assert/strict';
import { describeLayout, ESP_TYPE_GUID, gptEntryBlocks, parseGptEntries, parseGptHeader, parseMbr, summarizeLayout } from './disk-layout.ts';
import { gptSectors, mbrSector } from './test-disk-images.ts';

const SECTOR = 512;

test('a blank disk has no boot signature and no partitions', () => {
  const mbr = parseMbr(Buffer.alloc(SECTOR));
  assert.deepEqual(mbr, { bootSignature: false, bootCode: false, partitions: [], protectiveGpt: false });
  assert.equal(summarizeLayout(describeLayout(mbr, null)), 'no boot signature (55 AA) in LBA 0: blank or not a boot disk');
});

test('an MBR with a Linux partition has boot code, an active partition and no ESP', () => {
  const layout = describeLayout(parseMbr(mbrSector([0x83])), null);
  assert.equal(layout.scheme, 'mbr');
  assert.equal(layout.bootCode, true);
  assert.equal(layout.esp, null);
  assert.deepEqual(layout.partitions, [{ number: 1, type: '0x83', startLba: 2048, sizeBlocks: 2048, esp: false, active: true }]);
  assert.equal(summarizeLayout(layout), 'MBR, 1 partition (1: 0x83 active)');
});

test('an MBR partition of type 0xEF is an EFI system partition', () => {
  const layout = describeLayout(parseMbr(mbrSector([0xef, 0x83])), null);
  assert.equal(layout.esp, 1);
  assert.equal(summarizeLayout(layout), 'MBR, 2 partitions (1: 0xef ESP active, 2: 0x83)');
});

test('a GPT behind a protective MBR: header, entries and the ESP by its type GUID', () => {
  const disk = gptSectors();
  const mbr = parseMbr(disk.subarray(0, SECTOR));
  assert.equal(mbr.protectiveGpt, true);
  assert.equal(mbr.bootCode, false);
  const location = parseGptHeader(disk.subarray(SECTOR, 2 * SECTOR));
  assert.deepEqual(location, { entriesLba: 2, entryCount: 128, entrySize: 128 });
  if (location === null) return;
  assert.equal(gptEntryBlocks(location, SECTOR), 32);
  const partitions = parseGptEntries(disk.subarray(location.entriesLba * SECTOR), location);
  assert.deepEqual(partitions.map((p) => [p.number, p.type, p.startLba, p.sizeBlocks, p.esp]), [
    [1, ESP_TYPE_GUID, 2048, 2048, true],
    [2, '0fc63daf-8483-4772-8e79-3d69d8477de4', 4096, 4096, false],
  ]);
  const layout = describeLayout(mbr, partitions);
  assert.equal(layout.esp, 1);
  assert.equal(summarizeLayout(layout), 'GPT, 2 partitions (1: ESP, 2: 0fc63daf-8483-4772-8e79-3d69d8477de4)');
});

test('a corrupt GPT header is ignored rather than trusted', () => {
  const header = gptSectors().subarray(SECTOR, 2 * SECTOR);
  header.writeUInt32LE(7, 84);
  assert.equal(parseGptHeader(header), null);
  assert.equal(parseGptHeader(Buffer.alloc(SECTOR)), null);
  const huge = gptSectors().subarray(SECTOR, 2 * SECTOR);
  huge.writeUInt32LE(0xffffffff, 80);
  assert.equal(parseGptHeader(huge)?.entryCount, 256);
});
