// Starts diskless in-process on loopback with ephemeral ports and a scratch disk.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { validateConfig } from '../../src/config/load.ts';
import type { ConfigInput } from '../../src/config/schema.ts';
import { startServer, type RunningServer } from '../../src/main.ts';

export interface TestServer {
  readonly server: RunningServer;
  readonly dir: string;
  readonly iscsiPort: number;
  readonly httpPort: number;
  stop(): Promise<void>;
}

export const TEST_IQN = 'iqn.2026-11.org.diskless.test:disk0';

/** A disk image filled with a deterministic, non-zero pattern (a sparse file reads as zeros). */
export function patternedImage(path: string, sizeBytes: number, seed = 1): Buffer {
  const data = Buffer.allocUnsafe(sizeBytes);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < sizeBytes; i += 4) {
    // xorshift32
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    data.writeUInt32LE(x, i);
  }
  writeFileSync(path, data);
  return data;
}

export interface TestServerOptions extends Partial<ConfigInput> {
  diskBytes?: number;
  /** Extra settings for the test target (chap, mutualChap, initiators, ...). */
  target?: Record<string, unknown>;
}

export async function startTestServer(input: TestServerOptions = {}): Promise<TestServer> {
  const dir = mkdtempSync(join(tmpdir(), 'diskless-test-'));
  const disk = join(dir, 'disk0.img');
  patternedImage(disk, input.diskBytes ?? 16 * 1024 * 1024);
  const { diskBytes: _ignored, target: extra, ...rest } = input;
  const config = validateConfig({
    listen: '127.0.0.1',
    logLevel: (process.env.DISKLESS_TEST_LOG as ConfigInput['logLevel']) ?? 'silent',
    dataDir: dir,
    targets: [{ iqn: TEST_IQN, alias: 'test disk', luns: [{ lun: 0, path: disk }], ...extra }],
    ...rest,
    iscsi: { port: 0, ...(rest.iscsi ?? {}) },
    http: { port: 0, ...(rest.http ?? {}) },
  });
  const server = await startServer(config, pino({ level: config.logLevel }));
  return {
    server,
    dir,
    iscsiPort: server.iscsiPort,
    httpPort: server.httpPort,
    async stop() {
      await server.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
