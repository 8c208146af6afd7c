// Property: any sequence of writes, discards, flushes, reads and reopenings (some of them
// issued concurrently) leaves the overlay reading exactly like a plain Buffer that had the same
// operations applied in issue order, and checkOverlay stays clean throughout.
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import fc from 'fast-check';
import { checkOverlay } from './check-overlay.ts';
import type { OverlayDevice } from './overlay-device.ts';
import { createOverlay, openOverlayDevice } from './overlay-files.ts';
import { closeDevice, discardAt, flushDevice, makeBase, patternBytes, readAt, scratchDir, writeAt } from './test-kit.ts';

const scratch = scratchDir('overlay-property');
after(scratch.cleanup);

type Op =
  | { readonly kind: 'write'; readonly block: number; readonly count: number; readonly seed: number; readonly durable: boolean }
  | { readonly kind: 'discard'; readonly block: number; readonly count: number }
  | { readonly kind: 'read'; readonly block: number; readonly count: number }
  | { readonly kind: 'flush' }
  | { readonly kind: 'reopen' }
  /** Issued together without waiting: overlapping ones must still apply in issue order. */
  | { readonly kind: 'concurrent'; readonly ops: readonly Op[] };

const BLOCK = 512;

function opArbitrary(blocks: number): fc.Arbitrary<Op> {
  const range = fc.nat({ max: blocks - 1 }).chain((block) => fc.record({ block: fc.constant(block), count: fc.integer({ min: 1, max: Math.min(blocks - block, 80) }) }));
  const write = fc.record({ range, seed: fc.nat(), durable: fc.boolean() }).map(({ range: r, seed, durable }): Op => ({ kind: 'write', ...r, seed, durable }));
  const discard = range.map((r): Op => ({ kind: 'discard', ...r }));
  const read = range.map((r): Op => ({ kind: 'read', ...r }));
  const concurrent = fc.array(fc.oneof({ weight: 4, arbitrary: write }, { weight: 1, arbitrary: discard }), { minLength: 2, maxLength: 8 }).map((ops): Op => ({ kind: 'concurrent', ops }));
  return fc.oneof(
    { weight: 8, arbitrary: write },
    { weight: 3, arbitrary: discard },
    { weight: 4, arbitrary: read },
    { weight: 2, arbitrary: fc.constant<Op>({ kind: 'flush' }) },
    { weight: 1, arbitrary: fc.constant<Op>({ kind: 'reopen' }) },
    { weight: 3, arbitrary: concurrent },
  );
}

/** Starts one write or discard and applies it to the model at once (issue order). */
function start(device: OverlayDevice, model: Buffer, op: Op): Promise<void> {
  switch (op.kind) {
    case 'write': {
      const data = patternBytes(op.count * BLOCK, op.seed);
      data.copy(model, op.block * BLOCK);
      return writeAt(device, data, op.block * BLOCK, op.durable);
    }
    case 'discard':
      model.fill(0, op.block * BLOCK, (op.block + op.count) * BLOCK);
      return discardAt(device, op.block * BLOCK, op.count * BLOCK);
    case 'read':
    case 'flush':
    case 'reopen':
    case 'concurrent':
      throw new Error(`${op.kind} is not started concurrently`);
  }
}

let run = 0;

for (const clusterBytes of [4096, 16384]) {
  test(`random operation sequences match the model (${clusterBytes / 1024} KiB clusters)`, async () => {
    // 40 clusters plus half a cluster: the last cluster is partial.
    const sizeBytes = 40 * clusterBytes + clusterBytes / 2;
    const blocks = sizeBytes / BLOCK;
    await fc.assert(
      fc.asyncProperty(fc.array(opArbitrary(blocks), { minLength: 1, maxLength: 40 }), fc.boolean(), async (ops, synchronousIo) => {
        const n = run++;
        const basePath = scratch.file(`base-${n}.img`);
        const overlayPath = scratch.file(`overlay-${n}.ovl`);
        const model = Buffer.from(makeBase(basePath, sizeBytes, n + 7));
        await createOverlay(overlayPath, basePath, { clusterBytes });
        const options = synchronousIo ? { syncReadMaxBytes: 1 << 30, syncWriteMaxBytes: 1 << 30 } : { syncReadMaxBytes: 0, syncWriteMaxBytes: 0 };
        let device = await openOverlayDevice(overlayPath, basePath, options);
        try {
          for (const op of ops) {
            if (op.kind === 'read') {
              const back = await readAt(device, op.block * BLOCK, op.count * BLOCK);
              assert.ok(back.equals(model.subarray(op.block * BLOCK, (op.block + op.count) * BLOCK)), `read ${op.block}+${op.count}`);
            } else if (op.kind === 'flush') {
              await flushDevice(device);
            } else if (op.kind === 'reopen') {
              await closeDevice(device);
              const report = await checkOverlay(overlayPath);
              assert.ok(report.ok, report.problems.join('\n'));
              device = await openOverlayDevice(overlayPath, basePath, options);
            } else if (op.kind === 'concurrent') {
              await Promise.all(op.ops.map((inner) => start(device, model, inner)));
            } else {
              await start(device, model, op);
            }
          }
          assert.ok((await readAt(device, 0, sizeBytes)).equals(model), 'whole disk equals the model');
          const usage = device.spaceUsage();
          assert.ok(usage.dataClusters + usage.zeroClusters <= usage.clusterCount);
        } finally {
          await closeDevice(device);
        }
        const report = await checkOverlay(overlayPath);
        assert.ok(report.ok, report.problems.join('\n'));
        device = await openOverlayDevice(overlayPath, basePath);
        try {
          assert.ok((await readAt(device, 0, sizeBytes)).equals(model), 'whole disk equals the model after reopening');
        } finally {
          await closeDevice(device);
        }
      }),
      { numRuns: 60, interruptAfterTimeLimit: 20_000 },
    );
  });
}
