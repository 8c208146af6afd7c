// The Data-In budget on its own: what fits goes at once, the rest waits first come first served,
// one command larger than the budget goes alone, and a random run of takes, waits, releases and
// removals never holds more than the limit (bar one oversized item) nor leaves anything waiting
// with nothing outstanding (which would wait forever: nothing would release it).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { DataInBudget } from './data-in-budget.ts';

const MiB = 1024 * 1024;

/** Starts what next() hands out, as the session does; returns the items in the order started. */
function drain<T>(budget: DataInBudget<T>): T[] {
  const started: T[] = [];
  for (let item = budget.next(); item !== undefined; item = budget.next()) started.push(item);
  return started;
}

test('data-in budget: under the limit every command goes at once', () => {
  const budget = new DataInBudget<string>(16 * MiB);
  for (let i = 0; i < 16; i++) assert.equal(budget.tryAcquire(MiB), true, `read ${i}`);
  assert.equal(budget.outstandingBytes, 16 * MiB);
  assert.equal(budget.tryAcquire(1), false, 'the 17th byte does not fit');
  assert.equal(budget.outstandingBytes, 16 * MiB, 'a refused take takes nothing');
});

test('data-in budget: over the limit commands wait in order and go as data drains', () => {
  const budget = new DataInBudget<string>(4 * MiB);
  assert.ok(budget.tryAcquire(2 * MiB));
  assert.ok(budget.tryAcquire(2 * MiB));
  for (const name of ['a', 'b', 'c']) {
    assert.equal(budget.tryAcquire(MiB), false);
    budget.enqueue(name, MiB);
  }
  assert.deepEqual(drain(budget), [], 'nothing fits yet');
  budget.release(MiB);
  assert.deepEqual(drain(budget), ['a']);
  budget.release(2 * MiB);
  assert.deepEqual(drain(budget), ['b', 'c']);
  assert.equal(budget.waitingCount, 0);
  assert.equal(budget.outstandingBytes, 4 * MiB);
});

test('data-in budget: a small command does not overtake a waiting large one', () => {
  const budget = new DataInBudget<string>(4 * MiB);
  assert.ok(budget.tryAcquire(3 * MiB));
  assert.equal(budget.tryAcquire(2 * MiB), false);
  budget.enqueue('large', 2 * MiB);
  assert.equal(budget.tryAcquire(4096), false, 'fits by size, but the large one came first');
  budget.enqueue('small', 4096);
  budget.release(3 * MiB);
  assert.deepEqual(drain(budget), ['large', 'small']);
});

test('data-in budget: a command larger than the budget runs alone, never waits forever', () => {
  const budget = new DataInBudget<string>(MiB);
  assert.equal(budget.tryAcquire(8 * MiB), true, 'nothing outstanding: it goes');
  assert.equal(budget.tryAcquire(4096), false);
  budget.enqueue('after', 4096);
  budget.enqueue('huge', 8 * MiB);
  budget.release(8 * MiB);
  assert.deepEqual(drain(budget), ['after'], 'the huge one waits for the small one to drain');
  budget.release(4096);
  assert.deepEqual(drain(budget), ['huge']);
  assert.equal(budget.outstandingBytes, 8 * MiB);
});

test('data-in budget: charge goes past the limit; release never goes below zero', () => {
  const budget = new DataInBudget<string>(MiB);
  assert.ok(budget.tryAcquire(4096));
  budget.charge(2 * MiB);
  assert.equal(budget.outstandingBytes, 2 * MiB + 4096);
  assert.equal(budget.tryAcquire(1), false);
  budget.release(10 * MiB);
  assert.equal(budget.outstandingBytes, 0);
  assert.equal(budget.tryAcquire(1), true);
});

test('data-in budget: removing the waiting head lets the ones behind it go; clear forgets all', () => {
  const budget = new DataInBudget<string>(4 * MiB);
  assert.ok(budget.tryAcquire(3 * MiB));
  budget.enqueue('large', 4 * MiB);
  budget.enqueue('small', MiB);
  assert.equal(budget.remove('missing'), false);
  assert.equal(budget.remove('large'), true);
  assert.deepEqual(drain(budget), ['small']);
  budget.enqueue('x', 8 * MiB);
  budget.enqueue('y', 8 * MiB);
  budget.clear();
  assert.equal(budget.waitingCount, 0);
  budget.release(4 * MiB);
  assert.deepEqual(drain(budget), []);
});

type Op = { kind: 'take'; bytes: number } | { kind: 'release'; index: number } | { kind: 'remove'; index: number };

test('data-in budget: random runs stay within the limit, start in order, and never strand a waiter', () => {
  const op = fc.oneof(
    fc.record({ kind: fc.constant('take' as const), bytes: fc.integer({ min: 1, max: 6 * MiB }) }),
    fc.record({ kind: fc.constant('release' as const), index: fc.nat() }),
    fc.record({ kind: fc.constant('remove' as const), index: fc.nat() }),
  );
  fc.assert(
    fc.property(fc.integer({ min: 1, max: 8 * MiB }), fc.array(op, { maxLength: 200 }), (limit, ops: Op[]) => {
      const budget = new DataInBudget<number>(limit);
      const bytesOf = new Map<number, number>();
      const running: number[] = [];
      const waiting: number[] = [];
      let nextId = 0;
      const check = (): void => {
        const held = running.reduce((n, id) => n + (bytesOf.get(id) ?? 0), 0);
        assert.equal(budget.outstandingBytes, held);
        // Within the limit, except one item larger than it running alone.
        assert.ok(held <= limit || running.length === 1, `holds ${held} of ${limit} in ${running.length} items`);
        assert.ok(!(budget.waitingCount > 0 && held === 0), 'an item waits with nothing outstanding: it would wait forever');
        assert.equal(budget.waitingCount, waiting.length);
      };
      for (const o of ops) {
        if (o.kind === 'take') {
          const id = nextId++;
          bytesOf.set(id, o.bytes);
          if (budget.tryAcquire(o.bytes)) running.push(id);
          else {
            waiting.push(id);
            budget.enqueue(id, o.bytes);
          }
        } else if (o.kind === 'release' && running.length > 0) {
          const [id] = running.splice(o.index % running.length, 1);
          budget.release(bytesOf.get(id ?? -1) ?? 0);
        } else if (o.kind === 'remove' && waiting.length > 0) {
          const [id] = waiting.splice(o.index % waiting.length, 1);
          assert.equal(budget.remove(id ?? -1), true);
        }
        // What goes is the oldest of the waiting, in arrival order (first come, first served).
        const started = drain(budget);
        assert.deepEqual(started, waiting.slice(0, started.length));
        waiting.splice(0, started.length);
        running.push(...started);
        check();
      }
    }),
    { numRuns: 500 },
  );
});
