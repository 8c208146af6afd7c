// Parses iscsi-test-cu's CUnit console output into per-test outcomes. CUnit counts a skipped
// test as passed; libiscsi prints "[SKIPPED]" first, so skips are counted apart here.

export type Outcome = 'passed' | 'failed' | 'skipped';

export interface CunitResult {
  readonly suite: string;
  readonly test: string;
  readonly outcome: Outcome;
  readonly detail: string;
}

export function parseCunitOutput(text: string): CunitResult[] {
  const results: CunitResult[] = [];
  let suite = '';
  let current: { test: string; body: string[] } | null = null;
  const finish = (): void => {
    if (current === null) return;
    // Only what comes before the result word belongs to this test: a suite's set-up and
    // tear-down print their own "[SKIPPED]" lines, which can land after it.
    const tokens = current.body.join('\n').split(/\s+/);
    let skippedBeforeResult = false;
    let result: 'passed' | 'FAILED' | null = null;
    for (const token of tokens) {
      if (token === '[SKIPPED]' && result === null) skippedBeforeResult = true;
      if (token === 'passed' || token === 'FAILED') {
        result = token;
        break;
      }
    }
    const failed = result === 'FAILED';
    const skipped = !failed && skippedBeforeResult;
    const firstLine = current.body.find((l) => /\[(FAILED|SKIPPED)\]/.test(l)) ?? '';
    results.push({ suite, test: current.test, outcome: failed ? 'failed' : skipped ? 'skipped' : 'passed', detail: firstLine.trim() });
    current = null;
  };
  for (const line of text.split('\n')) {
    const suiteMatch = /^Suite: (.+)$/.exec(line);
    if (suiteMatch !== null) {
      finish();
      suite = suiteMatch[1] ?? '';
      continue;
    }
    const testMatch = /^ {2}Test: (\S+) \.\.\.(.*)$/.exec(line);
    if (testMatch !== null) {
      finish();
      current = { test: testMatch[1] ?? '', body: [testMatch[2] ?? ''] };
      continue;
    }
    if (/^Run Summary:/.test(line)) {
      finish();
      break;
    }
    current?.body.push(line);
  }
  finish();
  return results;
}
