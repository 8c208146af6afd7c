import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Asc, ScsiError, SenseKey, encodeFixedSense, encodeNoSense, invalidFieldInCdb, invalidFieldInParameterList, miscompare } from './sense.ts';

const fixed = (err: ScsiError): string => encodeFixedSense(err).toString('hex');

test('LBA OUT OF RANGE: fixed format, no INFORMATION, no field pointer', () => {
  assert.equal(fixed(new ScsiError(SenseKey.IllegalRequest, Asc.LbaOutOfRange)), '700005000000000a00000000210000000000');
});

test('INVALID FIELD IN CDB with byte and bit pointer (SKSV, C/D, BPV)', () => {
  // byte 1 bit 7 (e.g. RDPROTECT): 80h | 40h | 08h | 7 = cfh, field pointer 0001
  assert.equal(fixed(invalidFieldInCdb(1, 7)), '700005000000000a00000000240000cf0001');
});

test('INVALID FIELD IN CDB without bit pointer', () => {
  assert.equal(fixed(invalidFieldInCdb(2)), '700005000000000a00000000240000c00002');
});

test('INVALID FIELD IN PARAMETER LIST points into data-out (C/D clear)', () => {
  assert.equal(fixed(invalidFieldInParameterList(0x0110)), '700005000000000a00000000260000800110');
});

test('MISCOMPARE sets VALID and INFORMATION to the byte offset', () => {
  assert.equal(fixed(miscompare(0x1234)), 'f0000e000012340a000000001d0000000000');
});

test('an INFORMATION value beyond 32 bits leaves VALID clear', () => {
  assert.equal(fixed(miscompare(2 ** 33)), '70000e000000000a000000001d0000000000');
});

test('DATA PROTECT, SPACE ALLOCATION FAILED WRITE PROTECT', () => {
  assert.equal(fixed(new ScsiError(SenseKey.DataProtect, Asc.SpaceAllocationFailedWriteProtect)), '700007000000000a00000000270700000000');
});

test('no sense: fixed and descriptor format', () => {
  assert.equal(encodeNoSense(false).toString('hex'), '700000000000000a00000000000000000000');
  assert.equal(encodeNoSense(true).toString('hex'), '7200000000000000');
});

test('ScsiError carries the codes', () => {
  const err = new ScsiError(SenseKey.MediumError, Asc.WriteError);
  assert.equal(err.senseKey, 3);
  assert.equal(err.asc, 0x0c);
  assert.equal(err.ascq, 0);
  assert.ok(err instanceof Error);
});
