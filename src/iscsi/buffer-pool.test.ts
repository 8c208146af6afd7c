import assert from 'node:assert/strict';
import { test } from 'node:test';
import { BufferPool, MIN_POOLED_BYTES } from './buffer-pool.ts';

test('buffer pool: buffers come back by power-of-two class, up to the retention cap', () => {
  const pool = new BufferPool(3 * 1024 * 1024);
  const a = pool.take(1024 * 1024);
  assert.equal(a.length, 1024 * 1024);
  const b = pool.take(1024 * 1024 - 512);
  assert.equal(b.length, 1024 * 1024, 'rounded up to its class');
  pool.give(a);
  pool.give(b);
  assert.equal(pool.retainedBytes, 2 * 1024 * 1024);
  assert.equal(pool.take(1000 * 1000), b, 'last in, first out');
  assert.equal(pool.take(1024 * 1024), a);
  assert.equal(pool.retainedBytes, 0);
  pool.give(Buffer.alloc(4 * 1024 * 1024));
  assert.equal(pool.retainedBytes, 0, 'over the cap: dropped');
  pool.give(Buffer.alloc(3 * 100_000));
  assert.equal(pool.retainedBytes, 0, 'not a class size: not ours');
});

test('buffer pool: small requests are plain allocations, and clear() drops everything', () => {
  const pool = new BufferPool(1024 * 1024);
  const small = pool.take(4096);
  assert.equal(small.length, 4096);
  pool.give(small);
  assert.equal(pool.retainedBytes, 0);
  const c = pool.take(MIN_POOLED_BYTES - 1);
  assert.equal(c.length, MIN_POOLED_BYTES - 1);
  pool.give(pool.take(MIN_POOLED_BYTES));
  assert.equal(pool.retainedBytes, MIN_POOLED_BYTES);
  pool.clear();
  assert.equal(pool.retainedBytes, 0);
});
