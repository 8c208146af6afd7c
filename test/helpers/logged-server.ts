// Starts diskless in-process on loopback with every log line kept in memory, for tests that
// must read what the server logged (secrets must never appear there). Each test builds its own
// configuration in a scratch directory: several targets, TFTP, token, ACLs.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { validateConfig } from '../../src/config/load.ts';
import type { ConfigInput } from '../../src/config/schema.ts';
import { startServer, type RunningServer } from '../../src/main.ts';

export interface LoggedServer {
  readonly server: RunningServer;
  readonly dir: string;
  /** Everything logged so far (pino's JSON lines). */
  logs(): string;
  stop(): Promise<void>;
}

/** `build` gets the scratch directory and returns the configuration (listen and ports are set). */
export async function startLoggedServer(build: (dir: string) => ConfigInput, level: 'trace' | 'debug' | 'info' = 'trace'): Promise<LoggedServer> {
  const dir = mkdtempSync(join(tmpdir(), 'diskless-logged-'));
  const lines: string[] = [];
  const input = build(dir);
  const config = validateConfig({
    dataDir: dir,
    ...input,
    listen: '127.0.0.1',
    logLevel: level,
    iscsi: { ...(input.iscsi ?? {}), port: 0 },
    http: { ...(input.http ?? {}), port: 0 },
  });
  const log = pino({ level }, { write: (line: string) => void lines.push(line) });
  let server: RunningServer;
  try {
    server = await startServer(config, log);
  } catch (err) {
    rmSync(dir, { recursive: true, force: true });
    throw err;
  }
  return {
    server,
    dir,
    logs: () => lines.join(''),
    async stop() {
      await server.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
