// An initiator that stops reading its socket: server memory stays bounded, and the connection is
// dropped once responses have waited longer than the NOP-In timeout with none leaving, even for
// an initiator that never answers pings (iPXE ignores them and its kernel keeps ACKing with a
// zero window, so TCP keepalive never fires).
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { IscsiClient } from '../helpers/iscsi-client.ts';
import { spawnServer } from '../helpers/server-child.ts';
import { TEST_IQN } from '../helpers/server.ts';

const rssMiB = (pid: number): number => Number(/VmRSS:\s+(\d+)/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 'NaN') / 1024;
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

test('stalled initiators: bounded memory, and dropped even if they never answered a ping', { timeout: 60_000 }, async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'diskless-stalled-'));
  const disk = path.join(dir, 'disk.img');
  fs.writeFileSync(disk, Buffer.alloc(64 * 1024 * 1024, 0x5a));
  const server = await spawnServer({ dataDir: dir, listen: '127.0.0.1', logLevel: 'warn', http: { port: 0 }, iscsi: { port: 0, nopIntervalMs: 1000, nopTimeoutMs: 2000 }, targets: [{ iqn: TEST_IQN, luns: [{ lun: 0, path: disk }] }] });
  try {
    const before = rssMiB(server.pid);
    const stalled: IscsiClient[] = [];
    for (let k = 0; k < 2; k++) {
      const c = await IscsiClient.connect(server.iscsiPort, { target: TEST_IQN, isid: Buffer.from([0x80, 0, 0, 0, 0x5a, k]) });
      c.raw.socket.pause();
      for (let i = 0; i < 120; i++) void c.read((i * 16384) % (131072 - 16384), 16384).catch(() => undefined);
      stalled.push(c);
    }
    let peak = 0;
    for (let i = 0; i < 16; i++) {
      await sleep(500);
      peak = Math.max(peak, rssMiB(server.pid));
    }
    const sessions = (await (await fetch(`http://127.0.0.1:${server.httpPort}/api/sessions`)).json()) as unknown[];
    for (const c of stalled) c.close();
    assert.ok(peak - before < 2 * 64, `2 stalled initiators grew the server by ${(peak - before).toFixed(0)} MiB (want < 64 MiB each)`);
    assert.equal(sessions.length, 0, 'stalled initiators that never answered a ping are still connected after 8 s (nopTimeoutMs 2 s)');
  } finally {
    await server.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
