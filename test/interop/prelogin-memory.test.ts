// Before login completes, a connection cannot make the server buffer a large data segment: the
// framer's cap is the login PDU limit (64 KiB) until full feature phase, so a peer announcing a
// 16 MiB segment is cut off at the header, before any allocation. (It used to be held until the
// PDU completed or the login timed out: 10 such connections grew the server by 160 MiB.)
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { connect, type Socket } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { spawnServer } from '../helpers/server-child.ts';
import { TEST_IQN } from '../helpers/server.ts';

const rssMiB = (pid: number): number => Number(/VmRSS:\s+(\d+)/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 'NaN') / 1024;

test('a login PDU announcing 16 MiB is refused at its header, not buffered', { timeout: 60_000 }, async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'diskless-prelogin-'));
  const disk = path.join(dir, 'disk.img');
  fs.writeFileSync(disk, Buffer.alloc(1024 * 1024));
  const server = await spawnServer({ dataDir: dir, listen: '127.0.0.1', logLevel: 'warn', http: { port: 0 }, iscsi: { port: 0 }, targets: [{ iqn: TEST_IQN, luns: [{ lun: 0, path: disk }] }] });
  const sockets: Socket[] = [];
  try {
    const before = rssMiB(server.pid);
    for (let k = 0; k < 10; k++) {
      const socket = connect(server.iscsiPort, '127.0.0.1');
      socket.on('error', () => undefined);
      const header = Buffer.alloc(48);
      header[0] = 0x43; // Login Request, immediate
      header[1] = 0x81; // T, CSG 0, NSG 1
      header.writeUIntBE(16 * 1024 * 1024 - 1, 5, 3);
      socket.write(header);
      socket.write(Buffer.alloc(16 * 1024 * 1024 - 4096, 0x41));
      sockets.push(socket);
    }
    await new Promise((r) => setTimeout(r, 4000));
    const grown = rssMiB(server.pid) - before;
    assert.ok(grown < 32, `10 connections that never logged in grew the server by ${grown.toFixed(0)} MiB (LOGIN_MAX_SEGMENT is 64 KiB)`);
  } finally {
    for (const s of sockets) s.destroy();
    await server.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
