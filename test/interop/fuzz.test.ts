// A bounded run of the coverage-guided fuzzer (fuzz/run.ts) over every decoder: FUZZ_SECONDS
// (default 6) per target, fixed seeds, the committed corpora. A crash (an exception other than
// DecodeError/DisklessError, or an internal target failure from the SCSI layer) fails the test
// with the input in hex; `npm run fuzz` (fuzz/run.ts) runs longer and keeps what it finds.
// First, the engine proves on a planted bug that its coverage feedback works.
import assert from 'node:assert/strict';
import path from 'node:path';
import { test } from 'node:test';
import { fuzz } from '../../fuzz/engine.ts';
import { removeScratch, TARGETS } from '../../fuzz/targets.ts';
import { TOY_TARGET } from '../../fuzz/toy-target.ts';

const SECONDS = Number(process.env.FUZZ_SECONDS ?? 6);
const CORPUS = path.resolve(import.meta.dirname, '../../fuzz/corpus');

test('the engine finds a bug behind four nested byte checks through coverage feedback', { timeout: 120_000 }, async (t) => {
  // Stops at the find (about 9k execs, ~15 s here); the 60 s cap is for slow machines.
  const report = await fuzz({ target: TOY_TARGET, seconds: 60, seed: 1, stopOnCrash: true });
  t.diagnostic(`toy: found in ${report.execs} execs, corpus ${report.corpus}`);
  assert.equal(report.crashes.length, 1, `the planted bug was not found in ${report.execs} execs (blind search needs ~10^6)`);
  assert.match(report.crashes[0]?.message ?? '', /toy bug reached/);
});

for (const target of TARGETS) {
  test(`fuzz ${target.name} for ${SECONDS} s: no crash`, { timeout: SECONDS * 1000 + 60_000 }, async (t) => {
    const report = await fuzz({ target, seconds: SECONDS, seed: 20261201, corpusDir: path.join(CORPUS, target.name) });
    removeScratch();
    t.diagnostic(`${target.name}: ${report.execs} execs, ${report.seeds} seeds, corpus ${report.corpus}, blocks ${report.seedBlocks} → ${report.blocks}, ${report.slow.length} slow`);
    assert.ok(report.execs > 50, 'the target ran');
    assert.ok(report.seedBlocks > 0, 'coverage is measured for this target');
    const described = report.crashes.map((c) => `${c.message}\n${c.stack.split('\n').slice(0, 6).join('\n')}\ninput (hex): ${c.input.toString('hex')}`);
    assert.deepEqual(described, [], `crashes in ${target.name}`);
  });
}
