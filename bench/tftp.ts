// npm run bench:tftp — diskless's TFTP server against tftpd-hpa and atftpd on loopback, with the
// same clients, rotating order, median of the rounds, and the ratios. All three serve the same
// folder of random files in RAM (/dev/shm) and stay up for the whole run; a sample is five
// downloads in a row for the single-transfer workloads (DOWNLOADS_PER_SAMPLE) and one run of
// the parallel one, timed by the wall clock. CPU is the machine's busy time around the run minus the
// bench and its clients: the server and the kernel's loopback work, whatever the process model
// (tftpd-hpa forks a process per transfer, whose time its parent's /proc entry never shows, and
// atftpd uses threads); run it on an otherwise idle machine. One download per sample is checked
// against the file's SHA-256.
//
// Workloads: a 50 MiB file with curl at blksize 1468 (Ethernet-sized) and 65464 (the largest,
// fits loopback's MTU); atftp at blksize 1468 with windowsize 16 (RFC 7440; tftpd-hpa does not
// implement it and answers lock-step, one block per ACK, as RFC 1350); 50 curl at once, each
// fetching a 5 MiB file at blksize 1468 (aggregate MiB/s).
//
// Needs curl and atftp (clients); tftpd-hpa (in.tftpd) and atftpd for the peers. The two
// Debian packages conflict, so one may be unpacked beside the other (apt-get download atftpd;
// dpkg-deb -x atftpd_*.deb DIR) and named with BENCH_ATFTPD or BENCH_IN_TFTPD; a missing peer
// is skipped. Environment: BENCH_PAIRS (rounds, default 3), BENCH_ONLY (workload name text).
import { execFileSync } from 'node:child_process';
import { createHash, randomFillSync } from 'node:crypto';
import { chmodSync, closeSync, createReadStream, mkdirSync, mkdtempSync, openSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { alternate, CLOCK_TICKS, cpuTicks, fail, findTool, formatTable, median, onCleanup, ratio, runClient, startServer, stopServer, systemBusyTicks, waitUntil, type Server } from './lib/harness.ts';
import { recordResults, targetResult, type TargetResult } from './lib/results.ts';

const PAIRS = Math.max(1, Number(process.env.BENCH_PAIRS ?? 3));
const ONLY = process.env.BENCH_ONLY ?? '';
const HOST = '127.0.0.1';
const PORTS = { diskless: 6970, 'tftpd-hpa': 6971, atftpd: 6972 } as const;
const BIG = { name: 'big.bin', bytes: 50 * 1024 * 1024 };
const SMALL = { name: 'small.bin', bytes: 5 * 1024 * 1024 };
const PARALLEL = 50;
const CLIENT_TIMEOUT_MS = 180_000;

type PeerName = keyof typeof PORTS;

interface Peer {
  readonly name: PeerName;
  readonly port: number;
  readonly server: Server;
}

interface Sample {
  readonly mibps: number;
  /** CPU milliseconds per MiB delivered, outside the clients (server and kernel). */
  readonly cpuMsPerMib: number;
}

interface Tools {
  readonly curl: string;
  readonly atftp: string | null;
}

interface Files {
  readonly dir: string;
  readonly out: string;
  readonly sha256: Readonly<Record<string, string>>;
}

interface Workload {
  readonly name: string;
  readonly note?: (peer: PeerName) => string | null;
  /** The issue's target for it: throughput at least `min` times the peer's. */
  readonly target?: { readonly peer: PeerName; readonly min: number; readonly name: string };
  /** Downloads; returns the bytes moved and the path of one downloaded copy to verify, of `file`. */
  run(peer: Peer, tools: Tools, files: Files, round: number): Promise<{ bytes: number; seconds: number; check: string; file: string }>;
}

function writeRandomFile(path: string, bytes: number): string {
  const hash = createHash('sha256');
  const fd = openSync(path, 'w');
  const chunk = Buffer.allocUnsafe(4 * 1024 * 1024);
  try {
    for (let written = 0; written < bytes; written += chunk.length) {
      const piece = chunk.subarray(0, Math.min(chunk.length, bytes - written));
      randomFillSync(piece);
      writeSync(fd, piece);
      hash.update(piece);
    }
  } finally {
    closeSync(fd);
  }
  chmodSync(path, 0o644); // tftpd-hpa and atftpd drop to nobody
  return hash.digest('hex');
}

function sha256File(path: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const hash = createHash('sha256');
    createReadStream(path)
      .on('data', (d) => hash.update(d))
      .on('error', reject)
      .on('end', () => resolve(hash.digest('hex')));
  });
}

