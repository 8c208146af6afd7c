// A real browser for console tests: Debian's chromium driven by playwright-core (the package
// without bundled browsers, so nothing is downloaded). Optionally inside a network namespace,
// for servers that live only there (test/interop/console.test.ts explains why).
import { chmodSync, existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import { chromium, type Browser } from 'playwright-core';
import { needTools } from './tools.ts';

/** Where Debian's `chromium` package puts the browser. */
export const CHROMIUM = '/usr/bin/chromium';

/** True when the browser is there; otherwise skips (or fails under CI) naming the package. */
export function needBrowser(t: TestContext): boolean {
  if (!needTools(t, { chromium: 'chromium' })) return false;
  if (existsSync(CHROMIUM)) return true;
  // `chromium` on PATH but elsewhere: this helper only knows Debian's layout.
  const reason = `needs ${CHROMIUM} (apt-get install chromium)`;
  if (process.env.CI === 'true') throw new Error(`${reason}: .ci/run should have installed it`);
  process.stderr.write(`skipping "${t.name}": ${reason}\n`);
  t.skip(reason);
  return false;
}

export interface LaunchedBrowser {
  readonly browser: Browser;
  close(): Promise<void>;
}

/**
 * Starts headless chromium; with `netns`, inside that network namespace (needs root).
 * Playwright talks to the browser over inherited pipes (fds 3 and 4), not the network, and
 * `ip netns exec` keeps those fds, so a two-line wrapper as the executable is all it takes.
 */
export async function launchBrowser(options: { netns?: string } = {}): Promise<LaunchedBrowser> {
  let wrapperDir: string | null = null;
  let executablePath = CHROMIUM;
  if (options.netns !== undefined) {
    if (!/^[\w.-]+$/.test(options.netns)) throw new Error(`not a namespace name: ${options.netns}`);
    wrapperDir = mkdtempSync(join(tmpdir(), 'diskless-browser-'));
    executablePath = join(wrapperDir, 'chromium-in-netns');
    writeFileSync(executablePath, `#!/bin/sh\nexec ip netns exec ${options.netns} ${CHROMIUM} "$@"\n`);
    chmodSync(executablePath, 0o755);
  }
  // --no-sandbox: the tests run as root, where chromium's sandbox refuses to start.
  const browser = await chromium.launch({ executablePath, args: ['--no-sandbox'], timeout: 60000 });
  return {
    browser,
    async close() {
      await browser.close().catch(() => undefined);
      if (wrapperDir !== null) rmSync(wrapperDir, { recursive: true, force: true });
    },
  };
}
