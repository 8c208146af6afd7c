import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseProgress } from './qemu-img.ts';

test('qemu-img -p progress is parsed from its carriage-return lines', () => {
  assert.equal(parseProgress('    (0.00/100%)\r'), 0);
  assert.equal(parseProgress('    (12.50/100%)\r    (37.25/100%)\r'), 0.3725);
  assert.equal(parseProgress('    (100.00/100%)\r\n'), 1);
  assert.equal(parseProgress('nothing here'), null);
});
