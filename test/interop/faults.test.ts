// Faults (issue 8): connections dropped in the middle of a write, the server restarted under a
// live session (libiscsi through qemu-io, and our own initiator with writes in flight), a full
// file system under a sparse disk, initiators that stop reading, and hundreds of connections.
// Each test checks that the fault stays with its cause: other sessions and their data are
// intact, memory stays bounded, and a normal client is still served afterwards.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import { connect, type Socket } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { after, describe, test } from 'node:test';
import { RawInitiator } from '../helpers/initiator.ts';
import { BLOCK, IscsiClient, login, senseOf } from '../helpers/iscsi-client.ts';
import { seededRandom } from '../../src/lib/seeded-random.ts';
import { blockPattern } from '../helpers/overlay-crash-child.ts';
import { patternedImage, startTestServer, TEST_IQN } from '../helpers/server.ts';
import { spawnServer, type ServerChild } from '../helpers/server-child.ts';
import { needTools, run } from '../helpers/tools.ts';
import type { ConfigInput } from '../../src/config/schema.ts';
import { DEFAULT_DATA_IN_BUDGET_BYTES } from '../../src/iscsi/data-in-budget.ts';

const dirs: string[] = [];
after(() => {
  for (const dir of dirs) fs.rmSync(dir, { recursive: true, force: true });
});

function scratch(name: string, parent = os.tmpdir()): string {
  const dir = fs.mkdtempSync(path.join(parent, `diskless-faults-${name}-`));
  dirs.push(dir);
  return dir;
}

const isid = (a: number, b: number): Buffer => Buffer.from([0x80, 0, 0, 0, a & 0xff, b & 0xff]);
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** The resident memory of a process, in MiB. */
function rssMiB(pid: number): number {
  return Number(/VmRSS:\s+(\d+)/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 'NaN') / 1024;
}

function childConfig(dir: string, disk: string, extra: Partial<ConfigInput> = {}): ConfigInput {
  return { dataDir: dir, listen: '127.0.0.1', logLevel: 'warn', http: { port: 0 }, ...extra, iscsi: { port: 0, ...(extra.iscsi ?? {}) }, targets: [{ iqn: TEST_IQN, luns: [{ lun: 0, path: disk }] }] };
}

// --- dropped connections ---------------------------------------------------------------------

