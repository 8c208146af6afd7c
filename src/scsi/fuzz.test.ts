// Any CDB through decode and execute: a valid status, sense only with CHECK CONDITION, done
// exactly once, never a thrown exception, never an internal-target-failure (a bug) response.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { MemoryDevice } from '../storage/memory-device.ts';
import { BlockLogicalUnit } from './logical-unit.ts';
import { LunTable } from './target-device.ts';
import { ScsiStatus } from './types.ts';
import type { ScsiDone, ScsiRequest } from './types.ts';
import { run, senseOf } from './test-support.ts';
import { COMMANDS } from './cdb-table.ts';

const STATUSES: ReadonlySet<number> = new Set(Object.values(ScsiStatus));

function makeTarget(): LunTable {
  return new LunTable([
    [0, new BlockLogicalUnit(new MemoryDevice({ sizeBytes: 64 * 512 }), { maxTransferBytes: 64 * 1024, maxWriteSameBytes: 256 * 1024 })],
    [1, new BlockLogicalUnit(new MemoryDevice({ sizeBytes: 16 * 512, readOnly: true }))],
  ]);
}

const opcodes = COMMANDS.map((c) => c.opcode);
/** Mostly known opcodes with small operands, so the fuzzer reaches the executors. */
const interestingCdb = fc
  .tuple(fc.constantFrom(...opcodes), fc.uint8Array({ minLength: 15, maxLength: 15 }), fc.nat(15), fc.boolean())
  .map(([op, rest, zeroFrom, keepSa]) => {
    const b = Buffer.from([op, ...rest]);
    // Zero a tail so that lengths and LBAs are often small and in range.
    b.fill(0, 1 + zeroFrom);
    if (keepSa && (op === 0x9e || op === 0xa3)) b[1] = op === 0x9e ? 0x10 : 0x0c;
    return b;
  });
const anyCdb = fc.uint8Array({ minLength: 0, maxLength: 32 }).map((a) => Buffer.from(a));

async function check(target: LunTable, lun: number, cdbBytes: Buffer, dataOut: Buffer | null): Promise<void> {
  const executor = { execute: (r: ScsiRequest, d: ScsiDone) => target.execute(lun, r, d) };
  const res = await run(executor, cdbBytes, dataOut);
  assert.ok(STATUSES.has(res.status));
  if (res.status === ScsiStatus.CheckCondition) {
    assert.equal(res.sense?.length, 18);
    assert.notDeepEqual(senseOf(res), { key: 4, asc: 0x44, ascq: 0 }, `internal failure for ${cdbBytes.toString('hex')}`);
  } else {
    assert.equal(res.sense, null);
  }
}

test('fuzz: random and table-guided CDBs through LunTable.execute', async () => {
  const target = makeTarget();
  await fc.assert(
    fc.asyncProperty(
      fc.oneof(interestingCdb, anyCdb),
      fc.constantFrom(0, 1, 2),
      fc.option(fc.uint8Array({ maxLength: 4096 }), { nil: null }),
      async (cdbBytes, lun, dataOut) => check(target, lun, cdbBytes, dataOut === null ? null : Buffer.from(dataOut)),
    ),
    { numRuns: 2000 },
  );
});

test('fuzz: 16-byte CDBs with block-sized data-out', async () => {
  const target = makeTarget();
  await fc.assert(
    fc.asyncProperty(interestingCdb, fc.nat(4), fc.integer({ min: 0, max: 255 }), async (cdbBytes, blocks, fill) =>
      check(target, 0, cdbBytes, Buffer.alloc(blocks * 512, fill)),
    ),
    { numRuns: 2000 },
  );
});
