// The real diskless server in a process of its own, for tests that kill it (SIGKILL at a random
// moment), restart it on the same ports, trace its system calls or run it in a network
// namespace. As a script:
//   node --import tsx test/helpers/server-child.ts '<config JSON>'
// prints "READY {iscsiPort,httpPort,tftpPort}" on stdout once listening, logs JSON lines on
// stderr, and closes cleanly on SIGTERM. spawnServer() below is the parent's side.
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import pino from 'pino';
import { validateConfig } from '../../src/config/load.ts';
import type { ConfigInput } from '../../src/config/schema.ts';
import { startServer } from '../../src/main.ts';

const ROOT = path.resolve(import.meta.dirname, '../..');
const SELF = path.resolve(import.meta.dirname, 'server-child.ts');

export interface ServerChild {
  readonly child: ChildProcess;
  readonly pid: number;
  readonly iscsiPort: number;
  readonly httpPort: number;
  readonly tftpPort: number | null;
  /** What the server logged on stderr so far. */
  stderr(): string;
  /** Resolves with the exit code or signal once the process is gone. */
  readonly exited: Promise<string>;
  /** SIGTERM and wait (a clean close). */
  stop(): Promise<void>;
  /** SIGKILL and wait. */
  kill(): Promise<void>;
}

export interface SpawnOptions {
  /** Run inside this network namespace (ip netns exec). */
  readonly netns?: string;
  readonly readyTimeoutMs?: number;
}

export function spawnServer(config: ConfigInput, options: SpawnOptions = {}): Promise<ServerChild> {
  const node = [process.execPath, '--import', 'tsx', SELF, JSON.stringify(config)];
  const command = options.netns !== undefined ? ['ip', 'netns', 'exec', options.netns, ...node] : node;
  const child = spawn(command[0] ?? 'false', command.slice(1), { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => {
    stderr += d.toString();
    // Keep the tail only: a long run logs a lot.
    if (stderr.length > 4_000_000) stderr = stderr.slice(-2_000_000);
  });
  const exited = new Promise<string>((resolve) => child.once('exit', (code, signal) => resolve(signal ?? String(code))));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`server did not start in time:\n${stderr.slice(-4000)}`));
    }, options.readyTimeoutMs ?? 30_000);
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (chunk: string) => {
      stdout += chunk;
      const line = /READY (\{.*\})\n/.exec(stdout);
      if (line === null) return;
      clearTimeout(timer);
      const ports = JSON.parse(line[1] ?? '{}') as { iscsiPort: number; httpPort: number; tftpPort: number | null };
      resolve({
        child,
        pid: child.pid ?? -1,
        ...ports,
        stderr: () => stderr,
        exited,
        async stop() {
          if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
          await exited;
        },
        async kill() {
          if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
          await exited;
        },
      });
    });
    void exited.then((how) => {
      clearTimeout(timer);
      reject(new Error(`server exited (${how}) before it was ready:\n${stderr.slice(-4000)}`));
    });
  });
}

async function main(): Promise<void> {
  const config = validateConfig(JSON.parse(process.argv[2] ?? '{}'));
  const log = pino({ level: config.logLevel }, pino.destination(2));
  const server = await startServer(config, log);
  process.on('SIGTERM', () => {
    void server.close().then(() => process.exit(0));
  });
  process.stdout.write(`READY ${JSON.stringify({ iscsiPort: server.iscsiPort, httpPort: server.httpPort, tftpPort: server.tftpPort })}\n`);
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(path.resolve(process.argv[1])).href) {
  main().catch((err: unknown) => {
    process.stderr.write(`server-child: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exit(1);
  });
}
