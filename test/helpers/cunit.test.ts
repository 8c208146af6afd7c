import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseCunitOutput } from './cunit.ts';

test('iscsi-test-cu output: passed, failed and skipped are told apart', () => {
  const text = [
    'Suite: GetLBAStatus',
    '  Test: Simple ...passed',
    '  Test: BeyondEol ...    [FAILED] GET_LBA_STATUS successful but should have failed',
    'FAILED',
    '    1. test_get_lba_status_beyond_eol.c:38  - CU_ASSERT_EQUAL(_r,0)',
    '  Test: UnmapSingle ...    [SKIPPED] Logical unit is fully provisioned. Skipping test',
    'passed',
    '  Test: Async ...passed    [SKIPPED] PERSISTENT RESERVE IN is not implemented.',
    'Suite: Inquiry',
    '  Test: Standard ...passed',
    '',
    'Run Summary:    Type  Total    Ran Passed Failed Inactive',
  ].join('\n');
  assert.deepEqual(
    parseCunitOutput(text).map((r) => `${r.suite}.${r.test}=${r.outcome}`),
    ['GetLBAStatus.Simple=passed', 'GetLBAStatus.BeyondEol=failed', 'GetLBAStatus.UnmapSingle=skipped', 'GetLBAStatus.Async=passed', 'Inquiry.Standard=passed'],
  );
});
