// Real peers for interop tests. A missing tool skips the test with the Debian package to
// install; under CI (CI=true) a missing tool is a failure, because .ci/run installs them all.
import { createSocket } from 'node:dgram';
import { execFile, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import type { TestContext } from 'node:test';

export function hasTool(name: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${name}`], { stdio: 'ignore' }).status === 0;
}

/** Returns true when the test may go on; otherwise skips (or fails under CI) with a reason. */
export function needTools(t: TestContext, tools: Record<string, string>): boolean {
  const missing = Object.entries(tools).filter(([tool]) => !hasTool(tool));
  if (missing.length === 0) return true;
  const reason = `needs ${missing.map(([tool, pkg]) => `${tool} (apt-get install ${pkg})`).join(', ')}`;
  if (process.env.CI === 'true') throw new Error(`${reason}: .ci/run should have installed it`);
  process.stderr.write(`skipping "${t.name}": ${reason}\n`);
  t.skip(reason);
  return false;
}

/**
 * For suites that set up something once (a namespace, a built image): true when the test may
 * go on; with a setup failure (`skipReason`) it skips with the reason, or fails under CI.
 */
export function setupReady(t: { skip: (reason: string) => void; name: string }, skipReason: string | null, artefact: string): boolean {
  if (skipReason !== null) {
    if (process.env.CI === 'true') throw new Error(skipReason);
    process.stderr.write(`skipping "${t.name}": ${skipReason}\n`);
    t.skip(skipReason);
    return false;
  }
  return existsSync(artefact);
}

export interface RunResult {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs a command with a time limit; never rejects: the caller asserts on the result. */
export function run(command: string, args: readonly string[], options: { timeoutMs?: number; env?: NodeJS.ProcessEnv; cwd?: string } = {}): Promise<RunResult> {
  return new Promise((resolve) => {
    execFile(
      command,
      [...args],
      { timeout: options.timeoutMs ?? 60000, maxBuffer: 64 * 1024 * 1024, env: options.env ?? process.env, cwd: options.cwd },
      (err, stdout, stderr) => {
        const code = err === null ? 0 : typeof err.code === 'number' ? err.code : null;
        resolve({ code, stdout: String(stdout), stderr: String(stderr) });
      },
    );
  });
}

/** A free UDP port on loopback, for a server that cannot tell its port when given 0 (DHCP). */
export async function freeUdpPort(): Promise<number> {
  const probe = createSocket('udp4');
  await new Promise<void>((resolve) => probe.bind(0, '127.0.0.1', resolve));
  const port = probe.address().port;
  await new Promise<void>((resolve) => probe.close(() => resolve()));
  return port;
}
