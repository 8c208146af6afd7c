// npm run bench:dhcp — diskless's DHCP server (full mode, leases journalled with batched
// fdatasync) against dnsmasq and kea-dhcp4 (memfile, persist on), driven by the same perfdhcp
// load: rotating order, median of the rounds, ratios. Each run starts its server afresh with an
// empty lease file (only one DHCP server may listen on the link at a time), lets perfdhcp run
// DORA exchanges at a fixed offered rate for a fixed time, and stops it.
//
// Two namespaces the bench creates and deletes: the servers in one, perfdhcp in the other, a
// veth pair between them (10.252.0.1/16 and 10.252.0.2/16; the pool 10.252.1.0-10.252.200.255
// only ever appears inside DHCP packets on that link). Needs root, iproute2 and kea-admin
// (perfdhcp); dnsmasq-base and kea-dhcp4-server for the peers (a missing one is skipped).
//
// Two workloads: 10000 simulated clients (most exchanges hand out a first lease: allocation from
// a pool that fills up during the run) and 500 clients (after the first few hundred
// milliseconds every client holds a lease: the per-packet path and the lease writes).
// perfdhcp fills in giaddr, so servers answer it as a relay, by unicast to port 67.
//
// What "leases persisted" means differs, and the bench cannot make it equal: diskless appends each
// binding to its journal and fdatasyncs (one sync per burst) before it sends the ACK; dnsmasq
// rewrites its whole lease file and fsyncs it after each burst of changes; kea's memfile backend
// appends a CSV line with write() and never syncs (strace shows write and no fsync/fdatasync), so
// its leases can be lost on power failure. Kea does the least work per lease.
//
// The client is part of the measurement. Left to the scheduler, perfdhcp (multi-threaded) and the
// server share both cores: at 10,000/s offered kea completed 99-100%, so the ratio could only
// say "parity", and offering more took CPU from the servers. So each gets a core of its own
// (taskset): the server CPU 1 (all its threads), perfdhcp CPU 0 in its single-thread mode
// (-g single: its receiver thread would otherwise compete with its sender on that core; it
// spins, so it shows about 98% of its core whatever the load). One core of perfdhcp offers about
// 30,000 DORA/s, and with a whole core each both servers complete nearly all of that (kea
// 28,000 at 99% of its core, diskless 29,400 at 77%): the client, not the servers, was measured.
// So each server also gets the same CPU budget, half a core (a cgroup CPU quota,
// bench/lib/cpu-quota.ts), and is offered more than it can do: completed exchanges per second
// are then each server's own capacity on that budget, as on a smaller or busier machine, and
// overload is what a room of machines powered on at once makes. BENCH_DHCP_CPU_SHARE=none
// measures on the whole core as before (2026-12-02 and earlier runs in docs/PERFORMANCE.md).
//
// Environment: BENCH_PAIRS (rounds, default 3), BENCH_SECONDS (per run, default 10),
// BENCH_DHCP_RATE (DORA exchanges per second offered, default 30000: more than one core of
// perfdhcp sustains), BENCH_DHCP_CPU_SHARE (each server's budget in cores, default 0.5;
// "none" for no budget, the whole core), BENCH_DHCP_PIN=0 (no pinning: perfdhcp multi-threaded, everything on
// both cores, as this bench ran before 2026-12-02; with it, a rate of 10000), BENCH_DHCP_CLIENTS (one
// workload with this many clients instead of the two), BENCH_ONLY (peer names, comma-separated),
// BENCH_DISKLESS_NODE_ARGS (extra node flags for the diskless server, space-separated, e.g.
// "--cpu-prof --cpu-prof-dir=/tmp/prof" to profile it under load), BENCH_DHCP_RAW=1 (print
// perfdhcp's own report after each run: delays, drops, rejected leases).
import { mkdtempSync, mkdirSync, readFileSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { alternate, CLOCK_TICKS, cpuTicks, fail, findTool, formatTable, median, onCleanup, ratio, runClient, startServer, stopServer, systemBusyTicks, waitUntil, type Server } from './lib/harness.ts';
import { pairedRatio, recordResults, targetResult, type TargetResult } from './lib/results.ts';
import { createCpuQuota, type CpuQuota } from './lib/cpu-quota.ts';
import { createNamespacePair, udpListening, udpReceiveBufferDrops, type NamespacePair } from './lib/netns.ts';

const PAIRS = Math.max(1, Number(process.env.BENCH_PAIRS ?? 3));
const SECONDS = Math.min(120, Math.max(1, Number(process.env.BENCH_SECONDS ?? 10)));
/** Server on CPU 1, perfdhcp on CPU 0 (see the top); needs two CPUs and taskset. */
const PIN = process.env.BENCH_DHCP_PIN !== '0' && cpus().length >= 2;
const RATE = Math.max(1, Number(process.env.BENCH_DHCP_RATE ?? (PIN ? 30000 : 10000)));
const WORKLOADS: readonly Workload[] =
  process.env.BENCH_DHCP_CLIENTS !== undefined
    ? [{ name: `${process.env.BENCH_DHCP_CLIENTS} clients`, clients: Math.max(1, Number(process.env.BENCH_DHCP_CLIENTS)) }]
    : [
        { name: '10000 clients (mostly first leases)', clients: 10000 },
        { name: '500 clients (mostly repeat leases)', clients: 500 },
      ];
const ONLY = (process.env.BENCH_ONLY ?? '').split(',').filter((s) => s !== '');
const DISKLESS_NODE_ARGS = (process.env.BENCH_DISKLESS_NODE_ARGS ?? '').split(' ').filter((s) => s !== '');
const onCpu = (cpu: number, command: readonly string[]): string[] => (PIN ? ['taskset', '-c', String(cpu), ...command] : [...command]);
/** Each server's CPU budget in cores (see the top), or none; pinned runs only. */
const CPU_SHARE = !PIN || process.env.BENCH_DHCP_CPU_SHARE === 'none' ? undefined : Number(process.env.BENCH_DHCP_CPU_SHARE ?? 0.5);
/** What a server may use, percent of one core. */
const budgetPct = (): number => (quota?.share ?? 1) * 100;
let quota: CpuQuota | undefined;

const NET = {
  serverNs: 'dlbench-dhcp-srv',
  clientNs: 'dlbench-dhcp-cli',
  serverIf: 'dlb-dhcp-s',
  clientIf: 'dlb-dhcp-c',
  serverAddress: '10.252.0.1/16',
  clientAddress: '10.252.0.2/16',
} as const;
const SERVER_IP = '10.252.0.1';
const POOL = { first: '10.252.1.0', last: '10.252.200.255' } as const;
const LEASE_SECONDS = 3600;
/**
 * net.core.rmem_default during the bench: the receive buffer of every socket that does not ask
 * for its own, perfdhcp's included. perfdhcp stands in for thousands of machines on one socket;
 * with the kernel's default (about 200 KiB, a hundred replies) a burst of replies that thousands of
 * machines would each take one of overflowed it (diskless at 0.4 of a core: 55,000 replies dropped
 * there in 8 s, kea 2, because kea sends each reply as it makes it and diskless a turn's or a
 * journal sync's replies together). The setting is the machine's, so the same for both servers,
 * and it is put back afterwards. It is not per namespace (a namespace may not write it).
 */
const CLIENT_RECEIVE_BUFFER_BYTES = 4 * 1024 * 1024;
const RMEM_DEFAULT = '/proc/sys/net/core/rmem_default';

/** A server that completes this share of the offered exchanges is held back by the client, not by itself. */
const CLIENT_LIMITED_SHARE = 0.95;
/** A pinned server using this share (percent) of its CPU budget is at its limit. */
const SATURATED_PCT = 95;

interface Workload {
  readonly name: string;
  /** perfdhcp -R: distinct MAC addresses. */
  readonly clients: number;
}

interface Peer {
  readonly name: 'diskless' | 'kea-dhcp4' | 'dnsmasq';
  /** Starts the server with an empty lease file in `dir`. */
  start(net: NamespacePair, dir: string): Server;
  /** The lease file (to report how many lines the run left). */
  leaseFile(dir: string): string;
}

interface Sample {
  /** Completed DORA exchanges per second (REQUEST-ACK pairs received over the run). */
  readonly exchangesPerS: number;
  /** perfdhcp's own "4-way exchanges/second". */
  readonly reportedRate: number;
  readonly discoverSent: number;
  readonly dropsOffer: number;
  readonly dropsAck: number;
  /** Datagrams the kernel dropped at the server's full UDP receive buffers (kea's raw packet socket is not counted here). */
  readonly kernelDrops: number;
  /** Replies the kernel dropped at perfdhcp's full receive buffer. */
  readonly clientKernelDrops: number;
  readonly avgAckDelayMs: number;
  /** Server CPU per 1000 completed exchanges, ms. */
  readonly cpuMsPer1000: number;
  /** perfdhcp's own CPU over the run, percent of one core (both threads): near 100 per thread, the client is the limit. */
  readonly clientCpuPct: number;
  /** The server's own CPU over the run, percent of one core: near 100, the server is the limit. */
  readonly serverCpuPct: number;
  /** The whole machine's busy CPU over the run, percent of one core (200 is both cores of this machine). */
  readonly machineCpuPct: number;
}

function disklessPeer(): Peer {
  return {
    name: 'diskless',
    start(net, dir) {
      const image = join(dir, 'disk.img');
      // A 1 MiB sparse image: quick mode needs a disk, the bench never reads it.
      writeFileSync(image, '');
      truncateSync(image, 1024 * 1024);
      const [cmd, args] = net.exec(net.serverNs, onCpu(1, [
        process.execPath, ...DISKLESS_NODE_ARGS, 'bin/diskless.js', 'serve',
        '--disk', image,
        '--dhcp', 'full',
        '--interface', net.serverIf,
        '--pool', `${POOL.first}-${POOL.last}`,
        '--data-dir', join(dir, 'data'),
        '--listen', SERVER_IP,
        '--iscsi-port', '0', '--http-port', '0', '--tftp-port', '0',
        '--log-level', 'warn',
      ]));
      return startServer('diskless', cmd, args);
    },
    leaseFile: (dir) => join(dir, 'data', 'dhcp', 'leases.jsonl'),
  };
}

function dnsmasqPeer(binary: string): Peer {
  return {
    name: 'dnsmasq',
    start(net, dir) {
      const conf = join(dir, 'dnsmasq.conf');
      writeFileSync(
        conf,
        [
          'port=0', // no DNS
          `interface=${net.serverIf}`,
          'bind-interfaces',
          `dhcp-range=${POOL.first},${POOL.last},255.255.0.0,${LEASE_SECONDS}`,
          `dhcp-leasefile=${join(dir, 'dnsmasq.leases')}`,
          'dhcp-lease-max=100000', // the default, 1000, would refuse most of perfdhcp's clients
          'dhcp-authoritative',
          'no-ping',
          'quiet-dhcp', // no syslog line per packet (diskless runs at warn level)
          'pid-file=',
          'log-facility=-',
          'user=root', // the lease file lives in the bench's own folder
          '',
        ].join('\n'),
      );
      const [cmd, args] = net.exec(net.serverNs, onCpu(1, [binary, '--keep-in-foreground', `--conf-file=${conf}`]));
      return startServer('dnsmasq', cmd, args);
    },
    leaseFile: (dir) => join(dir, 'dnsmasq.leases'),
  };
}

function keaPeer(binary: string): Peer {
  return {
    name: 'kea-dhcp4',
    start(net, dir) {
      const conf = join(dir, 'kea-dhcp4.json');
      const config = {
        Dhcp4: {
          'interfaces-config': { interfaces: [net.serverIf], 'dhcp-socket-type': 'raw' },
          'lease-database': { type: 'memfile', persist: true, name: join(dir, 'kea-leases4.csv'), 'lfc-interval': 0 },
          'valid-lifetime': LEASE_SECONDS,
          authoritative: true,
          subnet4: [{ id: 1, subnet: '10.252.0.0/16', pools: [{ pool: `${POOL.first} - ${POOL.last}` }] }],
          loggers: [{ name: 'kea-dhcp4', output_options: [{ output: 'stdout' }], severity: 'WARN' }],
        },
      };
      writeFileSync(conf, JSON.stringify(config, null, 2));
      const [cmd, args] = net.exec(net.serverNs, onCpu(1, [binary, '-c', conf]));
      // Kea keeps its pid and lock files in /run/kea unless told otherwise.
      return startServer('kea-dhcp4', cmd, args, { ...process.env, KEA_PIDFILE_DIR: dir, KEA_LOCKFILE_DIR: dir });
    },
    leaseFile: (dir) => join(dir, 'kea-leases4.csv'),
  };
}

function parsePerfdhcp(out: string): Omit<Sample, 'cpuMsPer1000' | 'clientCpuPct' | 'serverCpuPct' | 'machineCpuPct' | 'kernelDrops' | 'clientKernelDrops'> {
  const rate = /Rate:\s*([\d.]+)\s+4-way exchanges\/second/.exec(out);
  const section = (name: string): Record<string, number> => {
    const header = `***Statistics for: ${name}***`;
    const start = out.indexOf(header);
    if (start < 0) throw new Error(`no ${name} statistics in perfdhcp output: ${out.slice(-800)}`);
    const end = out.indexOf('***', start + header.length);
    const body = out.slice(start, end < 0 ? undefined : end);
    const fields: Record<string, number> = {};
    for (const m of body.matchAll(/^([a-z ]+):\s*([\d.]+)/gm)) fields[m[1] ?? ''] = Number(m[2]);
    return fields;
  };
  const offer = section('DISCOVER-OFFER');
  const ack = section('REQUEST-ACK');
  return {
    exchangesPerS: (ack['received packets'] ?? 0) / SECONDS,
    reportedRate: rate ? Number(rate[1]) : 0,
    discoverSent: offer['sent packets'] ?? 0,
    dropsOffer: offer.drops ?? 0,
    dropsAck: ack.drops ?? 0,
    avgAckDelayMs: ack['avg delay'] ?? 0,
  };
}

async function measure(workload: Workload, peer: Peer, net: NamespacePair, perfdhcp: string, base: string, round: number): Promise<Sample> {
  const dir = join(base, `${peer.name}-${workload.clients}-${round}`);
  mkdirSync(dir, { recursive: true });
  const server = peer.start(net, dir);
  try {
    if (quota !== undefined && server.child.pid !== undefined) quota.add(server.child.pid);
    await waitUntil(`${peer.name} on UDP port 67`, () => {
      if (server.exited()) throw new Error(`${peer.name} exited at start-up: ${server.output().slice(-1500)}`);
      return udpListening(net.serverNs, 67);
    });
    const pid = server.child.pid ?? 0;
    const before = cpuTicks(pid);
    // perfdhcp is this process's only child to end during the run: its CPU shows in cutime+cstime.
    const clientTicks = (): number => cpuTicks(process.pid, { children: true }) - cpuTicks(process.pid);
    const clientBefore = clientTicks();
    const machineBefore = systemBusyTicks();
    const kernelDropsBefore = udpReceiveBufferDrops(net.serverNs);
    const clientDropsBefore = udpReceiveBufferDrops(net.clientNs);
    const [cmd, args] = net.exec(net.clientNs, onCpu(0, [perfdhcp, ...(PIN ? ['-g', 'single'] : []), '-4', '-l', net.clientIf, '-r', String(RATE), '-p', String(SECONDS), '-R', String(workload.clients)]));
    const run = await runClient(cmd, args, { timeoutMs: (SECONDS + 30) * 1000, allowFailure: true });
    const cpuMs = ((cpuTicks(pid) - before) / CLOCK_TICKS) * 1000;
    const clientCpuPct = ((clientTicks() - clientBefore) / CLOCK_TICKS / run.seconds) * 100;
    const machineCpuPct = ((systemBusyTicks() - machineBefore) / CLOCK_TICKS / run.seconds) * 100;
    const kernelDrops = udpReceiveBufferDrops(net.serverNs) - kernelDropsBefore;
    const clientKernelDrops = udpReceiveBufferDrops(net.clientNs) - clientDropsBefore;
    if (server.exited()) throw new Error(`${peer.name} died during the run: ${server.output().slice(-1500)}`);
    if (process.env.BENCH_DHCP_RAW === '1') process.stdout.write(`${run.out.trim()}\n`);
    const parsed = parsePerfdhcp(run.out);
    const completed = parsed.exchangesPerS * SECONDS;
    const serverCpuPct = (cpuMs / 1000 / run.seconds) * 100;
    const sample: Sample = { ...parsed, cpuMsPer1000: completed > 0 ? (cpuMs * 1000) / completed : Number.NaN, clientCpuPct, serverCpuPct, machineCpuPct, kernelDrops, clientKernelDrops };
    process.stdout.write(
      `  round ${round + 1} ${peer.name.padEnd(9)} ${sample.exchangesPerS.toFixed(0).padStart(6)} DORA/s  drops ${sample.dropsOffer} offer + ${sample.dropsAck} ack of ${sample.discoverSent} (kernel: server ${sample.kernelDrops}, perfdhcp ${sample.clientKernelDrops})  ${sample.cpuMsPer1000.toFixed(0)} ms CPU/1000 (server ${sample.serverCpuPct.toFixed(0)}% CPU)  perfdhcp ${sample.clientCpuPct.toFixed(0)}% CPU, machine ${sample.machineCpuPct.toFixed(0)}%\n`,
    );
    return sample;
  } finally {
    await stopServer(server);
  }
}

async function main(): Promise<void> {
  if (process.getuid?.() !== 0) throw new Error('bench:dhcp needs root (it creates network namespaces)');
  const perfdhcp = findTool('perfdhcp', 'kea-admin', 'BENCH_PERFDHCP');
  if (perfdhcp === null) throw new Error('perfdhcp is the load generator: nothing to measure without it');
  if (findTool('ip', 'iproute2') === null) throw new Error('iproute2 is needed for the namespaces');
  if (PIN && findTool('taskset', 'util-linux') === null) throw new Error('taskset (util-linux) gives the server and perfdhcp a core each; BENCH_DHCP_PIN=0 runs them unpinned');
  const peers: Peer[] = [disklessPeer()];
  const kea = findTool('kea-dhcp4', 'kea-dhcp4-server', 'BENCH_KEA_DHCP4');
  if (kea !== null) peers.push(keaPeer(kea));
  const dnsmasq = findTool('dnsmasq', 'dnsmasq-base', 'BENCH_DNSMASQ');
  if (dnsmasq !== null) peers.push(dnsmasqPeer(dnsmasq));
  const selected = peers.filter((p) => ONLY.length === 0 || ONLY.includes(p.name));

  let removeQuota = (): void => {};
  if (CPU_SHARE !== undefined) {
    try {
      const q = createCpuQuota('dhcp', CPU_SHARE);
      quota = q;
      removeQuota = onCleanup(() => q.remove());
    } catch (err) {
      // Measured anyway, on the whole core; the results' names say so (no "core each").
      process.stdout.write(`no CPU budget for the servers (${err instanceof Error ? err.message : String(err)}): each gets its whole core, and perfdhcp's rate may be the limit\n`);
    }
  }
  // Lease files on the real disk (not tmpfs), so that the servers' syncs cost what they cost.
  const base = mkdtempSync(join(tmpdir(), 'diskless-bench-dhcp-'));
  const removeBase = onCleanup(() => rmSync(base, { recursive: true, force: true }));
  const rmemBefore = readFileSync(RMEM_DEFAULT, 'utf8').trim();
  const restoreRmem = onCleanup(() => writeFileSync(RMEM_DEFAULT, rmemBefore));
  writeFileSync(RMEM_DEFAULT, String(CLIENT_RECEIVE_BUFFER_BYTES));
  const net = createNamespacePair(NET);
  process.stdout.write(`perfdhcp -r ${RATE} -p ${SECONDS}${PIN ? ` -g single on CPU 0, servers on CPU 1${quota !== undefined ? ` with ${quota.share} of it each` : ''}` : ', unpinned'}; ${PAIRS} rounds, order rotating; lease files under ${base}\n`);
  try {
    const reports: string[] = [];
    const results: TargetResult[] = [];
    for (const workload of WORKLOADS) {
      process.stdout.write(`\n${workload.name}: perfdhcp -R ${workload.clients}\n`);
      const samples = await alternate(selected, PAIRS, (peer, round) => measure(workload, peer, net, perfdhcp, base, round));
      reports.push(report(workload, selected, samples));
      const rounds = (name: string, key: keyof Sample): number[] => (samples.get(name) ?? []).map((s) => s[key]);
      if (samples.has('diskless') && samples.has('kea-dhcp4')) {
        const keaShare = median(rounds('kea-dhcp4', 'exchangesPerS')) / RATE;
        const cpu = pairedRatio(rounds('diskless', 'cpuMsPer1000'), rounds('kea-dhcp4', 'cpuMsPer1000'));
        const cores = PIN ? `; server CPU ${median(rounds('diskless', 'serverCpuPct')).toFixed(0)}% vs kea ${median(rounds('kea-dhcp4', 'serverCpuPct')).toFixed(0)}% of a core (budget ${budgetPct().toFixed(0)}%)` : '';
        const note = `CPU/exchange ${cpu.toFixed(2)}x kea${cores}${keaShare >= CLIENT_LIMITED_SHARE ? `; kea did ${(keaShare * 100).toFixed(0)}% of perfdhcp's offered ${RATE}/s` : ''}`;
        results.push(targetResult({ name: `DHCP DORA/s, ${workload.name}${quota !== undefined ? `, ${quota.share} core each` : ''}`, peer: 'kea-dhcp4', unit: '/s', higherIsBetter: true, note }, rounds('diskless', 'exchangesPerS'), rounds('kea-dhcp4', 'exchangesPerS'), { min: 1.5 }));
      }
    }
    process.stdout.write(`\n${reports.join('\n')}`);
    recordResults('dhcp', results);
  } finally {
    net.destroy();
    removeBase();
    restoreRmem();
    removeQuota();
  }
}

function report(workload: Workload, peers: readonly Peer[], samples: Map<string, Sample[]>): string {
  const m = (name: string, key: keyof Sample): number => median((samples.get(name) ?? []).map((s) => s[key]));
  let text = `DHCP, ${workload.name}: perfdhcp DORA at ${RATE}/s offered, -R ${workload.clients}, ${SECONDS} s per run, median of ${PAIRS} runs\n`;
  const rows = peers.map((p) => [
    p.name,
    m(p.name, 'exchangesPerS').toFixed(0),
    m(p.name, 'reportedRate').toFixed(0),
    m(p.name, 'discoverSent').toFixed(0),
    m(p.name, 'dropsOffer').toFixed(0),
    m(p.name, 'dropsAck').toFixed(0),
    `${m(p.name, 'kernelDrops').toFixed(0)} / ${m(p.name, 'clientKernelDrops').toFixed(0)}`,
    m(p.name, 'avgAckDelayMs').toFixed(1),
    m(p.name, 'cpuMsPer1000').toFixed(0),
    m(p.name, 'serverCpuPct').toFixed(0),
    m(p.name, 'clientCpuPct').toFixed(0),
    m(p.name, 'machineCpuPct').toFixed(0),
  ]);
  text += formatTable(['server', 'DORA/s', 'perfdhcp rate', 'DISCOVERs', 'offer drops', 'ack drops', 'full-buffer drops server / perfdhcp', 'ack delay ms', 'server CPU ms/1000 DORA', 'server CPU %', 'perfdhcp CPU %', 'machine CPU %'], rows);
  for (const p of peers) {
    const share = m(p.name, 'exchangesPerS') / RATE;
    if (share >= CLIENT_LIMITED_SHARE) {
      text += `${p.name} completed ${(share * 100).toFixed(0)}% of the offered rate: perfdhcp's rate, not ${p.name}, is the limit (its capacity is higher; a ratio against it understates the other's lead or overstates its own)\n`;
    }
    const serverPct = m(p.name, 'serverCpuPct');
    if (PIN && serverPct >= (SATURATED_PCT / 100) * budgetPct()) text += `${p.name} used ${serverPct.toFixed(0)}% of a core, its whole budget of ${budgetPct().toFixed(0)}%: it was at its own limit\n`;
  }
  if (!peers.some((p) => p.name === 'diskless')) return text;
  for (const other of peers.filter((p) => p.name !== 'diskless')) {
    text += `ratio diskless/${other.name}: DORA/s ${ratio(m('diskless', 'exchangesPerS'), m(other.name, 'exchangesPerS'))}, CPU per exchange ${ratio(m('diskless', 'cpuMsPer1000'), m(other.name, 'cpuMsPer1000'))}\n`;
  }
  return text;
}

main().catch(fail);