test('connections dropped in the middle of writes harm neither other sessions nor their data', { timeout: 60_000 }, async (t) => {
  const s = await startTestServer({ diskBytes: 16 * 1024 * 1024 });
  try {
    const initial = fs.readFileSync(path.join(s.dir, 'disk0.img'));
    // The steady client: writes and verifies in blocks 16384..32767 (the upper 8 MiB).
    const steady = await IscsiClient.connect(s.iscsiPort, { target: TEST_IQN, isid: isid(1, 1) });
    const region = { first: 16384, blocks: 16384 };
    const model = Buffer.from(initial.subarray(region.first * BLOCK, (region.first + region.blocks) * BLOCK));
    const next = seededRandom(77);
    let stop = false;
    let steadyWrites = 0;
    const steadyLoop = async (lane: number): Promise<void> => {
      // Four lanes, each in its own quarter of the region: never two overlapping writes.
      const laneBlocks = region.blocks / 4;
      for (let id = lane * 1_000_000 + 1; !stop; id++) {
        const blocks = 1 + next(64);
        const lba = region.first + lane * laneBlocks + next(laneBlocks - blocks);
        const data = Buffer.concat(Array.from({ length: blocks }, (_, i) => blockPattern(id, lba + i)));
        const r = await steady.write(lba, data, next(4) === 0);
        assert.equal(r.status, 0, 'a steady write failed while others were dropped');
        data.copy(model, (lba - region.first) * BLOCK);
        steadyWrites++;
        // Paced: the server shares this event loop, and the saboteurs must get their turn.
        await sleep(2);
      }
    };
    const lanes = [0, 1, 2, 3].map(steadyLoop);

    // The saboteurs: sessions that die in every phase of a write, in blocks 0..8191.
    const phases = ['immediate-data cut', 'data-out cut after R2T', 'header cut', 'pipelined then gone', 'after the response'] as const;
    let dropped = 0;
    for (let i = 0; i < 60; i++) {
      const phase = phases[i % phases.length] ?? 'header cut';
      const raw = await RawInitiator.connect(s.iscsiPort);
      // The R2T case logs in with InitialR2T=Yes (as iPXE does): everything past the immediate
      // data is solicited. (InitialR2T=No with F=1 after partial data: unsolicited-data.test.ts.)
      await login(raw, { target: TEST_IQN, isid: isid(2, i), keys: phase === 'data-out cut after R2T' ? [['InitialR2T', 'Yes']] : [] });
      const lba = next(8192 - 256);
      const cdb = Buffer.alloc(16);
      cdb[0] = 0x8a;
      cdb.writeBigUInt64BE(BigInt(lba), 2);
      cdb.writeUInt32BE(256, 10);
      // final: no unsolicited Data-Out follows (the target sends R2T for the rest).
      const command = (itt: number, immediate: Buffer, final = immediate.length === 256 * BLOCK): void =>
        raw.send({
          kind: 'scsi-command', immediate: false, final, read: false, write: true, taskAttribute: 1, lun: 0n, initiatorTaskTag: itt,
          expectedDataTransferLength: 256 * BLOCK, cmdSn: raw.cmdSn++, expStatSn: raw.expStatSn, cdb, ahs: Buffer.alloc(0), data: immediate,
        });
      switch (phase) {
        case 'immediate-data cut': {
          // The PDU announces 64 KiB of immediate data; 10 KiB arrive, then the connection dies.
          const pdu = Buffer.alloc(48);
          pdu[0] = 0x01;
          pdu[1] = 0xa1; // F, W, SIMPLE
          pdu.writeUIntBE(65536, 5, 3);
          pdu.writeUInt32BE(1, 16);
          pdu.writeUInt32BE(256 * BLOCK, 20);
          pdu.writeUInt32BE(raw.cmdSn, 24);
          cdb.copy(pdu, 32);
          raw.sendRaw(Buffer.concat([pdu, Buffer.alloc(10 * 1024, 0xee)]));
          break;
        }
        case 'data-out cut after R2T': {
          command(7, Buffer.alloc(8192, 0xee), true);
          const r2t = await raw.next(3000);
          assert.equal(r2t?.kind, 'r2t', 'the target asks for the rest');
          if (r2t?.kind === 'r2t') {
            raw.send({ kind: 'data-out', final: false, lun: 0n, initiatorTaskTag: 7, targetTransferTag: r2t.targetTransferTag, expStatSn: raw.expStatSn, dataSn: 0, bufferOffset: r2t.bufferOffset, data: Buffer.alloc(16384, 0xee) });
          }
          break;
        }
        case 'header cut':
          raw.sendRaw(Buffer.from([0x01, 0xa1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 9]));
          break;
        case 'pipelined then gone':
          for (let k = 0; k < 8; k++) command(100 + k, Buffer.alloc(65536, 0xee));
          break;
        case 'after the response': {
          command(200, Buffer.alloc(256 * BLOCK, 0xee));
          const response = await raw.next(3000);
          assert.equal(response?.kind, 'scsi-response');
          break;
        }
      }
      raw.close();
      dropped++;
      await sleep(20);
    }
    await sleep(500);
    stop = true;
    await Promise.all(lanes);
    // Every steady write is on the disk, byte for byte; the untouched middle is untouched.
    for (let lba = region.first; lba < region.first + region.blocks; lba += 256) {
      const r = await steady.read(lba, 256);
      assert.equal(r.status, 0);
      const want = model.subarray((lba - region.first) * BLOCK, (lba - region.first + 256) * BLOCK);
      assert.ok(r.data.equals(want), `steady data differs in blocks ${lba}..${lba + 255}`);
    }
    const middle = await steady.read(8192, 8192);
    assert.ok(middle.data.equals(initial.subarray(8192 * BLOCK, 16384 * BLOCK)), 'blocks nobody wrote changed');
    steady.close();
    await sleep(300);
    const sessions = s.server.iscsi.sessions();
    assert.equal(sessions.length, 0, `sessions left behind: ${JSON.stringify(sessions).slice(0, 300)}`);
    t.diagnostic(`${dropped} sessions dropped mid-write while ${steadyWrites} steady writes went on, all verified`);
    assert.ok(steadyWrites > 100, 'the steady client was busy during the drops');
  } finally {
    await s.stop();
  }
});

// --- restarts --------------------------------------------------------------------------------

