import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { normalizeMac } from './inventory.ts';

/** The plain definition: the hex digits, lowercased, in pairs with colons. */
function reference(mac: string): string | null {
  const hex = mac.toLowerCase().replace(/[^0-9a-f]/g, '');
  return hex.length === 12 ? (hex.match(/../g) ?? []).join(':') : null;
}

describe('normalizeMac', () => {
  test('any spelling of a MAC becomes aa:bb:cc:dd:ee:ff', () => {
    assert.equal(normalizeMac('52:54:00:AB:cd:01'), '52:54:00:ab:cd:01');
    assert.equal(normalizeMac('52-54-00-ab-cd-01'), '52:54:00:ab:cd:01');
    assert.equal(normalizeMac('525400abcd01'), '52:54:00:ab:cd:01');
    assert.equal(normalizeMac('52:54:00:ab:cd:01'), '52:54:00:ab:cd:01');
    assert.equal(normalizeMac('52:54:00:ab:cd'), null);
    assert.equal(normalizeMac('52:54:00:ab:cd:0g'), null);
  });

  test('the fast path for canonical input agrees with the definition on any string', () => {
    const hexPair = fc.constantFrom(...'0123456789abcdefABCDEF:-.xg '.split(''));
    const macLike = fc.array(hexPair, { minLength: 0, maxLength: 20 }).map((cs) => cs.join(''));
    const canonical = fc.uint8Array({ minLength: 6, maxLength: 6 }).map((b) => [...b].map((x) => x.toString(16).padStart(2, '0')).join(':'));
    fc.assert(fc.property(fc.oneof(macLike, canonical, fc.string()), (s) => normalizeMac(s) === reference(s)));
  });
});
