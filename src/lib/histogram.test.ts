import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Histogram } from './histogram.ts';

const BOUNDS = [0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1];

test('a value equal to a bound counts in that bound (le), above the last in +Inf', () => {
  const h = new Histogram([0.5, 1, 2]);
  for (const v of [0, 0.25, 0.5, 0.75, 1, 1.5, 2, 4, 8]) h.observe(v);
  assert.deepEqual([...h.counts], [3, 2, 2, 2]);
  assert.deepEqual(h.cumulative(), [3, 5, 7, 9]);
  assert.equal(h.count, 9);
  assert.equal(h.sum, 0 + 0.25 + 0.5 + 0.75 + 1 + 1.5 + 2 + 4 + 8);
});

test('the disk-server buckets, at and just past every bound', () => {
  const h = new Histogram(BOUNDS);
  for (const bound of BOUNDS) {
    h.observe(bound);
    h.observe(bound * (1 + Number.EPSILON * 4));
  }
  // Each bucket holds its own bound and the value just past the bound below it; the first
  // bucket holds only its bound, and +Inf only the value just past 1 s.
  assert.deepEqual([...h.counts], [1, ...BOUNDS.slice(1).map(() => 2), 1]);
  assert.deepEqual(h.cumulative(), [...BOUNDS.map((_, i) => 2 * i + 1), 2 * BOUNDS.length]);
  assert.equal(h.count, 2 * BOUNDS.length);
});

test('negative values fall in the first bucket, Infinity in +Inf, NaN is dropped', () => {
  const h = new Histogram([1, 2]);
  h.observe(-1);
  h.observe(Infinity);
  h.observe(Number.NaN);
  assert.deepEqual([...h.counts], [1, 0, 1]);
  assert.equal(h.count, 2);
  assert.equal(h.sum, Infinity);
});

test('no bounds: a single +Inf bucket', () => {
  const h = new Histogram([]);
  h.observe(3);
  h.observe(0.5);
  assert.deepEqual(h.cumulative(), [2]);
  assert.equal(h.sum, 3.5);
});

test('the cumulative export is monotone and ends at count', () => {
  const h = new Histogram(BOUNDS);
  // Deterministic spread over six decades: 1 µs to 2 s.
  for (let i = 0; i < 1000; i++) h.observe(1e-6 * Math.pow(2e6, i / 999));
  const cumulative = h.cumulative();
  assert.equal(cumulative.length, BOUNDS.length + 1);
  for (let i = 1; i < cumulative.length; i++) assert.ok((cumulative[i] ?? 0) >= (cumulative[i - 1] ?? 0));
  assert.equal(cumulative.at(-1), h.count);
  assert.equal(h.count, 1000);
});

test('add sums counts, sum and count; clone is a deep copy', () => {
  const a = new Histogram([1, 2]);
  const b = new Histogram([1, 2]);
  a.observe(0.5);
  b.observe(1.5);
  b.observe(3);
  const copy = a.clone();
  a.add(b);
  assert.deepEqual([...a.counts], [1, 1, 1]);
  assert.equal(a.sum, 5);
  assert.equal(a.count, 3);
  assert.deepEqual([...copy.counts], [1, 0, 0], 'the clone does not see later changes');
  assert.equal(copy.sum, 0.5);
  copy.observe(0.25);
  assert.equal(a.count, 3, 'nor does the original see the clone change');
});

test('bounds are checked: ascending, finite, and equal when adding', () => {
  assert.throws(() => new Histogram([1, 1]), RangeError);
  assert.throws(() => new Histogram([2, 1]), RangeError);
  assert.throws(() => new Histogram([1, Infinity]), RangeError);
  assert.throws(() => new Histogram([Number.NaN]), RangeError);
  assert.throws(() => new Histogram([1, 2]).add(new Histogram([1, 3])), RangeError);
  assert.throws(() => new Histogram([1, 2]).add(new Histogram([1])), RangeError);
});
