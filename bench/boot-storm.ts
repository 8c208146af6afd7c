// node --import tsx bench/boot-storm.ts [--machines N] [--rounds R] [--quick] [--disk-mbps M]
//
// A boot storm: N machines (default 20) switched on at once, each reading the first 64 MiB of
// its own disk and writing 16 MiB to it, against tgtd serving N full copies of the image and
// diskless serving one golden image with a copy-on-write overlay per machine. Reported per
// peer: aggregate MiB/s (all bytes of all machines / wall time of the storm), p50 and p99
// latency of reads and writes, and the disk space the N disks take; then diskless/tgtd ratios.
//
// The image: 256 MiB, the first 128 MiB random, the rest a hole (zeros), as an installed
// system's disk is partly empty. Both sides keep the hole: diskless imports it with
// `diskless image import` (qemu-img keeps holes), tgtd gets N copies made with cp (which keeps
// them too, as an administrator's cp would; --reflink=never so no copy shares blocks).
//
// diskless: `machine add --image` through the REST API (what the CLI and the console call): each
// machine gets its own target, its IQN only, its CHAP secret; the client logs in with the
// initiator IQN and credentials read from the machine's own /boot.ipxe, as iPXE does.
// tgtd: one target per machine (tgtd's LUN 0 is its controller, the disk is LUN 1) with a CHAP
// account of its own, so both sides do the same login work.
//
// Every round starts from fresh disks on both sides (new overlays; new copies), so each storm
// is a first boot with the same work (copy-on-write allocation in diskless, allocation of the
// hole's blocks in tgtd's copies), and the rounds are alike. The files live on the real disk
// (a mkdtemp under /var/tmp), and the page cache is dropped before each storm (sync; echo 3 >
// /proc/sys/vm/drop_caches), so the golden image's one shared 64 MiB read meets tgtd's N
// separate ones as on a real morning. Hence: run as root.
//
// The client (bench/lib/storm-client.ts) is the same for both, in a process of its own: N
// sessions, each READ(10) of 128 KiB with 4 in flight, then WRITE(10) of 64 KiB with 4 in flight
// spread over the rest of the disk (4 KiB-aligned, so three in four straddle the overlay's 16 KiB
// clusters as a filesystem's writes do), SYNCHRONIZE CACHE, logout; it times every command.
// (libiscsi's iscsi-perf and qemu-img bench report no latency; fio here has no libiscsi engine.)
//
// One small storm per peer first, not measured (V8 compiles diskless's hot paths; a server that
// has run for a day has them compiled). Then rounds alternate which peer goes first
// (harness.ts `alternate`); the table shows medians.
// Options: --machines N, --rounds R (default 3), --quick (a 64 MiB image, 16 MiB read and 4 MiB
// written per machine), --disk-mbps M (the servers' disk reads limited to M MB/s with a cgroup
// v1 blkio throttle, for a VM whose virtual disk its host caches: bench/lib/storm-throttle.ts).
// BENCH_STORM_CPU_PROF=DIR writes a CPU profile of the diskless server (node --cpu-prof) into
// DIR. Needs: tgt (tgtd, tgtadm), qemu-utils (qemu-img, for the image import). Loopback only.
import { execFileSync } from 'node:child_process';
import { randomBytes, randomFillSync } from 'node:crypto';
import { accessSync, closeSync, constants, fsyncSync, ftruncateSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, statSync, writeFileSync, writeSync } from 'node:fs';
import { connect } from 'node:net';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { alternate, CLOCK_TICKS, cpuTicks, fail, findTool, formatTable, median, onCleanup, ratio, runClient, startServer, stopServer, waitUntil, type Server } from './lib/harness.ts';
import { recordResults, targetResult } from './lib/results.ts';
import type { StormPlan, StormResult, StormSessionPlan } from './lib/storm-client.ts';
import { createReadThrottle } from './lib/storm-throttle.ts';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const CLIENT = join(ROOT, 'bench/lib/storm-client.ts');
const DISKLESS_BIN = join(ROOT, 'bin/diskless.js');
const HOST = '127.0.0.1';
// Ports of their own, so this can run beside bench:iscsi (3291/3292, tgtd control 9).
const TGT_PORT = 3311;
const TGT_CONTROL = 31;
const DISKLESS_ISCSI_PORT = 3312;
const DISKLESS_HTTP_PORT = 3313;
const MIB = 1024 * 1024;
const KIB = 1024;
const STORM_TIMEOUT_MS = 15 * 60_000;

