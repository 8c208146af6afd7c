// libiscsi's conformance suite (iscsi-test-cu) against diskless on a scratch disk. Prints the
// pass/fail/skip counts (CUnit counts a skip as a pass; they are counted apart here) and
// fails on any failure that is not listed below with its reason.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseCunitOutput, type CunitResult } from '../helpers/cunit.ts';
import { needTools, run } from '../helpers/tools.ts';
import { startTestServer, TEST_IQN, type TestServer } from '../helpers/server.ts';

/** Failures we know of, each with why it is left; anything else failing fails this test. */
const KNOWN_FAILURES: Record<string, string> = {};

describe('iscsi-test-cu conformance', () => {
  let s: TestServer;
  before(async () => {
    s = await startTestServer({ diskBytes: 64 * 1024 * 1024 });
  });
  after(async () => s.stop());

  test('iscsi-test-cu --dataloss -t ALL', async (t) => {
    if (!needTools(t, { 'iscsi-test-cu': 'libiscsi-bin', stdbuf: 'coreutils' })) return;
    // stdbuf: the tool writes results to stdout and skip notes to stderr; unbuffered, they
    // interleave in the order they happened.
    const r = await run('stdbuf', ['-o0', '-e0', 'iscsi-test-cu', '--dataloss', '-t', 'ALL', `iscsi://127.0.0.1:${s.iscsiPort}/${TEST_IQN}/0`], { timeoutMs: 400000 });
    writeFileSync(join(process.cwd(), 'iscsi-test-cu.log'), r.stdout + r.stderr);
    const results = parseCunitOutput(r.stdout + r.stderr);
    assert.ok(results.length > 100, `iscsi-test-cu ran only ${results.length} tests:\n${(r.stdout + r.stderr).slice(-2000)}`);
    const count = (outcome: CunitResult['outcome']) => results.filter((x) => x.outcome === outcome).length;
    const failed = results.filter((x) => x.outcome === 'failed');
    const bySuite = new Map<string, number>();
    for (const x of results.filter((x) => x.outcome === 'skipped')) bySuite.set(x.suite, (bySuite.get(x.suite) ?? 0) + 1);
    process.stdout.write(
      `iscsi-test-cu: ${count('passed')} passed, ${failed.length} failed, ${count('skipped')} skipped (of ${results.length})\n` +
        failed.map((x) => `  FAILED ${x.suite}.${x.test}: ${x.detail}\n`).join('') +
        `  skipped by suite: ${[...bySuite].map(([suite, n]) => `${suite} ${n}`).join(', ')}\n`,
    );
    const unexpected = failed.filter((x) => KNOWN_FAILURES[`${x.suite}.${x.test}`] === undefined);
    assert.deepEqual(unexpected.map((x) => `${x.suite}.${x.test}: ${x.detail}`), [], 'unexpected conformance failures (full log in iscsi-test-cu.log)');
  });
});
