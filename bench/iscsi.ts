// npm run bench:iscsi — diskless against tgtd on the same RAM-backed file (real data: a sparse
// file reads as zeros), the same clients, alternating runs, median of the pairs, and the ratio.
// Also the server CPU time per I/O from /proc/PID/stat around each run (utime + stime of the
// whole process: every thread, so tgtd's I/O threads and Node's thread pool alike).
//
// BENCH_BASELINE=/path/to/another/checkout adds a third peer, "baseline": that tree's diskless
// (same flags), to measure a change against the code before it in the same alternating runs.
// BENCH_DISKLESS_NODE_ARGS adds node options to this tree's server (e.g. "--cpu-prof").
// Needs: tgt, libiscsi-bin, qemu-utils, qemu-block-extra (see .ci/run). Loopback only.
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { closeSync, openSync, rmSync, writeSync } from 'node:fs';
import { randomFillSync } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { connect } from 'node:net';
import { loadavg } from 'node:os';
import { CLOCK_TICKS, cpuTicks, median, roundOrder } from './lib/harness.ts';
import { recordResults, targetResult, type TargetResult } from './lib/results.ts';

const IMAGE = '/dev/shm/diskless-bench.img';
const IMAGE_BYTES = 512 * 1024 * 1024;
const TGT_PORT = 3291;
const DISKLESS_PORT = 3292;
const BASELINE_PORT = 3293;
const TGT_CONTROL = 9;
const IQN = 'iqn.2026-11.org.diskless.bench:disk';
const PAIRS = Number(process.env.BENCH_PAIRS ?? 3);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 5);
/** Runs only the workloads whose name contains this text (e.g. BENCH_ONLY='1 MiB sequential write'). */
const ONLY = process.env.BENCH_ONLY ?? '';
const BASELINE = process.env.BENCH_BASELINE ?? '';
const NODE_ARGS = (process.env.BENCH_DISKLESS_NODE_ARGS ?? '').split(' ').filter((a) => a !== '');

interface Peer {
  readonly name: 'tgtd' | 'diskless' | 'baseline';
  readonly url: string;
  readonly pid: () => number;
}

interface Sample {
  readonly mibps: number;
  readonly iops: number;
  readonly cpuUsPerIo: number;
}

function fillImage(): void {
  const fd = openSync(IMAGE, 'w');
  const chunk = Buffer.allocUnsafe(8 * 1024 * 1024);
  for (let written = 0; written < IMAGE_BYTES; written += chunk.length) {
    randomFillSync(chunk);
    writeSync(fd, chunk);
  }
  closeSync(fd);
}

async function waitPort(port: number): Promise<void> {
  for (let i = 0; i < 100; i++) {
    const ok = await new Promise<boolean>((resolve) => {
      const s = connect(port, '127.0.0.1', () => {
        s.destroy();
        resolve(true);
      });
      s.on('error', () => resolve(false));
    });
    if (ok) return;
    await sleep(100);
  }
  throw new Error(`nothing listens on port ${port}`);
}

function tgtadm(...args: string[]): void {
  execFileSync('tgtadm', ['-C', String(TGT_CONTROL), ...args], { stdio: 'inherit' });
}

async function startTgtd(): Promise<{ child: ChildProcess; stop: () => void }> {
  const child = spawn('tgtd', ['-f', '-C', String(TGT_CONTROL), '--iscsi', `portal=127.0.0.1:${TGT_PORT}`], { stdio: 'ignore' });
  await sleep(500);
  tgtadm('--lld', 'iscsi', '--op', 'new', '--mode', 'target', '--tid', '1', '-T', IQN);
  tgtadm('--lld', 'iscsi', '--op', 'new', '--mode', 'logicalunit', '--tid', '1', '--lun', '1', '-b', IMAGE);
  tgtadm('--lld', 'iscsi', '--op', 'bind', '--mode', 'target', '--tid', '1', '-I', 'ALL');
  await waitPort(TGT_PORT);
  return {
    child,
    stop: () => {
      // tgtd ignores SIGTERM while targets exist (../shared/e2e/README.md).
      try {
        tgtadm('--op', 'delete', '--force', '--mode', 'target', '--tid', '1');
        tgtadm('--op', 'delete', '--mode', 'system');
      } catch {
        child.kill('SIGKILL');
      }
    },
  };
}