function curlArgs(peer: Peer, file: string, blksize: number, out: string): string[] {
  return ['--silent', '--show-error', '--fail', '--max-time', String(CLIENT_TIMEOUT_MS / 1000), '--tftp-blksize', String(blksize), '-o', out, `tftp://${HOST}:${peer.port}/${file}`];
}

/**
 * One sample of a single-transfer workload is this many downloads in a row (the first kept and
 * checked, the rest to /dev/null). One 50 MiB download takes 80-120 ms here, and a sample that
 * short moved by ±20% from round to round with the same code (a scheduler decision, a client
 * start that took longer); a sequence evens that out for every server alike.
 */
const DOWNLOADS_PER_SAMPLE = 5;

/** Runs `download(out)` DOWNLOADS_PER_SAMPLE times, the first into `keep`; the seconds of all. */
async function downloads(keep: string, download: (out: string) => Promise<{ seconds: number }>): Promise<number> {
  let seconds = 0;
  for (let i = 0; i < DOWNLOADS_PER_SAMPLE; i++) seconds += (await download(i === 0 ? keep : '/dev/null')).seconds;
  return seconds;
}

const curlSingle = (blksize: number): Workload['run'] => async (peer, tools, files, round) => {
  const out = join(files.out, `${peer.name}-${round}-${blksize}.bin`);
  const seconds = await downloads(out, (to) => runClient(tools.curl, curlArgs(peer, BIG.name, blksize, to), { timeoutMs: CLIENT_TIMEOUT_MS }));
  return { bytes: BIG.bytes * DOWNLOADS_PER_SAMPLE, seconds, check: out, file: BIG.name };
};

const atftpWindowed: Workload['run'] = async (peer, tools, files, round) => {
  const atftp = tools.atftp;
  if (atftp === null) throw new Error('atftp is not installed (apt-get install atftp)');
  const out = join(files.out, `${peer.name}-${round}-atftp.bin`);
  const seconds = await downloads(out, (to) =>
    runClient(atftp, ['--option', 'blksize 1468', '--option', 'windowsize 16', '-g', '-r', BIG.name, '-l', to, HOST, String(peer.port)], { timeoutMs: CLIENT_TIMEOUT_MS }),
  );
  // atftp exits 0 on some failures; the checksum below catches a short file.
  return { bytes: BIG.bytes * DOWNLOADS_PER_SAMPLE, seconds, check: out, file: BIG.name };
};

const curlParallel: Workload['run'] = async (peer, tools, files, round) => {
  const check = join(files.out, `${peer.name}-${round}-parallel.bin`);
  const start = process.hrtime.bigint();
  await Promise.all(
    Array.from({ length: PARALLEL }, (_, i) => runClient(tools.curl, curlArgs(peer, SMALL.name, 1468, i === 0 ? check : '/dev/null'), { timeoutMs: CLIENT_TIMEOUT_MS })),
  );
  return { bytes: SMALL.bytes * PARALLEL, seconds: Number(process.hrtime.bigint() - start) / 1e9, check, file: SMALL.name };
};

const WORKLOADS: Workload[] = [
  { name: 'curl, 50 MiB, blksize 1468', run: curlSingle(1468) },
  { name: 'curl, 50 MiB, blksize 65464', target: { peer: 'tftpd-hpa', min: 1.0, name: 'TFTP 50 MiB, curl blksize 65464' }, run: curlSingle(65464) },
  {
    name: 'atftp, 50 MiB, blksize 1468, windowsize 16',
    note: (peer) => (peer === 'tftpd-hpa' ? 'no windowsize (RFC 7440): lock-step' : null),
    target: { peer: 'atftpd', min: 1.0, name: 'TFTP 50 MiB, atftp blksize 1468 windowsize 16' },
    run: atftpWindowed,
  },
  { name: `${PARALLEL} x curl at once, 5 MiB each, blksize 1468 (aggregate)`, run: curlParallel },
];

