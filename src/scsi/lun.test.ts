import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DisklessError } from '../lib/errors.ts';
import { decodeLun, encodeLun, writeLun } from './lun.ts';

test('peripheral device addressing: byte 1 is the LUN', () => {
  assert.equal(decodeLun(0n), 0);
  assert.equal(decodeLun(0x0005_0000_0000_0000n), 5);
  assert.equal(decodeLun(0x00ff_0000_0000_0000n), 255);
});

test('flat space addressing: 14 bits', () => {
  assert.equal(decodeLun(0x4100_0000_0000_0000n), 256);
  assert.equal(decodeLun(0x7fff_0000_0000_0000n), 16383);
  assert.equal(decodeLun(0x4005_0000_0000_0000n), 5);
});

test('other forms are null', () => {
  assert.equal(decodeLun(0x0105_0000_0000_0000n), null, 'peripheral with a bus identifier');
  assert.equal(decodeLun(0x8000_0000_0000_0000n), null, 'logical unit addressing');
  assert.equal(decodeLun(0xc000_0000_0000_0000n), null, 'extended addressing');
  assert.equal(decodeLun(0x0001_0001_0000_0000n), null, 'second level present');
  assert.equal(decodeLun(0xffff_ffff_ffff_ffffn), null);
  assert.equal(decodeLun(-1n), null);
  assert.equal(decodeLun(1n << 64n), null);
});

test('encode: peripheral below 256, flat above; round trip', () => {
  assert.equal(encodeLun(0), 0n);
  assert.equal(encodeLun(1), 0x0001_0000_0000_0000n);
  assert.equal(encodeLun(256), 0x4100_0000_0000_0000n);
  assert.equal(encodeLun(16383), 0x7fff_0000_0000_0000n);
  for (const lun of [0, 1, 255, 256, 1000, 16383]) assert.equal(decodeLun(encodeLun(lun)), lun);
  const b = Buffer.alloc(8);
  writeLun(b, 0, 300);
  assert.equal(b.toString('hex'), '412c000000000000');
});

test('encode rejects out-of-range LUNs', () => {
  assert.throws(() => encodeLun(16384), DisklessError);
  assert.throws(() => encodeLun(-1), DisklessError);
  assert.throws(() => encodeLun(1.5), DisklessError);
});
