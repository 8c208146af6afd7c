import { test } from 'node:test';
import assert from 'node:assert/strict';
import { closestName, editDistance } from './closest-name.ts';

test('edit distance counts insertions, deletions and substitutions', () => {
  assert.equal(editDistance('kitten', 'sitting'), 3);
  assert.equal(editDistance('', 'abc'), 3);
  assert.equal(editDistance('same', 'same'), 0);
});

test('suggests the closest IQN for a typo, and nothing for an unrelated name', () => {
  const targets = ['iqn.2007-01.org.exacnet:foobar.1', 'iqn.2026-11.org.diskless:target.pc1', 'iqn.2026-11.org.diskless:target.pc2'];
  assert.equal(closestName('iqn.2007-01.org.exacnet:foobar.0', targets), 'iqn.2007-01.org.exacnet:foobar.1');
  assert.equal(closestName('IQN.2026-11.org.diskless:targt.pc1', targets), 'iqn.2026-11.org.diskless:target.pc1');
  assert.equal(closestName('iqn.1999-01.com.vendor:storage', targets), null);
  assert.equal(closestName('anything', []), null);
});
