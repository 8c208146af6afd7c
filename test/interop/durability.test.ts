// Durability of the plain file-backed disk (src/storage/file-device.ts) over iSCSI, with the
// real server process killed. Two tests:
//
// 1. SIGKILL at random points. A client writes random ranges with random FUA and SYNCHRONIZE
//    CACHE (several commands in flight, never two overlapping writes at once, as a file system
//    does); the server process is SIGKILLed at a random moment, restarted, and the whole disk is
//    read back over iSCSI and checked block by block:
//      contract: every write acknowledged with FUA, or acknowledged before a SYNCHRONIZE CACHE
//                that was acknowledged, is there (or a later write of that block);
//      stronger: every acknowledged write at all is there (or a later one).
//    What this can and cannot prove: SIGKILL kills the process, not the machine, so data in the
//    kernel's page cache survives it. The test therefore catches a server that acknowledges
//    before its write(2) returned (data still in a user-space buffer or queue is lost), that
//    loses or tears writes in flight, or that corrupts other blocks, but it cannot catch a
//    missing fdatasync: only a power cut could. That is what test 2 is for.
// 2. The syscall order, under strace. The server is traced (strace -f -p) while a client writes
//    with FUA and SYNCHRONIZE CACHE; from the trace (pwrite64/pwritev and fdatasync on the disk
//    file, writev/write of the SCSI Response on the socket) the test checks, for every
//    acknowledged command: each write's data left in pwrite calls that returned before its
//    SCSI Response was written; for a FUA write and for SYNCHRONIZE CACHE, an fdatasync (or
//    fsync) of the disk file began after those pwrites returned and returned before the
//    Response. With strace's ptrace stops, causally ordered events appear in causal order.
//    That plus the kernel's fdatasync contract is what makes acknowledged data durable.
//
// DURABILITY_ITERATIONS (default 20: the CI budget, each kill restarts the server, ~3 s) sets
// the number of kills, split over two chains that run at once: one disk on /var/tmp (a disk
// file system: writes go through the thread pool) and one on /dev/shm (tmpfs: small writes are
// synchronous). DURABILITY_SEED sets the first seed.
// scripts/load/durability-soak.sh runs hundreds.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import { seededRandom } from '../../src/lib/seeded-random.ts';
import { blockPattern } from '../helpers/overlay-crash-child.ts';
import { BLOCK, IscsiClient } from '../helpers/iscsi-client.ts';
import { spawnServer, type ServerChild } from '../helpers/server-child.ts';
import { needTools } from '../helpers/tools.ts';
import type { ConfigInput } from '../../src/config/schema.ts';
import { PduFramer } from '../../src/iscsi/framer.ts';

const ITERATIONS = Number(process.env.DURABILITY_ITERATIONS ?? 20);
const FIRST_SEED = Number(process.env.DURABILITY_SEED ?? 1);
const IQN = 'iqn.2026-11.org.diskless.test:durable';
const DISK_BLOCKS = 8192; // 4 MiB
const HOT_BLOCKS = 768;

const dirs: string[] = [];
after(() => {
  if (process.env.DURABILITY_KEEP === '1') return void process.stderr.write(`kept: ${dirs.join(' ')}\n`);
  for (const dir of dirs) fs.rmSync(dir, { recursive: true, force: true });
});

function scratchDir(parent: string, name: string): string {
  const dir = fs.mkdtempSync(path.join(parent, `diskless-durable-${name}-`));
  dirs.push(dir);
  return dir;
}

function serverConfig(dir: string, disk: string): ConfigInput {
  return { dataDir: dir, listen: '127.0.0.1', logLevel: 'warn', iscsi: { port: 0 }, http: { port: 0 }, targets: [{ iqn: IQN, luns: [{ lun: 0, path: disk }] }] };
}

interface Op {
  readonly id: number;
  readonly kind: 'write' | 'sync';
  readonly lba: number;
  readonly blocks: number;
  readonly fua: boolean;
  itt: number;
  acked: boolean;
  durable: boolean;
  /** For a SYNCHRONIZE CACHE: the writes acknowledged before it was sent. */
  covers: readonly Op[];
}

interface Workload {
  readonly ops: Op[];
  readonly perBlock: Op[][];
  readonly errors: string[];
}

/**
 * Issues writes (FUA at random) and SYNCHRONIZE CACHE with `depth` in flight until the
 * connection dies or `untilMs` passes; no two writes in flight overlap.
 */