interface Sizes {
  readonly imageBytes: number;
  /** Random data from offset 0; the rest of the image is a hole. */
  readonly dataBytes: number;
  readonly readBytes: number;
  readonly writeBytes: number;
  /** Writes go after the region the boot reads, over the rest of the disk. */
  readonly writeRegionStart: number;
}

const FULL: Sizes = { imageBytes: 256 * MIB, dataBytes: 128 * MIB, readBytes: 64 * MIB, writeBytes: 16 * MIB, writeRegionStart: 64 * MIB };
const QUICK: Sizes = { imageBytes: 64 * MIB, dataBytes: 32 * MIB, readBytes: 16 * MIB, writeBytes: 4 * MIB, writeRegionStart: 16 * MIB };
const READ_REQUEST = 128 * KIB;
const WRITE_REQUEST = 64 * KIB;
const QUEUE_DEPTH = 4;

interface Options {
  readonly machines: number;
  readonly rounds: number;
  readonly sizes: Sizes;
  /** Limit the servers' disk reads to this many MB/s (storm-throttle.ts); undefined: no limit. */
  readonly diskMbps: number | undefined;
}

function parseOptions(): Options {
  const { values } = parseArgs({
    args: process.argv.slice(2),
    options: { machines: { type: 'string' }, rounds: { type: 'string' }, quick: { type: 'boolean' }, 'disk-mbps': { type: 'string' }, help: { type: 'boolean' } },
  });
  if (values.help === true) {
    process.stdout.write('usage: node --import tsx bench/boot-storm.ts [--machines N (20)] [--rounds R (3)] [--quick] [--disk-mbps MB/s]\n');
    process.exit(0);
  }
  const positive = (text: string | undefined, fallback: number, flag: string, max = 250): number => {
    if (text === undefined) return fallback;
    const n = Number(text);
    if (!Number.isInteger(n) || n < 1 || n > max) throw new Error(`${flag} takes a whole number from 1 to ${max}, not "${text}"`);
    return n;
  };
  return {
    machines: positive(values.machines, 20, '--machines'),
    rounds: positive(values.rounds, 3, '--rounds'),
    sizes: values.quick === true ? QUICK : FULL,
    diskMbps: values['disk-mbps'] === undefined ? undefined : positive(values['disk-mbps'], 0, '--disk-mbps', 100_000),
  };
}

interface Sample {
  readonly mibps: number;
  readonly wallSeconds: number;
  readonly readsDoneSeconds: number;
  readonly readP50: number;
  readonly readP99: number;
  readonly writeP50: number;
  readonly writeP99: number;
  readonly syncMax: number;
  readonly serverCpuSeconds: number;
  readonly spaceBytes: number;
}

interface Peer {
  readonly name: 'tgtd' | 'diskless';
  readonly port: number;
  readonly server: Server;
  /** Fresh disks for round `round`; returns how the machines log in. */
  prepare(round: number): Promise<StormSessionPlan[]>;
  /** Bytes the N disks take on the file system (what du counts: allocated blocks). */
  space(): Promise<number>;
  /** Files the server leaves behind, removed once it has stopped. */
  readonly removeFiles?: () => void;
}

const allocated = (path: string): number => statSync(path).blocks * 512;