describe('the server restarted under a live session', () => {
  let server: ServerChild | null = null;
  after(async () => server?.stop());

  test('qemu-io (libiscsi) reconnects on its own and carries on', { timeout: 60_000 }, async (t) => {
    if (!needTools(t, { 'qemu-io': 'qemu-utils' })) return;
    const dir = scratch('qemu');
    const disk = path.join(dir, 'disk.img');
    patternedImage(disk, 16 * 1024 * 1024);
    server = await spawnServer(childConfig(dir, disk));
    const config = childConfig(dir, disk, { iscsi: { port: server.iscsiPort } });
    const qemu = spawn('qemu-io', ['-f', 'raw', `iscsi://127.0.0.1:${server.iscsiPort}/${TEST_IQN}/0`], { stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    qemu.stdout.on('data', (d: Buffer) => (out += d.toString()));
    qemu.stderr.on('data', (d: Buffer) => (out += d.toString()));
    const exited = new Promise((r) => qemu.once('exit', r));
    const command = async (line: string, done: RegExp): Promise<string> => {
      const from = out.length;
      qemu.stdin.write(`${line}\n`);
      for (let i = 0; i < 600 && !done.test(out.slice(from)); i++) await sleep(50);
      return out.slice(from);
    };
    try {
      assert.match(await command('write -P 0x11 0 256k', /wrote|fail|error/i), /wrote 262144\/262144/);
      await server.kill(); // SIGKILL: no logout, no FIN from a clean close
      server = await spawnServer(config);
      assert.match(await command('write -P 0x22 256k 256k', /wrote|fail|error/i), /wrote 262144\/262144/, `after a SIGKILL restart:\n${out}`);
      await server.stop(); // SIGTERM: a clean close of every connection
      server = await spawnServer(config);
      assert.match(await command('write -P 0x33 512k 256k', /wrote|fail|error/i), /wrote 262144\/262144/, `after a clean restart:\n${out}`);
      for (const [pattern, offset] of [['0x11', 0], ['0x22', 262144], ['0x33', 524288]] as const) {
        const read = await command(`read -P ${pattern} ${offset} 256k`, /read \d|fail|error|differ/i);
        assert.match(read, /read 262144\/262144/, `pattern ${pattern} at ${offset}:\n${read}`);
        assert.doesNotMatch(read, /verification failed|differ/i);
      }
    } finally {
      qemu.stdin.end('quit\n');
      await exited;
    }
  });

  test('our initiator, killed mid-stream: reconnects, re-issues what was not acknowledged, and every acknowledged write is there', { timeout: 60_000 }, async () => {
    const dir = scratch('raw');
    const disk = path.join(dir, 'disk.img');
    patternedImage(disk, 16 * 1024 * 1024);
    await server?.stop();
    server = await spawnServer(childConfig(dir, disk));
    const config = childConfig(dir, disk, { iscsi: { port: server.iscsiPort } });
    const port = server.iscsiPort;
    const model = new Map<number, number>(); // block → op id whose data it must hold
    let client = await IscsiClient.connect(port, { target: TEST_IQN, isid: isid(3, 0) });
    const next = seededRandom(5);
    let reconnects = 0;
    let reissued = 0;
    let reconnecting: Promise<void> | null = null;
    const writeWithRetry = async (id: number, lba: number, blocks: number): Promise<void> => {
      const data = Buffer.concat(Array.from({ length: blocks }, (_, i) => blockPattern(id, lba + i)));
      for (let attempt = 0; attempt < 50; attempt++) {
        if (attempt > 0) reissued++;
        const r = await client.write(lba, data, attempt > 0).catch(() => null);
        if (r !== null) {
          assert.equal(r.status, 0, `write ${id}`);
          for (let b = lba; b < lba + blocks; b++) model.set(b, id);
          return;
        }
        // The connection died: log in again (a new session) once the server is back. One
        // lane reconnects; the others wait for it.
        if (client.closed) {
          reconnecting ??= (async () => {
            for (;;) {
              try {
                client = await IscsiClient.connect(port, { target: TEST_IQN, isid: isid(3, 0) });
                reconnects++;
                return;
              } catch {
                await sleep(100);
              }
            }
          })().finally(() => (reconnecting = null));
        }
        if (reconnecting !== null) await reconnecting;
      }
      assert.fail(`write ${id} never succeeded`);
    };
    const kills = (async () => {
      for (let k = 0; k < 2; k++) {
        await sleep(500 + next(500));
        await server?.kill();
        server = await spawnServer(config);
      }
    })();
    // Four lanes of sequential writes in their own quarters of the disk, until both kills are over.
    let killsDone = false;
    void kills.then(() => (killsDone = true));
    let opId = 1;
    await Promise.all(
      [0, 1, 2, 3].map(async (lane) => {
        while (!killsDone || opId < 200) {
          const blocks = 1 + next(32);
          await writeWithRetry(opId++, lane * 8192 + next(8192 - blocks), blocks);
        }
      }),
    );
    await kills;
    for (const [block, id] of model) {
      const r = await client.read(block, 1);
      assert.ok(r.data.equals(blockPattern(id, block)), `block ${block} lost write ${id}`);
    }
    client.close();
    assert.ok(reconnects >= 2, `the client reconnected after each kill (${reconnects})`);
    assert.ok(reissued > 0, 'some writes were in flight at a kill and were re-issued');
  });
});

// --- disk full -------------------------------------------------------------------------------

describe('disk full', () => {
  let mountpoint = '';
  after(async () => {
    if (mountpoint !== '') await run('umount', [mountpoint]);
  });

  test('a write past the file system space gets CHECK CONDITION, DATA PROTECT / SPACE ALLOCATION FAILED; nothing else breaks', { timeout: 60_000 }, async (t) => {
    if (process.getuid?.() !== 0) {
      process.stderr.write(`skipping "${t.name}": needs root to mount a small tmpfs\n`);
      return t.skip('needs root to mount a small tmpfs');
    }
    if (!needTools(t, { mount: 'mount', umount: 'mount' })) return;
    const dir = scratch('full');
    const mnt = path.join(dir, 'mnt');
    fs.mkdirSync(mnt);
    const mounted = await run('mount', ['-t', 'tmpfs', '-o', 'size=2m', 'dl-flt-full', mnt]);
    assert.equal(mounted.code, 0, mounted.stderr);
    mountpoint = mnt;
    // A sparse 8 MiB disk on a 2 MiB file system, and a filler file to free space later.
    const thin = path.join(mnt, 'thin.img');
    fs.writeFileSync(path.join(mnt, 'filler'), Buffer.alloc(512 * 1024, 1));
    fs.writeFileSync(thin, '');
    fs.truncateSync(thin, 8 * 1024 * 1024);
    const other = path.join(dir, 'other.img');
    patternedImage(other, 1024 * 1024);
    const s = await startTestServer({
      diskBytes: 1024 * 1024,
      targets: [{ iqn: TEST_IQN, luns: [{ lun: 0, path: thin }] }, { iqn: `${TEST_IQN}-other`, luns: [{ lun: 0, path: other }] }],
    });
    try {
      const client = await IscsiClient.connect(s.iscsiPort, { target: TEST_IQN, isid: isid(4, 0) });
      const chunk = (i: number): Buffer => Buffer.alloc(64 * 1024, (i % 250) + 1);
      let full = -1;
      let failure = null as Awaited<ReturnType<IscsiClient['write']>> | null;
      for (let i = 0; i < 128; i++) {
        const r = await client.write(i * 128, chunk(i), i % 3 === 0);
        if (r.status !== 0) {
          full = i;
          failure = r;
          break;
        }
      }
      assert.ok(full > 4 && failure !== null, `the 2 MiB file system never filled up (chunk ${full})`);
      assert.equal(failure.status, 0x02, 'CHECK CONDITION');
      const sense = senseOf(failure);
      assert.deepEqual(sense, { key: 0x07, asc: 0x27, ascq: 0x07 }, `sense DATA PROTECT, SPACE ALLOCATION FAILED WRITE PROTECT (SBC-3 4.7.3.7): ${JSON.stringify(sense)}`);
      t.diagnostic(`ENOSPC after ${full} chunks of 64 KiB: sense ${JSON.stringify(sense)}`);
      // The session goes on: earlier data reads back, allocated space can be rewritten,
      // SYNCHRONIZE CACHE works, and the other target does not notice.
      const first = await client.read(0, 128);
      assert.ok(first.status === 0 && first.data.equals(chunk(0)), 'data written before the disk filled up');
      assert.equal((await client.write(128, chunk(99), true)).status, 0, 'rewriting allocated blocks');
      assert.equal((await client.syncCache()).status, 0);
      const again = await client.write(full * 128, chunk(full), false);
      assert.equal(again.status, 0x02, 'still full');
      const neighbour = await IscsiClient.connect(s.iscsiPort, { target: `${TEST_IQN}-other`, isid: isid(4, 1) });
      assert.equal((await neighbour.write(0, Buffer.alloc(4096, 7), true)).status, 0, 'another target on another file system');
      neighbour.close();
      // Space comes back: the same write now succeeds.
      fs.rmSync(path.join(mnt, 'filler'));
      const retried = await client.write(full * 128, chunk(full), true);
      assert.equal(retried.status, 0, 'once space is freed, writes succeed again');
      const back = await client.read(full * 128, 128);
      assert.ok(back.data.equals(chunk(full)));
      client.close();
    } finally {
      await s.stop();
      await run('umount', [mnt]);
      mountpoint = '';
    }
  });
});

// --- stalled and numerous initiators --------------------------------------------------------

test('initiators that stop reading: memory stays within the Data-In budget, a healthy client is served, the stalled ones are dropped', { timeout: 60_000 }, async (t) => {
  const dir = scratch('stall', '/var/tmp');
  const disk = path.join(dir, 'disk.img');
  fs.writeFileSync(disk, Buffer.alloc(64 * 1024 * 1024, 0x5a));
  const server = await spawnServer(childConfig(dir, disk, { iscsi: { nopIntervalMs: 1000, nopTimeoutMs: 2000 } }));
  const READS = 120;
  // 1 MiB and 2 MiB READs, alternately: without a budget each stalled connection pinned what it
  // had asked for before the write buffer's high-water mark stopped reading its commands (about
  // 30-95 MiB with 1 MiB READs, 60-230 MiB with 2 MiB READs: docs/RELIABILITY.md, finding 2).
  const blocksOf = (k: number): number => (k % 2 === 0 ? 2048 : 4096);
  // Closed in `finally`: a stalled client left open would keep this test process alive.
  const stalled: IscsiClient[] = [];
  let healthy: IscsiClient | null = null;
  try {
    const before = rssMiB(server.pid);
    // Four initiators each queue 120 large READs (720 MiB in all) and stop reading their socket.
    for (let k = 0; k < 4; k++) {
      const c = await IscsiClient.connect(server.iscsiPort, { target: TEST_IQN, isid: isid(5, k) });
      if (k === 0) await sleep(2500); // the first one answers a NOP-In ping before it stalls
      c.raw.socket.pause();
      const blocks = blocksOf(k);
      for (let i = 0; i < READS; i++) void c.read((i * blocks) % (131072 - blocks), blocks).catch(() => undefined);
      stalled.push(c);
    }
    let peak = 0;
    for (let i = 0; i < 10; i++) {
      await sleep(500);
      peak = Math.max(peak, rssMiB(server.pid));
    }
    healthy = await IscsiClient.connect(server.iscsiPort, { target: TEST_IQN, isid: isid(5, 99) });
    const started = Date.now();
    const r = await healthy.read(0, 2048);
    const latency = Date.now() - started;
    assert.equal(r.status, 0);
    assert.ok(r.data.equals(Buffer.alloc(1024 * 1024, 0x5a)));
    const sessions = (await (await fetch(`http://127.0.0.1:${server.httpPort}/api/sessions`)).json()) as Array<{ isid: string }>;
    const first = sessions.find((x) => x.isid.toLowerCase().endsWith('0500'));
    const requested = stalled.reduce((n, _c, k) => n + (READS * blocksOf(k) * BLOCK) / 1024 / 1024, 0);
    t.diagnostic(`RSS ${before.toFixed(0)} MiB before, ${peak.toFixed(0)} MiB peak with ${stalled.length} stalled initiators (${requested} MiB of 1 and 2 MiB READs queued); a healthy 1 MiB read took ${latency} ms; sessions left: ${sessions.length}`);
    // Each connection holds at most its Data-In budget of read data (16 MiB by default), whatever
    // it queued: allow as much again per connection for everything else (the process's heap,
    // socket and framer buffers). Without the budget the same run grew by 549 MiB.
    const budgetMiB = DEFAULT_DATA_IN_BUDGET_BYTES / 1024 / 1024;
    const bound = stalled.length * 2 * budgetMiB;
    assert.ok(peak - before < bound, `memory grew by ${(peak - before).toFixed(0)} MiB with ${stalled.length} stalled initiators (${requested} MiB of READs queued; bound ${bound} MiB: ${budgetMiB} MiB budget per connection and as much again)`);
    assert.ok(latency < 2000, 'the healthy client is served promptly');
    // Responses unsent for longer than the NOP-In timeout: every stalled initiator is dropped,
    // the one that had answered a ping and the three that never did (as iPXE never does).
    assert.equal(first, undefined, 'the stalled initiator that had answered NOP-In is still connected');
    assert.deepEqual(sessions.map((x) => x.isid.slice(-4)), ['0563'], 'only the healthy session is left');
  } finally {
    healthy?.close();
    for (const c of stalled) c.close();
    await server.stop();
  }
});

test('hundreds of connections: no crash, the connection limit holds, a normal client is still served', { timeout: 60_000 }, async (t) => {
  const dir = scratch('many');
  const disk = path.join(dir, 'disk.img');
  patternedImage(disk, 4 * 1024 * 1024);
  const server = await spawnServer(childConfig(dir, disk, { iscsi: { maxConnections: 300 } }));
  const sockets: Socket[] = [];
  try {
    const before = rssMiB(server.pid);
    const open = (send: (s: Socket) => void): Promise<Socket> =>
      new Promise((resolve) => {
        const socket = connect(server.iscsiPort, '127.0.0.1', () => {
          send(socket);
          resolve(socket);
        });
        socket.on('error', () => undefined);
        sockets.push(socket);
      });
    // 400 connections: idle, half a header, a login PDU announcing 64 KiB but sending 1 KiB,
    // garbage, and discovery logins that stay.
    const kinds = ['idle', 'half header', 'short login', 'garbage', 'discovery'] as const;
    for (let i = 0; i < 400; i++) {
      const kind = kinds[i % kinds.length] ?? 'idle';
      await open((socket) => {
        if (kind === 'half header') socket.write(Buffer.alloc(20, 0x43));
        if (kind === 'garbage') socket.write(Buffer.alloc(4096, 0xff));
        if (kind === 'short login') {
          const header = Buffer.alloc(48);
          header[0] = 0x43;
          header[1] = 0x81;
          header.writeUIntBE(65536, 5, 3);
          socket.write(Buffer.concat([header, Buffer.alloc(1024, 0x41)]));
        }
        if (kind === 'discovery') {
          const data = Buffer.from('InitiatorName=iqn.2026-11.org.diskless.flt:many\0SessionType=Discovery\0AuthMethod=None\0');
          const header = Buffer.alloc(48);
          header[0] = 0x43;
          header[1] = 0x87; // T, CSG 1, NSG 3
          header.writeUIntBE(data.length, 5, 3);
          header[8] = 0x80;
          header[13] = i & 0xff;
          socket.write(Buffer.concat([header, data, Buffer.alloc((4 - (data.length % 4)) % 4)]));
        }
      });
    }
    // Beyond maxConnections the server closes new sockets at once, and the garbage ones after
    // their first bytes; on a busy machine that may take a moment to be seen here.
    const countAlive = (): number => sockets.filter((x) => !x.destroyed && x.readyState === 'open').length;
    for (let i = 0; i < 100 && countAlive() > 300; i++) await sleep(100);
    const alive = countAlive();
    const peak = rssMiB(server.pid);
    assert.ok(alive <= 300, `${alive} connections alive with maxConnections 300`);
    // While the server is full a new client is refused (the cost of a connection limit:
    // idle sockets hold their slot for the 15 s login timeout)...
    const blocked = await IscsiClient.connect(server.iscsiPort, { target: TEST_IQN, isid: isid(6, 0) }).then(
      (c) => {
        c.close();
        return false;
      },
      () => true,
    );
    // ...and gets in, and is served, once the crowd leaves.
    for (const s of sockets) s.destroy();
    await sleep(500);
    const client = await IscsiClient.connect(server.iscsiPort, { target: TEST_IQN, isid: isid(6, 1) });
    const r = await client.read(0, 8);
    assert.equal(r.status, 0);
    client.close();
    assert.equal(server.child.exitCode, null, 'the server is still running');
    t.diagnostic(`400 connections opened (${alive} kept with maxConnections 300); RSS ${before.toFixed(0)} → ${peak.toFixed(0)} MiB; a client was ${blocked ? 'refused while full, then' : ''} served after they closed`);
    assert.ok(peak - before < 200, `memory grew by ${(peak - before).toFixed(0)} MiB`);
  } finally {
    for (const s of sockets) s.destroy();
    await server.stop();
  }
});
