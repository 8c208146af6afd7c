import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { serialAdd, serialInWindow, serialLt, serialLte } from './serial-number.ts';

test('serial arithmetic wraps at 2^32 (RFC 1982)', () => {
  assert.equal(serialAdd(0xffffffff, 1), 0);
  assert.equal(serialLt(0xfffffff0, 5), true);
  assert.equal(serialLt(5, 0xfffffff0), false);
  assert.equal(serialLt(7, 7), false);
  assert.equal(serialLte(7, 7), true);
  assert.equal(serialInWindow(2, 0xfffffffe, 10), true);
  assert.equal(serialInWindow(11, 0xfffffffe, 10), false);
});

test('a < a + n for every n below 2^31', () => {
  fc.assert(
    fc.property(fc.integer({ min: 0, max: 0xffffffff }), fc.integer({ min: 1, max: 0x7fffffff }), (a, n) => {
      assert.equal(serialLt(a, serialAdd(a, n)), true);
      assert.equal(serialLt(serialAdd(a, n), a), false);
    }),
  );
});