async function measure(workload: Workload, peer: Peer, tools: Tools, files: Files, round: number): Promise<Sample> {
  const cpuOutsideClients = (): number => systemBusyTicks() - cpuTicks(process.pid, { children: true });
  const before = cpuOutsideClients();
  let result;
  try {
    result = await workload.run(peer, tools, files, round);
  } catch (err) {
    process.stdout.write(`  round ${round + 1} ${peer.name.padEnd(9)} FAILED: ${err instanceof Error ? err.message.slice(0, 300) : String(err)}\n`);
    return { mibps: Number.NaN, cpuMsPerMib: Number.NaN };
  }
  const cpuMs = ((cpuOutsideClients() - before) / CLOCK_TICKS) * 1000;
  const sum = await sha256File(result.check).catch(() => 'unreadable');
  rmSync(result.check, { force: true });
  const mib = result.bytes / 1048576;
  const sample = { mibps: mib / result.seconds, cpuMsPerMib: cpuMs / mib };
  const ok = sum === files.sha256[result.file];
  process.stdout.write(`  round ${round + 1} ${peer.name.padEnd(9)} ${sample.mibps.toFixed(1).padStart(7)} MiB/s ${sample.cpuMsPerMib.toFixed(2).padStart(6)} ms CPU/MiB (server+kernel)  sha256 ${ok ? 'ok' : 'MISMATCH'}\n`);
  if (!ok) return { mibps: Number.NaN, cpuMsPerMib: Number.NaN };
  return sample;
}