async function startDiskless(root: string, port: number, nodeArgs: readonly string[]): Promise<ChildProcess> {
  const child = spawn(process.execPath, [...nodeArgs, `${root}/bin/diskless.js`, 'serve', '--disk', IMAGE, '--iqn', IQN, '--listen', '127.0.0.1', '--iscsi-port', String(port), '--http-port', '0', '--log-level', 'warn'], {
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  await waitPort(port);
  return child;
}

function runClient(command: string, args: string[]): Promise<{ out: string; seconds: number }> {
  return new Promise((resolve, reject) => {
    const start = process.hrtime.bigint();
    const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => {
      const seconds = Number(process.hrtime.bigint() - start) / 1e9;
      if (code !== 0) reject(new Error(`${command} exited ${code}: ${out.slice(-500)}`));
      else resolve({ out, seconds });
    });
  });
}

interface Workload {
  readonly name: string;
  /** The name for it, and the throughput target (ratio diskless/tgtd, at least). */
  readonly short: string;
  readonly unit: 'MiB/s' | 'IOPS';
  readonly minRatio: number;
  run(peer: Peer): Promise<{ mibps: number; iops: number; ios: number }>;
}

const perf = (blocks: number, random: boolean): Workload['run'] => async (peer) => {
  const args = ['-m', '32', '-b', String(blocks), '-t', String(SECONDS), ...(random ? ['-r'] : []), peer.url];
  const { out } = await runClient('iscsi-perf', args);
  const match = /iops average (\d+) \((\d+) MB\/s\)\s*$/m.exec(out.replace(/\r/g, '\n').trim()) ?? [...out.matchAll(/iops average (\d+) \((\d+) MB\/s\)/g)].at(-1);
  if (!match) throw new Error(`cannot read iscsi-perf output: ${out.slice(-300)}`);
  const iops = Number(match[1]);
  const mibps = (iops * blocks * 512) / 1048576;
  return { mibps, iops, ios: iops * SECONDS };
};

const qemuWrite = (size: number, count: number): Workload['run'] => async (peer) => {
  const { out, seconds } = await runClient('qemu-img', ['bench', '-w', '-d', '32', '-c', String(count), '-s', String(size), '-f', 'raw', '-t', 'none', peer.url]);
  const match = /Run completed in ([\d.]+) seconds/.exec(out);
  const runSeconds = match ? Number(match[1]) : seconds;
  return { mibps: (count * size) / 1048576 / runSeconds, iops: count / runSeconds, ios: count };
};

const WORKLOADS: Workload[] = [
  { name: '1 MiB sequential read, 32 in flight (iscsi-perf -m 32 -b 2048)', short: 'iSCSI 1 MiB sequential read', unit: 'MiB/s', minRatio: 1.2, run: perf(2048, false) },
  { name: '4 KiB random read, 32 in flight (iscsi-perf -m 32 -b 8 -r)', short: 'iSCSI 4 KiB random read', unit: 'IOPS', minRatio: 2.0, run: perf(8, true) },
  { name: '1 MiB sequential write, depth 32 (qemu-img bench -w)', short: 'iSCSI 1 MiB sequential write', unit: 'MiB/s', minRatio: 1.2, run: qemuWrite(1048576, 2000) },
  { name: '4 KiB sequential write, depth 32 (qemu-img bench -w)', short: 'iSCSI 4 KiB sequential write', unit: 'IOPS', minRatio: 1.2, run: qemuWrite(4096, 100000) },
];

async function measure(workload: Workload, peer: Peer): Promise<Sample> {
  const before = cpuTicks(peer.pid());
  const r = await workload.run(peer);
  const cpuSeconds = (cpuTicks(peer.pid()) - before) / CLOCK_TICKS;
  return { mibps: r.mibps, iops: r.iops, cpuUsPerIo: (cpuSeconds * 1e6) / Math.max(1, r.ios) };
}

async function main(): Promise<void> {
  process.stdout.write(`filling ${IMAGE} (${IMAGE_BYTES / 1048576} MiB of random data)\n`);
  fillImage();
  const tgt = await startTgtd();
  const diskless = await startDiskless('.', DISKLESS_PORT, NODE_ARGS);
  const baseline = BASELINE === '' ? null : await startDiskless(BASELINE, BASELINE_PORT, []);
  const peers: Peer[] = [
    { name: 'tgtd', url: `iscsi://127.0.0.1:${TGT_PORT}/${IQN}/1`, pid: () => tgt.child.pid ?? 0 },
    { name: 'diskless', url: `iscsi://127.0.0.1:${DISKLESS_PORT}/${IQN}/0`, pid: () => diskless.pid ?? 0 },
  ];
  if (baseline !== null) peers.push({ name: 'baseline', url: `iscsi://127.0.0.1:${BASELINE_PORT}/${IQN}/0`, pid: () => baseline.pid ?? 0 });
  const results: TargetResult[] = [];
  try {
    for (const workload of WORKLOADS.filter((w) => w.name.includes(ONLY))) {
      // Other work on the machine skews throughput (less so CPU per I/O): say how busy it was.
      const loadBefore = loadavg()[0] ?? 0;
      const samples: Record<string, Sample[]> = { tgtd: [], diskless: [], baseline: [] };
      for (let pair = 0; pair < PAIRS; pair++) {
        // Alternate which peer goes first, so warm-up and drift hit both alike.
        const order = roundOrder(peers, pair);
        for (const peer of order) samples[peer.name]?.push(await measure(workload, peer));
      }
      const m = (name: string, key: keyof Sample) => median((samples[name] ?? []).map((s) => s[key]));
      process.stdout.write(`\n${workload.name} (load average ${loadBefore.toFixed(1)} → ${(loadavg()[0] ?? 0).toFixed(1)})\n`);
      for (const { name } of peers) {
        process.stdout.write(`  ${name.padEnd(9)} ${m(name, 'mibps').toFixed(0).padStart(6)} MiB/s ${m(name, 'iops').toFixed(0).padStart(8)} IOPS ${m(name, 'cpuUsPerIo').toFixed(1).padStart(7)} µs CPU/IO\n`);
      }
      for (const other of peers.filter((p) => p.name !== 'diskless')) {
        process.stdout.write(
          `  ratio diskless/${other.name}: throughput ${(m('diskless', 'mibps') / m(other.name, 'mibps')).toFixed(2)}x, CPU per I/O ${(m('diskless', 'cpuUsPerIo') / m(other.name, 'cpuUsPerIo')).toFixed(2)}x\n`,
        );
      }
      const rounds = (name: string, key: keyof Sample): number[] => (samples[name] ?? []).map((s) => s[key]);
      const note = `load ${loadBefore.toFixed(1)}`;
      const speed: keyof Sample = workload.unit === 'IOPS' ? 'iops' : 'mibps';
      results.push(
        targetResult({ name: workload.short, peer: 'tgtd', unit: workload.unit, higherIsBetter: true, note }, rounds('diskless', speed), rounds('tgtd', speed), { min: workload.minRatio }),
        targetResult({ name: `${workload.short}: server CPU per I/O`, peer: 'tgtd', unit: 'µs', higherIsBetter: false, note }, rounds('diskless', 'cpuUsPerIo'), rounds('tgtd', 'cpuUsPerIo'), { max: 0.7 }),
      );
    }
    recordResults('iscsi', results);
  } finally {
    diskless.kill('SIGTERM');
    baseline?.kill('SIGTERM');
    tgt.stop();
    rmSync(IMAGE, { force: true });
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`bench failed: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