async function runWorkload(client: IscsiClient, next: (max: number) => number, firstId: number, untilMs: number): Promise<Workload> {
  const ops: Op[] = [];
  const perBlock: Op[][] = Array.from({ length: DISK_BLOCKS }, () => []);
  const errors: string[] = [];
  const busy = new Uint8Array(DISK_BLOCKS);
  const ackedWrites: Op[] = [];
  const depth = 1 + next(16);
  let id = firstId;
  let inFlight = 0;
  let dead = false;
  return new Promise<Workload>((resolve) => {
    const settle = (): void => {
      if (inFlight === 0 && (dead || Date.now() >= untilMs)) resolve({ ops, perBlock, errors });
    };
    const pickRange = (): [number, number] | null => {
      for (let tries = 0; tries < 8; tries++) {
        const span = next(4) === 0 ? DISK_BLOCKS : HOT_BLOCKS;
        const lba = next(span);
        const blocks = 1 + next(Math.min(span - lba, next(6) === 0 ? 256 : 16));
        let free = true;
        for (let b = lba; b < lba + blocks && free; b++) free = busy[b] === 0;
        if (free) return [lba, blocks];
      }
      return null;
    };
    const issue = (): boolean => {
      const roll = next(100);
      if (roll < 8) {
        const op: Op = { id: id++, kind: 'sync', lba: 0, blocks: 0, fua: false, itt: -1, acked: false, durable: false, covers: [...ackedWrites] };
        ops.push(op);
        inFlight++;
        const sent = client.syncCache();
        op.itt = client.lastItt;
        sent.then(
          (r) => {
            if (r.status !== 0) errors.push(`SYNCHRONIZE CACHE failed with status ${r.status}`);
            else {
              op.acked = true;
              for (const w of op.covers) w.durable = true;
            }
            done();
          },
          () => {
            dead = true;
            done();
          },
        );
        return true;
      }
      const range = pickRange();
      if (range === null) return false;
      const [lba, blocks] = range;
      const op: Op = { id: id++, kind: 'write', lba, blocks, fua: roll < 30, itt: -1, acked: false, durable: false, covers: [] };
      ops.push(op);
      for (let b = lba; b < lba + blocks; b++) {
        busy[b] = 1;
        perBlock[b]?.push(op);
      }
      const data = Buffer.concat(Array.from({ length: blocks }, (_, i) => blockPattern(op.id, lba + i)));
      inFlight++;
      const sent = client.write(lba, data, op.fua);
      op.itt = client.lastItt;
      sent.then(
        (r) => {
          if (r.status !== 0) errors.push(`WRITE at ${lba}+${blocks} failed with status ${r.status}`);
          else {
            op.acked = true;
            op.durable ||= op.fua;
            ackedWrites.push(op);
          }
          busy.fill(0, lba, lba + blocks);
          done();
        },
        () => {
          dead = true;
          done();
        },
      );
      return true;
    };
    const done = (): void => {
      inFlight--;
      setImmediate(fill);
    };
    const fill = (): void => {
      if (dead || Date.now() >= untilMs || client.closed) return settle();
      while (inFlight < depth && issue());
      settle();
    };
    fill();
  });
}

async function readDisk(client: IscsiClient): Promise<Buffer> {
  const parts: Buffer[] = [];
  for (let lba = 0; lba < DISK_BLOCKS; lba += 256) {
    const r = await client.read(lba, 256);
    assert.equal(r.status, 0, `READ at ${lba} after the restart`);
    parts.push(Buffer.from(r.data));
  }
  return Buffer.concat(parts);
}

interface Outcome {
  readonly seed: number;
  readonly ops: number;
  readonly acked: number;
  readonly durable: number;
  readonly inFlightAtKill: number;
  /** Blocks whose content came from a write that was in flight when the server died. */
  readonly blocksFromInFlight: number;
}