function udpListening(port: number): boolean {
  try {
    return execFileSync('ss', ['-Hlun', `sport = :${port}`], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim() !== '';
  } catch {
    return false;
  }
}

async function startPeers(dir: string, base: string): Promise<Peer[]> {
  const peers: Peer[] = [];
  const launch = async (name: PeerName, command: string, args: string[]): Promise<void> => {
    const port = PORTS[name];
    if (udpListening(port)) throw new Error(`UDP port ${port} is already in use: stop whatever holds it (ss -lunp 'sport = :${port}')`);
    const server = startServer(name, command, args);
    peers.push({ name, port, server });
    await waitUntil(`${name} on UDP port ${port}`, () => {
      if (server.exited()) throw new Error(`${name} exited at start-up: ${server.output().slice(-1500)}`);
      return udpListening(port);
    });
  };
  try {
    // diskless through its own CLI; dhcp is off, so TFTP is switched on in the config file.
    const config = join(base, 'diskless.json');
    writeFileSync(config, JSON.stringify({ dataDir: join(base, 'data'), listen: HOST, logLevel: 'warn', iscsi: { port: 0 }, http: { port: 0 }, tftp: { enabled: true, port: PORTS.diskless, root: dir } }));
    await launch('diskless', process.execPath, ['bin/diskless.js', 'serve', '--config', config]);
    const hpa = findTool('in.tftpd', 'tftpd-hpa', 'BENCH_IN_TFTPD');
    // -L: foreground; -s: chroot into the folder; -u nobody: the package's "tftp" user may not exist.
    if (hpa !== null) await launch('tftpd-hpa', hpa, ['-L', '-u', 'nobody', '-a', `${HOST}:${PORTS['tftpd-hpa']}`, '-s', dir]);
    // bench/setup-peers.sh unpacks atftpd beside tftpd-hpa (the packages conflict).
    const atftpd = findTool('atftpd', 'atftpd', 'BENCH_ATFTPD', 'bench/.peers/atftpd/usr/sbin/atftpd');
    if (atftpd !== null) {
      await launch('atftpd', atftpd, ['--daemon', '--no-fork', '--port', String(PORTS.atftpd), '--bind-address', HOST, '--logfile', '/dev/null', '--maxthread', String(PARALLEL * 2), dir]);
    }
  } catch (err) {
    await Promise.all(peers.map((p) => stopServer(p.server)));
    throw err;
  }
  return peers;
}

async function main(): Promise<void> {
  const curl = findTool('curl', 'curl');
  if (curl === null) throw new Error('curl is the main client: nothing to measure without it');
  const tools: Tools = { curl, atftp: findTool('atftp', 'atftp') };
  if (findTool('ss', 'iproute2') === null) throw new Error('ss (iproute2) is needed to see when servers listen');

  const base = mkdtempSync('/dev/shm/diskless-bench-tftp-');
  const removeBase = onCleanup(() => rmSync(base, { recursive: true, force: true }));
  const dir = join(base, 'root');
  const out = join(base, 'out');
  mkdirSync(dir);
  mkdirSync(out);
  chmodSync(base, 0o755);
  chmodSync(dir, 0o755);
  process.stdout.write(`writing ${BIG.bytes / 1048576} MiB and ${SMALL.bytes / 1048576} MiB random files to ${dir}\n`);
  const files: Files = { dir, out, sha256: { [BIG.name]: writeRandomFile(join(dir, BIG.name), BIG.bytes), [SMALL.name]: writeRandomFile(join(dir, SMALL.name), SMALL.bytes) } };

  let peers: Peer[] = [];
  try {
    peers = await startPeers(dir, base);
    const reports: string[] = [];
    const results: TargetResult[] = [];
    for (const workload of WORKLOADS.filter((w) => w.name.includes(ONLY))) {
      if (workload.run === atftpWindowed && tools.atftp === null) continue;
      process.stdout.write(`\n${workload.name}\n`);
      const samples = await alternate(peers, PAIRS, (peer, round) => {
        if (peer.server.exited()) throw new Error(`${peer.name} has exited: ${peer.server.output().slice(-1500)}`);
        return measure(workload, peer, tools, files, round);
      });
      reports.push(report(workload, peers, samples));
      const target = workload.target;
      if (target !== undefined && samples.has('diskless') && samples.has(target.peer)) {
        const rounds = (name: string): number[] => (samples.get(name) ?? []).map((s) => s.mibps);
        results.push(targetResult({ name: target.name, peer: target.peer, unit: 'MiB/s', higherIsBetter: true }, rounds('diskless'), rounds(target.peer), { min: target.min }));
      }
    }
    process.stdout.write(`\nTFTP on loopback, median of ${PAIRS} runs per server, order rotating\n${reports.join('\n')}`);
    recordResults('tftp', results);
  } finally {
    await Promise.all(peers.map((p) => stopServer(p.server)));
    removeBase();
  }
}

function report(workload: Workload, peers: readonly Peer[], samples: Map<string, Sample[]>): string {
  const m = (name: string, key: keyof Sample): number => {
    const values = (samples.get(name) ?? []).map((s) => s[key]).filter((v) => Number.isFinite(v));
    return values.length === 0 ? Number.NaN : median(values);
  };
  const failed = (name: string): number => (samples.get(name) ?? []).filter((s) => !Number.isFinite(s.mibps)).length;
  const rows = peers.map((p) => [
    p.name,
    m(p.name, 'mibps').toFixed(1),
    m(p.name, 'cpuMsPerMib').toFixed(2),
    String(failed(p.name)),
    workload.note?.(p.name) ?? '',
  ]);
  let text = `${workload.name}\n${formatTable(['server', 'MiB/s', 'CPU ms/MiB (server+kernel)', 'failed', 'note'], rows)}`;
  const others = peers.filter((p) => p.name !== 'diskless');
  if (others.length > 0) {
    text += `${others.map((o) => `ratio diskless/${o.name}: ${ratio(m('diskless', 'mibps'), m(o.name, 'mibps'))} throughput, ${ratio(m('diskless', 'cpuMsPerMib'), m(o.name, 'cpuMsPerMib'))} CPU per MiB`).join('\n')}\n`;
  }
  return text;
}

main().catch(fail);
