// Range locks: exclusive per cluster, FIFO in issue order, no deadlock for overlapping ranges.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { ClusterLocks } from './cluster-locks.ts';

test('a free range runs at once; an overlapping one waits for the release', () => {
  const locks = new ClusterLocks();
  const ran: string[] = [];
  locks.acquire(0, 3, () => ran.push('a'));
  locks.acquire(3, 5, () => ran.push('b'));
  locks.acquire(6, 6, () => ran.push('c'));
  assert.deepEqual(ran, ['a', 'c']);
  locks.release(0, 3);
  assert.deepEqual(ran, ['a', 'c', 'b']);
  locks.release(3, 5);
  locks.release(6, 6);
  assert.equal(locks.busyClusters, 0);
});

test('an operation waits until it heads every queue it is in, and later ones queue behind it', () => {
  const locks = new ClusterLocks();
  const ran: string[] = [];
  locks.acquire(0, 0, () => ran.push('a'));
  locks.acquire(5, 5, () => ran.push('b'));
  locks.acquire(0, 5, () => ran.push('wide'));
  locks.acquire(2, 2, () => ran.push('c')); // free cluster, but issued after 'wide', which covers it
  locks.acquire(7, 7, () => ran.push('d'));
  assert.deepEqual(ran, ['a', 'b', 'd']);
  locks.release(0, 0);
  assert.deepEqual(ran, ['a', 'b', 'd'], 'still blocked by b');
  locks.release(5, 5);
  assert.deepEqual(ran, ['a', 'b', 'd', 'wide']);
  locks.release(0, 5);
  assert.deepEqual(ran, ['a', 'b', 'd', 'wide', 'c']);
  locks.release(2, 2);
  locks.release(7, 7);
  assert.equal(locks.busyClusters, 0);
});

test('random overlapping ranges: each runs alone on its clusters, overlapping ones in issue order, all finish', () => {
  fc.assert(
    fc.property(fc.array(fc.tuple(fc.nat({ max: 20 }), fc.nat({ max: 4 })), { minLength: 1, maxLength: 40 }), fc.array(fc.nat(), { maxLength: 100 }), (ranges, picks) => {
      const locks = new ClusterLocks();
      const holder = new Map<number, number>();
      const running: number[] = [];
      const order: number[] = [];
      ranges.forEach(([first, extra], id) => {
        locks.acquire(first, first + extra, () => {
          for (let c = first; c <= first + extra; c++) {
            assert.equal(holder.has(c), false, `cluster ${c} held twice`);
            holder.set(c, id);
          }
          running.push(id);
          order.push(id);
        });
      });
      // Release running operations in a random order until all are done.
      let pick = 0;
      while (running.length > 0) {
        const index = (picks[pick++ % Math.max(1, picks.length)] ?? 0) % running.length;
        const [id] = running.splice(index, 1);
        const [first, extra] = ranges[id ?? 0] ?? [0, 0];
        for (let c = first; c <= first + extra; c++) holder.delete(c);
        locks.release(first, first + extra);
      }
      assert.equal(order.length, ranges.length, 'every operation ran');
      assert.equal(locks.busyClusters, 0);
      // Overlapping operations ran in the order they were issued.
      for (let i = 0; i < ranges.length; i++) {
        for (let j = i + 1; j < ranges.length; j++) {
          const [fi, ei] = ranges[i] ?? [0, 0];
          const [fj, ej] = ranges[j] ?? [0, 0];
          if (fi <= fj + ej && fj <= fi + ei) assert.ok(order.indexOf(i) < order.indexOf(j), `${i} before ${j}`);
        }
      }
    }),
    { numRuns: 500 },
  );
});