/** One kill: workload, SIGKILL, restart, verify. Returns the new server and base content. */
async function killOnce(seed: number, server: ServerChild, base: Buffer[], config: ConfigInput): Promise<{ outcome: Outcome; server: ServerChild }> {
  const next = seededRandom(seed);
  const client = await IscsiClient.connect(server.iscsiPort, { target: IQN, isid: Buffer.from([0x80, 0, 0, 0, 0xd0, seed & 0xff]) });
  const killAfterMs = 30 + next(700);
  const killer = setTimeout(() => void server.kill(), killAfterMs);
  // The workload runs until the kill cuts the connection (or 20 s, which would be a bug).
  const work = await runWorkload(client, next, seed * 100_000, Date.now() + 20_000);
  clearTimeout(killer);
  await server.kill();
  client.close();
  assert.deepEqual(work.errors, [], `seed ${seed}: commands failed before the kill`);

  const restarted = await spawnServer(config);
  const reader = await IscsiClient.connect(restarted.iscsiPort, { target: IQN, isid: Buffer.from([0x80, 0, 0, 0, 0xd1, seed & 0xff]) });
  const disk = await readDisk(reader);
  reader.close();
  let blocksFromInFlight = 0;
  const describe = (op: Op | null): string => (op === null ? 'before this run' : `w${op.id}${op.fua ? '(FUA)' : ''}${op.acked ? '' : '(in flight)'}${op.durable ? '(durable)' : ''}`);
  for (let block = 0; block < DISK_BLOCKS; block++) {
    const found = disk.subarray(block * BLOCK, (block + 1) * BLOCK);
    const history = work.perBlock[block] ?? [];
    const content = (op: Op | null): Buffer => (op === null ? (base[block] ?? Buffer.alloc(BLOCK)) : blockPattern(op.id, block));
    const lastIndex = (pick: (op: Op) => boolean): number => history.reduce((last, op, i) => (pick(op) ? i : last), -1);
    const allowedFrom = (index: number): Array<Op | null> => (index < 0 ? [null, ...history] : history.slice(index));
    const match = allowedFrom(lastIndex((op) => op.acked)).find((op) => found.equals(content(op)));
    if (match === undefined) {
      const contractOk = allowedFrom(lastIndex((op) => op.durable)).some((op) => found.equals(content(op)));
      const seen = found.readUInt32LE(4) === block ? `write ${found.readUInt32LE(0)}'s data` : 'unrecognised bytes';
      assert.fail(
        `seed ${seed}: block ${block} holds ${seen}; ` +
          (contractOk
            ? 'an acknowledged write is missing after SIGKILL (acknowledged before its write(2) returned?)'
            : 'a durable write (FUA or flushed by SYNCHRONIZE CACHE) is missing') +
          `; history: ${history.map(describe).join(', ') || 'none'}`,
      );
    }
    if (match !== null && !match.acked) blocksFromInFlight++;
    base[block] = Buffer.from(found);
  }
  const writes = work.ops.filter((op) => op.kind === 'write');
  return {
    server: restarted,
    outcome: {
      seed,
      ops: work.ops.length,
      acked: work.ops.filter((op) => op.acked).length,
      durable: writes.filter((op) => op.durable).length,
      inFlightAtKill: work.ops.filter((op) => !op.acked).length,
      blocksFromInFlight,
    },
  };
}

async function chain(parent: string, name: string, seeds: readonly number[]): Promise<Outcome[]> {
  const dir = scratchDir(parent, name);
  const disk = path.join(dir, 'disk.img');
  const base = Array.from({ length: DISK_BLOCKS }, (_, block) => blockPattern(0, block));
  fs.writeFileSync(disk, Buffer.concat(base));
  const config = serverConfig(dir, disk);
  let server = await spawnServer(config);
  const outcomes: Outcome[] = [];
  try {
    for (const seed of seeds) {
      const r = await killOnce(seed, server, base, config);
      server = r.server;
      outcomes.push(r.outcome);
    }
    // After all that, the server still takes writes and reads them back.
    const client = await IscsiClient.connect(server.iscsiPort, { target: IQN, isid: Buffer.from([0x80, 0, 0, 0, 0xd2, 0]) });
    const data = Buffer.alloc(4096, 0x3c);
    assert.equal((await client.write(100, data, true)).status, 0);
    assert.ok((await client.read(100, 8)).data.equals(data));
    client.close();
  } finally {
    await server.stop();
  }
  return outcomes;
}

