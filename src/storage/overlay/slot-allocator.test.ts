// The slot allocator: lowest free first, retired slots wait for a flush, and slots still being
// read wait for their readers (the epoch grace period).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { SlotAllocator } from './slot-allocator.ts';

test('allocates the lowest free slot, then grows the file', () => {
  const used = Uint8Array.from([1, 0, 1, 0]);
  const slots = new SlotAllocator(4, used);
  assert.equal(slots.freeCount, 2);
  assert.deepEqual([slots.allocate(), slots.allocate(), slots.allocate(), slots.allocate()], [1, 3, 4, 5]);
  assert.equal(slots.slotCount, 6);
  slots.giveBack(4);
  assert.equal(slots.allocate(), 4);
});

test('a retired slot is reused only after release, and trimming drops a free tail', () => {
  const slots = new SlotAllocator(3, Uint8Array.from([1, 1, 1]));
  slots.retire(1);
  slots.retire(2);
  assert.equal(slots.allocate(), 3, 'retired slots are not free yet');
  const taken = slots.takeRetired();
  assert.deepEqual(taken, [1, 2]);
  slots.release(taken);
  assert.equal(slots.freeCount, 2);
  slots.giveBack(3);
  assert.equal(slots.trimmedSlotCount(), 1);
  slots.trimTo(1);
  assert.equal(slots.slotCount, 1);
  assert.equal(slots.freeCount, 0);
  assert.equal(slots.allocate(), 1);
});

test('released slots wait for the reads that began before the release', () => {
  const slots = new SlotAllocator(4, Uint8Array.from([1, 1, 1, 1]));
  const early = slots.beginRead();
  slots.release([0]);
  assert.equal(slots.freeCount, 0, 'a read that began earlier may still be reading slot 0');
  const late = slots.beginRead(); // began after the release: cannot have seen slot 0 mapped
  slots.release([1]);
  assert.equal(slots.freeCount, 0, 'the previous epoch is still draining: slot 1 waits for the next cycle');
  assert.equal(slots.retiredCount, 1);
  slots.endRead(early);
  assert.equal(slots.freeCount, 1, 'slot 0 is free once the early read ended');
  slots.release(slots.takeRetired());
  assert.equal(slots.freeCount, 1, 'slot 1 waits for the late read');
  slots.endRead(late);
  assert.equal(slots.freeCount, 2);
  slots.release([2]);
  assert.equal(slots.freeCount, 3, 'no reads in flight: free at once');
});
