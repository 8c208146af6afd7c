import { test } from 'node:test';
import assert from 'node:assert/strict';
import { classifyFirstBlock } from './first-block.ts';
import { gptSectors, mbrSector } from './test-disk-images.ts';

test('blank, GPT (protective MBR or header in LBA 1), MBR with and without an ESP, other', () => {
  assert.equal(classifyFirstBlock(Buffer.alloc(512)), 'blank');
  assert.equal(classifyFirstBlock(gptSectors().subarray(0, 4096)), 'gpt');
  const headerOnly = Buffer.concat([mbrSector([0x83]), gptSectors().subarray(512, 1024)]);
  assert.equal(classifyFirstBlock(headerOnly), 'gpt', 'EFI PART in LBA 1 wins over the MBR');
  assert.equal(classifyFirstBlock(mbrSector([0xef, 0x83])), 'mbr-with-esp');
  assert.equal(classifyFirstBlock(mbrSector([0x83])), 'mbr');
  assert.equal(classifyFirstBlock(Buffer.alloc(512, 0x41)), 'other', 'no boot signature');
  assert.equal(classifyFirstBlock(Buffer.alloc(100)), 'other', 'too short to judge');
});