test(`acknowledged writes survive SIGKILL of the server (${ITERATIONS} kills from seed ${FIRST_SEED})`, { timeout: Math.max(180_000, ITERATIONS * 8_000) }, async (t) => {
  const seeds = Array.from({ length: ITERATIONS }, (_, i) => FIRST_SEED + i);
  const onDisk = seeds.filter((_, i) => i % 2 === 0);
  const onTmpfs = seeds.filter((_, i) => i % 2 === 1);
  const shm = fs.existsSync('/dev/shm') ? '/dev/shm' : os.tmpdir();
  const results = await Promise.all([chain('/var/tmp', 'disk', onDisk), chain(shm, 'tmpfs', onTmpfs)]);
  const outcomes = results.flat();
  const sum = (pick: (o: Outcome) => number): number => outcomes.reduce((total, o) => total + pick(o), 0);
  t.diagnostic(
    `${outcomes.length} kills: ${sum((o) => o.ops)} commands, ${sum((o) => o.acked)} acknowledged, ${sum((o) => o.durable)} durable writes, ` +
      `${sum((o) => o.inFlightAtKill)} in flight at the kill, ${sum((o) => o.blocksFromInFlight)} blocks found holding an unacknowledged write`,
  );
  assert.equal(outcomes.length, ITERATIONS);
  // Not vacuous: durable writes were made, and kills landed with commands in flight.
  assert.ok(sum((o) => o.durable) > ITERATIONS, 'durable writes were acknowledged');
  assert.ok(outcomes.filter((o) => o.inFlightAtKill > 0).length > ITERATIONS / 2, 'most kills landed with commands in flight');
});

// --- the syscall order under strace ------------------------------------------------------------

/** A syscall in the trace: where it started and where it returned (line numbers). */
interface Call {
  readonly name: string;
  readonly fd: number;
  args: string;
  readonly enter: number;
  exit: number;
  result: string;
  /** The bytes strace dumped for it (-e write=FD), for the traced socket only. */
  dump: Buffer[];
}

/** Parses `strace -f -o` output (-y -xx, -e write=FD): unfinished/resumed pairs joined per thread. */
function parseTrace(text: string): Call[] {
  const calls: Call[] = [];
  const open = new Map<string, Call>();
  let last: Call | null = null;
  text.split('\n').forEach((line, index) => {
    // " | 00000  2f 75 73 72 2f 62 69 6e  2f 72 ...  /usr/bin/r...": hex in columns 10-57.
    if (/^ \| [0-9a-f]{5} /.test(line)) {
      last?.dump.push(Buffer.from(line.slice(10, 58).replace(/ /g, ''), 'hex'));
      return;
    }
    if (line.startsWith(' * ')) return; // "* N bytes in buffer K" of a writev dump
    const m = /^(\d+)\s+(.*)$/.exec(line);
    if (m === null) return;
    const [, pid = '', rest = ''] = m;
    last = null;
    const resumed = /^<\.\.\. (\w+) resumed>(.*)\) += (.*)$/.exec(rest);
    if (resumed !== null) {
      const call = open.get(pid);
      if (call === undefined) return;
      open.delete(pid);
      call.exit = index;
      call.result = resumed[3] ?? '';
      call.args += resumed[2] ?? '';
      last = call;
      return;
    }
    const unfinished = /^(\w+)\((\d+)(.*) <unfinished \.\.\.>$/.exec(rest);
    if (unfinished !== null) {
      const call: Call = { name: unfinished[1] ?? '', fd: Number(unfinished[2]), args: unfinished[3] ?? '', enter: index, exit: -1, result: '', dump: [] };
      open.set(pid, call);
      calls.push(call);
      return;
    }
    const full = /^(\w+)\((\d+)(.*)\) += (.*)$/.exec(rest);
    if (full === null) return;
    const call: Call = { name: full[1] ?? '', fd: Number(full[2]), args: full[3] ?? '', enter: index, exit: index, result: full[4] ?? '', dump: [] };
    calls.push(call);
    last = call;
  });
  return calls;
}

const unhex = (s: string): Buffer => Buffer.from(s.replace(/\\x/g, ''), 'hex');

