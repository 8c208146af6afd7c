import assert from 'node:assert/strict';
import { test } from 'node:test';
import { BurstBatcher } from './burst-batcher.ts';

test('items from one event-loop turn share a commit; later ones wait for the next', async () => {
  const commits: number[][] = [];
  let release: () => void = () => undefined;
  const b = new BurstBatcher<number>(async (items) => {
    commits.push([...items]);
    if (commits.length === 1) await new Promise<void>((r) => (release = r));
  });
  const first = Promise.all([b.add([1]), b.add([2, 3]), b.add([])]);
  await new Promise((r) => setImmediate(r));
  const second = b.add([4]); // queued while the first commit runs
  await new Promise((r) => setImmediate(r));
  assert.deepEqual(commits, [[1, 2, 3]], 'commits never overlap');
  release();
  await first;
  await second;
  assert.deepEqual(commits, [[1, 2, 3], [4]]);
  assert.deepEqual(b.stats(), { commits: 2, items: 4 });
});

test('a failed commit rejects every caller of that burst, and the next burst still runs', async () => {
  let fail = true;
  const b = new BurstBatcher<string>((items) => (fail ? Promise.reject(new Error(`disk full (${items.join(',')})`)) : Promise.resolve()));
  const results = await Promise.allSettled([b.add(['a']), b.add(['b'])]);
  assert.deepEqual(results.map((r) => r.status), ['rejected', 'rejected']);
  fail = false;
  await b.add(['c']);
  await b.drain();
  assert.deepEqual(b.stats(), { commits: 1, items: 1 });
});