function portAnswers(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, HOST, () => {
      socket.destroy();
      resolve(true);
    });
    socket.on('error', () => resolve(false));
  });
}

/** The image both peers start from: random data, then a hole. */
function writeSourceImage(path: string, sizes: Sizes): void {
  const fd = openSync(path, 'w');
  try {
    const chunk = Buffer.allocUnsafe(8 * MIB);
    for (let written = 0; written < sizes.dataBytes; written += chunk.length) writeSync(fd, randomFillSync(chunk), 0, Math.min(chunk.length, sizes.dataBytes - written));
    ftruncateSync(fd, sizes.imageBytes);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

function dropCaches(): void {
  execFileSync('sync');
  writeFileSync('/proc/sys/vm/drop_caches', '3');
}

async function startTgtd(tgtd: string, tgtadmPath: string, work: string, source: string, machines: number): Promise<Peer> {
  if (await portAnswers(TGT_PORT)) throw new Error(`port ${TGT_PORT} is already in use: is another boot-storm bench running?`);
  const tgtadm = (...args: string[]): void => {
    execFileSync(tgtadmPath, ['-C', String(TGT_CONTROL), ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  };
  const server = startServer('tgtd', tgtd, ['-f', '-C', String(TGT_CONTROL), '--iscsi', `portal=${HOST}:${TGT_PORT}`]);
  // tgtd leaves its control socket and lock file behind when it is killed.
  const removeSockets = onCleanup(() => {
    for (const suffix of ['', '.lock']) rmSync(`/var/run/tgtd/socket.${TGT_CONTROL}${suffix}`, { force: true });
  });
  await waitUntil('tgtd to take commands', () => {
    if (server.exited()) throw new Error(`tgtd exited at start-up: ${server.output().slice(-1500)}`);
    try {
      tgtadm('--op', 'show', '--mode', 'system');
      return true;
    } catch {
      return false;
    }
  });
  const dir = join(work, 'tgtd');
  mkdirSync(dir);
  const copy = (i: number): string => join(dir, `machine-${i}.img`);
  const account = (i: number) => ({ user: `storm-${i}`, secret: randomBytes(12).toString('hex') });
  const accounts = Array.from({ length: machines }, (_, i) => account(i + 1));
  for (const a of accounts) tgtadm('--lld', 'iscsi', '--op', 'new', '--mode', 'account', '--user', a.user, '--password', a.secret);
  let exported = false;
  return {
    name: 'tgtd',
    port: TGT_PORT,
    server,
    removeFiles: removeSockets,
    async prepare() {
      const sessions: StormSessionPlan[] = [];
      for (let i = 1; i <= machines; i++) {
        const tid = String(i);
        if (exported) tgtadm('--lld', 'iscsi', '--op', 'delete', '--force', '--mode', 'target', '--tid', tid);
        rmSync(copy(i), { force: true });
        execFileSync('cp', ['--reflink=never', source, copy(i)]);
        const iqn = `iqn.2026-11.org.diskless.bench:storm-${i}`;
        tgtadm('--lld', 'iscsi', '--op', 'new', '--mode', 'target', '--tid', tid, '-T', iqn);
        tgtadm('--lld', 'iscsi', '--op', 'new', '--mode', 'logicalunit', '--tid', tid, '--lun', '1', '-b', copy(i));
        tgtadm('--lld', 'iscsi', '--op', 'bind', '--mode', 'target', '--tid', tid, '-I', 'ALL');
        const a = accounts[i - 1] ?? account(i);
        tgtadm('--lld', 'iscsi', '--op', 'bind', '--mode', 'account', '--tid', tid, '--user', a.user);
        sessions.push({ target: iqn, lun: 1, initiatorIqn: `iqn.2026-11.org.diskless.bench:initiator-${i}`, chap: { user: a.user, secret: a.secret } });
      }
      exported = true;
      await waitUntil(`tgtd on port ${TGT_PORT}`, () => portAnswers(TGT_PORT));
      return sessions;
    },
    async space() {
      let bytes = 0;
      for (let i = 1; i <= machines; i++) bytes += allocated(copy(i));
      return bytes;
    },
  };
}

async function stopTgtd(peer: Peer, tgtadmPath: string, machines: number): Promise<void> {
  // tgtd ignores SIGTERM while targets exist: remove them and ask it to exit.
  try {
    for (let i = 1; i <= machines; i++) execFileSync(tgtadmPath, ['-C', String(TGT_CONTROL), '--lld', 'iscsi', '--op', 'delete', '--force', '--mode', 'target', '--tid', String(i)], { stdio: 'ignore' });
  } catch {
    // targets that never existed
  }
  try {
    execFileSync(tgtadmPath, ['-C', String(TGT_CONTROL), '--op', 'delete', '--mode', 'system'], { stdio: 'ignore' });
  } catch {
    // stopServer below ends it anyway
  }
  await stopServer(peer.server, 3000);
  peer.removeFiles?.();
}

async function startDiskless(work: string, source: string, machines: number): Promise<Peer> {
  for (const port of [DISKLESS_ISCSI_PORT, DISKLESS_HTTP_PORT]) if (await portAnswers(port)) throw new Error(`port ${port} is already in use: is another boot-storm bench running?`);
  const dataDir = join(work, 'diskless');
  mkdirSync(dataDir);
  const config = join(work, 'diskless.json');
  writeFileSync(config, JSON.stringify({ dataDir, listen: HOST, logLevel: 'warn', iscsi: { port: DISKLESS_ISCSI_PORT }, http: { port: DISKLESS_HTTP_PORT } }));
  const profileDir = process.env.BENCH_STORM_CPU_PROF;
  const profile = profileDir !== undefined && profileDir !== '' ? ['--cpu-prof', `--cpu-prof-dir=${profileDir}`] : [];
  const server = startServer('diskless', process.execPath, [...profile, DISKLESS_BIN, 'serve', '--config', config]);
  const url = `http://${HOST}:${DISKLESS_HTTP_PORT}`;
  await waitUntil('diskless to answer /healthz', async () => {
    if (server.exited()) throw new Error(`diskless exited at start-up: ${server.output().slice(-1500)}`);
    return fetch(`${url}/healthz`).then(
      (r) => r.ok,
      () => false,
    );
  }, 30_000);
  // The image goes in through the real CLI, as a user would import it.
  await runClient(process.execPath, [DISKLESS_BIN, 'image', 'import', 'storm', source, '--server', url, '--data-dir', dataDir], { timeoutMs: 300_000 });
  const token = readFileSync(join(dataDir, 'api-token'), 'utf8').trim();
  const api = async (method: string, path: string, body?: unknown): Promise<unknown> => {
    const response = await fetch(`${url}${path}`, {
      method,
      headers: { authorization: `Bearer ${token}`, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    });
    const answer: unknown = await response.json();
    if (!response.ok) throw new Error(`${method} ${path}: ${response.status} ${JSON.stringify(answer)}`);
    return answer;
  };
  let names: string[] = [];
  return {
    name: 'diskless',
    port: DISKLESS_ISCSI_PORT,
    server,
    async prepare(round) {
      // Last round's machines go, with their overlays; new ones get fresh overlays.
      for (const name of names) {
        await api('DELETE', `/api/machines/${name}`);
        await api('DELETE', `/api/disks/${name}-disk?deleteFile=true`);
      }
      names = [];
      const sessions: StormSessionPlan[] = [];
      for (let i = 1; i <= machines; i++) {
        const name = `storm-r${round}-m${i}`;
        const mac = `52:54:00:5e:${(round % 256).toString(16).padStart(2, '0')}:${i.toString(16).padStart(2, '0')}`;
        await api('POST', '/api/machines', { mac, name, image: 'storm' });
        names.push(name);
        // What iPXE gets: the machine's initiator IQN, CHAP credentials and target.
        const script = await (await fetch(`${url}/boot.ipxe?mac=${mac}`)).text();
        const field = (re: RegExp): string => {
          const value = re.exec(script)?.[1];
          if (value === undefined) throw new Error(`no ${String(re)} in the boot script of ${name}:\n${script}`);
          return value;
        };
        const root = /iscsi:[^:\s]*:[^:\s]*:\d*:(\d+):(\S+)/.exec(script);
        if (root === null) throw new Error(`no iSCSI root path in the boot script of ${name}:\n${script}`);
        sessions.push({ target: root[2] ?? '', lun: Number(root[1]), initiatorIqn: field(/set initiator-iqn (\S+)/), chap: { user: field(/set username (\S+)/), secret: field(/set password (\S+)/) } });
      }
      return sessions;
    },
    async space() {
      const images = (await api('GET', '/api/images')) as Array<{ name: string; path: string }>;
      const disks = (await api('GET', '/api/disks')) as Array<{ name: string; path: string }>;
      const files = [...images.filter((i) => i.name === 'storm').map((i) => i.path), ...disks.filter((d) => names.some((n) => d.name === `${n}-disk`)).map((d) => d.path)];
      return files.reduce((sum, path) => sum + allocated(path), 0);
    },
  };
}

/** Runs the client in its own process; resolves with its result. */
async function runStormClient(planPath: string): Promise<StormResult> {
  const client = startServer('storm-client', process.execPath, ['--import', 'tsx', CLIENT, planPath]);
  const code = await new Promise<number | null>((resolve) => {
    const timer = setTimeout(() => client.child.kill('SIGKILL'), STORM_TIMEOUT_MS);
    client.child.once('exit', (c) => {
      clearTimeout(timer);
      resolve(c);
    });
  });
  const line = client
    .output()
    .split('\n')
    .find((l) => l.startsWith('STORM-RESULT '));
  if (code !== 0 || line === undefined) throw new Error(`the storm client failed (exit ${code}): ${client.output().slice(-2000)}`);
  return JSON.parse(line.slice('STORM-RESULT '.length)) as StormResult;
}

const shownFlow = new Set<string>();

/** One storm against `peer` on fresh disks and a cold page cache. */
async function storm(peer: Peer, round: number, sizes: Sizes, work: string, source: string): Promise<{ r: StormResult; serverCpuSeconds: number }> {
  const sessions = await peer.prepare(round);
  const plan: StormPlan = {
    host: HOST,
    port: peer.port,
    sessions,
    readBytes: sizes.readBytes,
    readRequestBytes: READ_REQUEST,
    writeBytes: sizes.writeBytes,
    writeRequestBytes: WRITE_REQUEST,
    writeRegionStart: sizes.writeRegionStart,
    queueDepth: QUEUE_DEPTH,
    verifyFile: source,
  };
  const planPath = join(work, 'plan.json');
  writeFileSync(planPath, JSON.stringify(plan), { mode: 0o600 });
  dropCaches();
  const pid = peer.server.child.pid ?? 0;
  const before = cpuTicks(pid);
  const r = await runStormClient(planPath);
  const serverCpuSeconds = (cpuTicks(pid) - before) / CLOCK_TICKS;
  if (!shownFlow.has(peer.name)) {
    shownFlow.add(peer.name);
    const f = r.flow;
    process.stdout.write(`  ${peer.name} negotiated InitialR2T=${f.initialR2T ? 'Yes' : 'No'} ImmediateData=${f.immediateData ? 'Yes' : 'No'} FirstBurstLength=${f.firstBurstLength}, takes data segments of up to ${f.targetMaxRecvSegment} bytes\n`);
  }
  const expected = sessions.length * (sizes.readBytes + sizes.writeBytes);
  if (r.bytesRead + r.bytesWritten !== expected) throw new Error(`${peer.name}: the client moved ${r.bytesRead + r.bytesWritten} bytes, not ${expected}`);
  return { r, serverCpuSeconds };
}

async function measure(peer: Peer, round: number, options: Options, work: string, source: string): Promise<Sample> {
  const { r, serverCpuSeconds } = await storm(peer, round, options.sizes, work, source);
  const sample: Sample = {
    mibps: (r.bytesRead + r.bytesWritten) / MIB / r.wallSeconds,
    wallSeconds: r.wallSeconds,
    readsDoneSeconds: r.readsDoneSeconds,
    readP50: r.read.p50Ms,
    readP99: r.read.p99Ms,
    writeP50: r.write.p50Ms,
    writeP99: r.write.p99Ms,
    syncMax: r.sync.maxMs,
    serverCpuSeconds,
    spaceBytes: await peer.space(),
  };
  process.stdout.write(
    `  round ${round + 1} ${peer.name.padEnd(8)} ${sample.mibps.toFixed(0).padStart(5)} MiB/s in ${sample.wallSeconds.toFixed(2)} s (reads done ${sample.readsDoneSeconds.toFixed(2)} s), ` +
      `read p50/p99 ${sample.readP50.toFixed(1)}/${sample.readP99.toFixed(1)} ms, write p50/p99 ${sample.writeP50.toFixed(1)}/${sample.writeP99.toFixed(1)} ms, ` +
      `sync max ${sample.syncMax.toFixed(0)} ms, server CPU ${serverCpuSeconds.toFixed(2)} s, client CPU ${r.clientCpuSeconds.toFixed(2)} s, ${r.verifiedReads} reads checked, load ${loadavg()[0]?.toFixed(2) ?? '?'}\n`,
  );
  return sample;
}

async function main(): Promise<void> {
  const options = parseOptions();
  const tgtd = findTool('tgtd', 'tgt');
  const tgtadm = findTool('tgtadm', 'tgt');
  const qemuImg = findTool('qemu-img', 'qemu-utils');
  if (tgtd === null || tgtadm === null || qemuImg === null) throw new Error('the boot storm needs tgtd and tgtadm (apt-get install tgt) and qemu-img (apt-get install qemu-utils, for `diskless image import`)');
  try {
    accessSync('/proc/sys/vm/drop_caches', constants.W_OK);
  } catch {
    throw new Error('cannot write /proc/sys/vm/drop_caches: run the boot storm as root, so each storm starts with a cold page cache');
  }

  const { sizes, machines, rounds } = options;
  const work = mkdtempSync('/var/tmp/diskless-storm-');
  const removeWork = onCleanup(() => rmSync(work, { recursive: true, force: true }));
  const throttle = options.diskMbps !== undefined ? createReadThrottle(work, options.diskMbps * 1e6) : null;
  const removeThrottle = onCleanup(() => throttle?.remove());
  const peers: Peer[] = [];
  try {
    const source = join(work, 'source.img');
    writeSourceImage(source, sizes);
    process.stdout.write(
      `boot storm: ${machines} machines, each reading ${sizes.readBytes / MIB} MiB (${READ_REQUEST / KIB} KiB requests) and writing ${sizes.writeBytes / MIB} MiB (${WRITE_REQUEST / KIB} KiB), ` +
        `queue depth ${QUEUE_DEPTH}, over a ${sizes.imageBytes / MIB} MiB image (${sizes.dataBytes / MIB} MiB data); ${rounds} rounds, fresh disks and a cold page cache each; ` +
        `${options.diskMbps !== undefined ? `the servers' disk reads limited to ${options.diskMbps} MB/s; ` : ''}files in ${work}; load average ${loadavg()
          .map((l) => l.toFixed(2))
          .join(' ')}\n`,
    );
    peers.push(await startTgtd(tgtd, tgtadm, work, source, machines));
    peers.push(await startDiskless(work, source, machines));
    for (const peer of peers) throttle?.add(peer.server.child.pid ?? 0);
    // A diskless server runs for days: its code is compiled by the time machines boot. One small
    // storm per peer, not measured, so that round 1 does not time V8 warming up.
    for (const peer of peers) {
      const { r } = await storm(peer, rounds, QUICK, work, source);
      process.stdout.write(`  warm-up ${peer.name} (not measured): ${((r.bytesRead + r.bytesWritten) / MIB / r.wallSeconds).toFixed(0)} MiB/s\n`);
    }
    const samples = await alternate(peers, rounds, (peer, round) => measure(peer, round, options, work, source));

    const m = (name: string, key: keyof Sample): number => median((samples.get(name) ?? []).map((s) => s[key]));
    const row = (name: string): string[] => [
      name,
      m(name, 'mibps').toFixed(0),
      m(name, 'wallSeconds').toFixed(2),
      m(name, 'readsDoneSeconds').toFixed(2),
      m(name, 'readP50').toFixed(2),
      m(name, 'readP99').toFixed(1),
      m(name, 'writeP50').toFixed(2),
      m(name, 'writeP99').toFixed(1),
      m(name, 'syncMax').toFixed(0),
      m(name, 'serverCpuSeconds').toFixed(2),
      (m(name, 'spaceBytes') / MIB).toFixed(0),
    ];
    const keys: Array<keyof Sample> = ['mibps', 'wallSeconds', 'readsDoneSeconds', 'readP50', 'readP99', 'writeP50', 'writeP99', 'syncMax', 'serverCpuSeconds', 'spaceBytes'];
    process.stdout.write(`\nboot storm, ${machines} machines, median of ${rounds} rounds (load average now ${loadavg()[0]?.toFixed(2) ?? '?'})\n\n`);
    process.stdout.write(
      formatTable(
        ['peer', 'MiB/s', 'wall s', 'reads done s', 'read p50 ms', 'read p99 ms', 'write p50 ms', 'write p99 ms', 'sync max ms', 'server CPU s', 'disk MiB'],
        [row('tgtd'), row('diskless'), ['diskless/tgtd', ...keys.map((k) => ratio(m('diskless', k), m('tgtd', k)))]],
      ),
    );
    process.stdout.write('\nMiB/s: all bytes read and written by all machines / wall time from the first connect to the last logout. disk MiB: allocated blocks (du) of tgtd\'s copies; of diskless\'s image and overlays.\n');
    const per = (name: string, key: keyof Sample): number[] => (samples.get(name) ?? []).map((s) => s[key]);
    const title = `Boot storm, ${machines} machines`;
    const note = options.diskMbps !== undefined ? `disk reads held to ${options.diskMbps} MB/s` : undefined;
    recordResults(options.diskMbps !== undefined ? 'boot-storm-throttled' : 'boot-storm', [
      targetResult({ name: `${title}: aggregate MiB/s`, peer: 'tgtd, full copies', unit: 'MiB/s', higherIsBetter: true, note }, per('diskless', 'mibps'), per('tgtd', 'mibps'), { min: 1.5 }),
      targetResult({ name: `${title}: read p99`, peer: 'tgtd, full copies', unit: 'ms', higherIsBetter: false, note }, per('diskless', 'readP99'), per('tgtd', 'readP99'), { max: 1.0 }),
      targetResult({ name: `${title}: disk space`, peer: 'tgtd, full copies', unit: 'MiB', higherIsBetter: false, note }, per('diskless', 'spaceBytes').map((b) => b / MIB), per('tgtd', 'spaceBytes').map((b) => b / MIB), { max: 0.5 }),
    ]);
  } finally {
    for (const peer of peers.reverse()) {
      if (peer.name === 'tgtd') await stopTgtd(peer, tgtadm, machines);
      else await stopServer(peer.server);
    }
    removeThrottle();
    removeWork();
  }
}

main().catch(fail);