/** The server's file descriptor for the TCP connection whose client end is `clientPort`. */
function serverSocketFd(pid: number, serverPort: number, clientPort: number): number {
  const hexPort = (port: number): string => port.toString(16).toUpperCase().padStart(4, '0');
  const row = fs
    .readFileSync(`/proc/${pid}/net/tcp`, 'utf8')
    .split('\n')
    .map((l) => l.trim().split(/\s+/))
    .find((cols) => cols[1]?.endsWith(`:${hexPort(serverPort)}`) && cols[2]?.endsWith(`:${hexPort(clientPort)}`));
  const inode = row?.[9];
  assert.ok(inode !== undefined, 'the server side of the connection is in /proc/net/tcp');
  for (const fd of fs.readdirSync(`/proc/${pid}/fd`)) {
    try {
      if (fs.readlinkSync(`/proc/${pid}/fd/${fd}`) === `socket:[${inode}]`) return Number(fd);
    } catch {
      // closed meanwhile
    }
  }
  assert.fail(`no fd of ${pid} is socket:[${inode}]`);
}

test('under strace: every acknowledgement follows its pwrite, and FUA / SYNCHRONIZE CACHE follow an fdatasync', { timeout: 120_000 }, async (t) => {
  if (!needTools(t, { strace: 'strace' })) return;
  const dir = scratchDir('/var/tmp', 'strace');
  const disk = path.join(dir, 'disk.img');
  fs.writeFileSync(disk, Buffer.concat(Array.from({ length: DISK_BLOCKS }, (_, block) => blockPattern(0, block))));
  const server = await spawnServer(serverConfig(dir, disk));
  const client = await IscsiClient.connect(server.iscsiPort, { target: IQN, isid: Buffer.from([0x80, 0, 0, 0, 0xd3, 0]) });
  client.commandTimeoutMs = 60_000;
  const socketFd = serverSocketFd(server.pid, server.iscsiPort, client.raw.socket.localPort ?? 0);
  const traceFile = path.join(dir, 'trace.txt');
  const strace = spawn('strace', ['-f', '-v', '-y', '-xx', '-s', '48', '-e', 'trace=pwrite64,pwritev,pwritev2,write,writev,sendmsg,fdatasync,fsync,sync_file_range', '-e', `write=${socketFd}`, '-o', traceFile, '-p', String(server.pid)], { stdio: ['ignore', 'ignore', 'pipe'] });
  let straceErr = '';
  strace.stderr.on('data', (d: Buffer) => (straceErr += d.toString()));
  const straceExit = new Promise<void>((resolve) => strace.once('exit', () => resolve()));
  try {
    for (let i = 0; i < 100 && !/attached/.test(straceErr); i++) await new Promise((r) => setTimeout(r, 50));
    assert.match(straceErr, /attached/, `strace could not attach: ${straceErr}`);
    await new Promise((r) => setTimeout(r, 300));
    const work = await runWorkload(client, seededRandom(4242), 5_000_000, Date.now() + 4000);
    client.close();
    assert.deepEqual(work.errors, []);
    assert.ok(work.ops.filter((op) => op.acked).length > 50, `enough commands were acknowledged: ${work.ops.length}`);
    strace.kill('SIGINT');
    await straceExit;

    const calls = parseTrace(fs.readFileSync(traceFile, 'utf8'));
    const diskPath = fs.realpathSync(disk);
    const onDisk = (c: Call): boolean => unhex(/^<((?:\\x[0-9a-f]{2})*)>/.exec(c.args)?.[1] ?? '').toString() === diskPath;
    // pwrite64(fd<path>, "<first 48 bytes>"..., length, offset): which op's data it carried.
    const writesByOp = new Map<number, Array<{ length: number; exit: number }>>();
    for (const c of calls) {
      if (c.name !== 'pwrite64' || !onDisk(c) || c.exit < 0) continue;
      const m = /^<[^>]*>, "((?:\\x[0-9a-f]{2})*)"(?:\.\.\.)?, (\d+), (\d+)$/.exec(c.args);
      assert.ok(m !== null, `unparsed pwrite64: ${c.args.slice(0, 200)}`);
      const opId = unhex(m[1] ?? '').readUInt32LE(0);
      const list = writesByOp.get(opId) ?? [];
      list.push({ length: Number(c.result), exit: c.exit });
      writesByOp.set(opId, list);
    }
    // pwritev(fd<path>, [{iov_base="<first 48 bytes>"..., iov_len=N}, ...], count, offset): small
    // writes queued in one tick and adjacent on disk leave together, one iovec per write.
    for (const c of calls) {
      if ((c.name !== 'pwritev' && c.name !== 'pwritev2') || !onDisk(c) || c.exit < 0) continue;
      const iovecs = [...c.args.matchAll(/\{iov_base="((?:\\x[0-9a-f]{2})*)"(?:\.\.\.)?, iov_len=(\d+)\}/g)];
      const count = Number(/\], (\d+), \d+/.exec(c.args)?.[1] ?? -1);
      assert.equal(iovecs.length, count, `unparsed pwritev (strace -v prints every iovec): ${c.args.slice(0, 200)}`);
      let left = Number(c.result);
      for (const v of iovecs) {
        const length = Math.min(Number(v[2]), Math.max(0, left));
        left -= length;
        const opId = unhex(v[1] ?? '').readUInt32LE(0);
        const list = writesByOp.get(opId) ?? [];
        list.push({ length, exit: c.exit });
        writesByOp.set(opId, list);
      }
    }
    const syncs = calls.filter((c) => (c.name === 'fdatasync' || c.name === 'fsync') && onDisk(c) && c.result === '0');
    // The socket's byte stream, cut into PDUs: each SCSI Response with the line of the write
    // call that carried its first byte.
    const responses = new Map<number, number>();
    const framer = new PduFramer({ headerDigest: false, dataDigest: false, maxDataSegmentLength: 16 * 1024 * 1024 });
    let streamOffset = 0;
    let frameStart = 0;
    const callAt: Array<[number, number]> = [];
    const lineOf = (offset: number): number => {
      let line = -1;
      for (const [start, l] of callAt) if (start <= offset) line = l;
      return line;
    };
    for (const c of calls) {
      if (c.fd !== socketFd || (c.name !== 'write' && c.name !== 'writev' && c.name !== 'sendmsg')) continue;
      const bytes = Buffer.concat(c.dump).subarray(0, Math.max(0, Number(c.result)));
      callAt.push([streamOffset, c.enter]);
      streamOffset += bytes.length;
      framer.push(bytes, (frame) => {
        const length = 48 + frame.ahs.length + frame.data.length + ((4 - (frame.data.length % 4)) % 4);
        if (((frame.header[0] ?? 0) & 0x3f) === 0x21) responses.set(frame.header.readUInt32BE(16), lineOf(frameStart));
        frameStart += length;
      });
    }
    assert.ok(responses.size > 0, 'SCSI Responses were found in the socket dump');
    let checkedFua = 0;
    let checkedSync = 0;
    let checkedPlain = 0;
    const lastPwrite = (op: Op, before: number): number => {
      const pieces = (writesByOp.get(op.id) ?? []).filter((p) => p.exit < before);
      const bytes = pieces.reduce((total, p) => total + p.length, 0);
      assert.ok(bytes >= op.blocks * BLOCK, `write ${op.id} (${op.blocks} blocks): only ${bytes} bytes written by pwrite64/pwritev before its acknowledgement`);
      return Math.max(...pieces.map((p) => p.exit));
    };
    for (const op of work.ops) {
      if (!op.acked) continue;
      const response = responses.get(op.itt);
      assert.ok(response !== undefined, `no SCSI Response found in the trace for ITT ${op.itt}`);
      if (op.kind === 'write') {
        const written = lastPwrite(op, response);
        checkedPlain++;
        if (op.fua) {
          assert.ok(syncs.some((c) => c.enter > written && c.exit < response), `FUA write ${op.id}: no fdatasync between its pwrite (line ${written}) and its acknowledgement (line ${response})`);
          checkedFua++;
        }
      } else {
        const written = Math.max(-1, ...op.covers.map((w) => lastPwrite(w, response)));
        assert.ok(syncs.some((c) => c.enter > written && c.exit < response), `SYNCHRONIZE CACHE ${op.id}: no fdatasync between the covered writes (line ${written}) and its acknowledgement (line ${response})`);
        checkedSync++;
      }
    }
    t.diagnostic(`strace: ${checkedPlain} writes acknowledged after their pwrite64/pwritev returned (${calls.filter((c) => c.name === 'pwritev' && onDisk(c)).length} pwritev); ${checkedFua} FUA writes and ${checkedSync} SYNCHRONIZE CACHE acknowledged after an fdatasync that began after them (${syncs.length} fdatasync calls)`);
    assert.ok(checkedFua > 5 && checkedSync > 2, 'FUA writes and SYNCHRONIZE CACHE were checked');
  } finally {
    client.close();
    if (strace.exitCode === null) strace.kill('SIGINT');
    await straceExit;
    await server.stop();
  }
});
