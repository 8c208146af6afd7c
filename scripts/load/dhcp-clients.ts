// Load: 1000 DHCP clients at once against the real server (full mode, leases journalled), in
// network namespaces this script creates and deletes (dl-load-srv, dl-load-cli; 10.254.0.0/16
// exists only on their veth pair). Two phases:
//   1. perfdhcp -R 1000 (1000 distinct MACs) at --rate exchanges/s for --seconds: rate, drops,
//      delays as perfdhcp reports them (min/avg/max/std; it has no percentiles);
//   2. a burst: 1000 clients send their DISCOVER in the same instant (a relay agent on
//      10.254.0.2:67, as perfdhcp does), each REQUESTs its offer; DISCOVER→ACK latency p50/p99,
//      how many completed, in how long.
// Server memory and CPU are sampled throughout. Needs root, iproute2, kea-admin (perfdhcp).
//   node --import tsx scripts/load/dhcp-clients.ts [--clients 1000] [--rate 2000] [--seconds 20]
import { spawn } from 'node:child_process';
import { createSocket } from 'node:dgram';
import fs from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { buildRequest } from '../../src/dhcp/test-requests.ts';
import { decodeDhcpMessage, encodeDhcpMessage, readMessageType } from '../../src/dhcp/wire/packet.ts';
import { spawnServer } from '../../test/helpers/server-child.ts';
import { run } from '../../test/helpers/tools.ts';
import { histogramPercentiles, Latencies, option, ProcessSampler } from './common.ts';

const CLIENTS = option('clients', 1000);
const RATE = option('rate', 2000);
const SECONDS = option('seconds', 20);
const SRV = 'dl-load-srv';
const CLI = 'dl-load-cli';
const SERVER_IP = '10.254.0.1';
const RELAY_IP = '10.254.0.2';

async function sh(...args: string[]): Promise<string> {
  const r = await run(args[0] ?? 'true', args.slice(1), { timeoutMs: 60000 });
  if (r.code !== 0) throw new Error(`${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
}

/**
 * Phase 2, run inside the client namespace: `clients` DORA exchanges started in the same
 * instant. Each client retransmits as a PXE ROM does (DISCOVER after 1, 2, 4, 8 s; REQUEST after
 * 1, 2, 4 s, with a little jitter), so a server that sheds DISCOVERs when behind still serves
 * everyone, later.
 */
async function burst(clients: number): Promise<void> {
  const socket = createSocket({ type: 'udp4', reuseAddr: true });
  await new Promise<void>((resolve) => socket.bind(67, RELAY_IP, resolve));
  socket.setRecvBufferSize(4 * 1024 * 1024);
  const latency = new Latencies();
  const macOf = (i: number): string => `52:54:01:${((i >> 16) & 255).toString(16).padStart(2, '0')}:${((i >> 8) & 255).toString(16).padStart(2, '0')}:${(i & 255).toString(16).padStart(2, '0')}`;
  interface Client {
    started: number;
    phase: 'discover' | 'request' | 'done';
    tries: number;
    packet: Buffer;
    timer?: NodeJS.Timeout;
  }
  const state: Client[] = [];
  let acks = 0;
  let naks = 0;
  let retransmissions = 0;
  let firstTry = 0;
  let resolveDone: () => void = () => undefined;
  const done = new Promise<void>((resolve) => (resolveDone = resolve));
  const send = (i: number): void => {
    const c = state[i];
    if (c === undefined || c.phase === 'done') return;
    socket.send(c.packet, 67, SERVER_IP);
    const wait = 1000 * 2 ** Math.min(c.tries, 3) + Math.floor(Math.random() * 200);
    c.tries++;
    c.timer = setTimeout(() => {
      if (c.tries >= 5) {
        c.phase = 'done';
        return;
      }
      retransmissions++;
      send(i);
    }, wait);
  };
  socket.on('message', (bytes) => {
    const m = decodeDhcpMessage(bytes);
    const type = readMessageType(m);
    const i = m.xid - 0x10000;
    const c = state[i];
    if (c === undefined) return;
    if (type === 2 && c.phase === 'discover') {
      clearTimeout(c.timer);
      c.phase = 'request';
      c.tries = 0;
      c.packet = encodeDhcpMessage(buildRequest({ type: 3, mac: macOf(i), xid: m.xid, giaddr: RELAY_IP, requested: m.yiaddr, serverId: SERVER_IP }));
      send(i);
    } else if ((type === 5 || type === 6) && c.phase === 'request') {
      clearTimeout(c.timer);
      c.phase = 'done';
      if (type === 5) {
        acks++;
        latency.add(performance.now() - c.started);
        if (performance.now() - c.started < 1000) firstTry++;
      } else naks++;
      if (acks + naks >= clients) resolveDone();
    }
  });
  const t0 = performance.now();
  for (let i = 0; i < clients; i++) {
    state.push({ started: performance.now(), phase: 'discover', tries: 0, packet: encodeDhcpMessage(buildRequest({ type: 1, mac: macOf(i), xid: 0x10000 + i, giaddr: RELAY_IP })) });
    send(i);
  }
  await Promise.race([done, new Promise((r) => setTimeout(r, 40000))]);
  const elapsed = performance.now() - t0;
  for (const c of state) clearTimeout(c.timer);
  socket.close();
  process.stdout.write(`BURST ${JSON.stringify({ clients, acks, naks, firstTry, retransmissions, ms: Math.round(elapsed), p50: latency.percentile(50), p90: latency.percentile(90), p99: latency.percentile(99), max: latency.percentile(100) })}\n`);
}

async function main(): Promise<void> {
  if (process.getuid?.() !== 0) throw new Error('needs root (ip netns)');
  const dir = fs.mkdtempSync('/var/tmp/diskless-load-dhcp-');
  const cleanup = async (): Promise<void> => {
    for (const ns of [SRV, CLI]) await run('ip', ['netns', 'del', ns]);
  };
  await cleanup();
  try {
    await sh('ip', 'netns', 'add', SRV);
    await sh('ip', 'netns', 'add', CLI);
    await sh('ip', '-n', SRV, 'link', 'set', 'lo', 'up');
    await sh('ip', '-n', CLI, 'link', 'set', 'lo', 'up');
    await sh('ip', '-n', SRV, 'link', 'add', 'dl-load0', 'type', 'veth', 'peer', 'name', 'dl-load1', 'netns', CLI);
    await sh('ip', '-n', SRV, 'addr', 'add', `${SERVER_IP}/16`, 'dev', 'dl-load0');
    await sh('ip', '-n', CLI, 'addr', 'add', `${RELAY_IP}/16`, 'dev', 'dl-load1');
    await sh('ip', '-n', SRV, 'link', 'set', 'dl-load0', 'up');
    await sh('ip', '-n', CLI, 'link', 'set', 'dl-load1', 'up');
    const config = {
      dataDir: dir, listen: '0.0.0.0', logLevel: 'warn' as const, iscsi: { port: 0 }, http: { port: 0 }, tftp: { enabled: false },
      dhcp: { mode: 'full' as const, interface: 'dl-load0', pool: { first: '10.254.1.0', last: '10.254.40.255' }, leaseSeconds: 3600 },
    };
    let server = await spawnServer(config, { netns: SRV });
    let sampler = new ProcessSampler(server.pid);
    const perf = await run('ip', ['netns', 'exec', CLI, 'perfdhcp', '-4', '-l', 'dl-load1', '-R', String(CLIENTS), '-r', String(RATE), '-p', String(SECONDS)], { timeoutMs: (SECONDS + 60) * 1000 });
    sampler.stop();
    const stats = (name: string): Record<string, number> => {
      const header = `***Statistics for: ${name}***`;
      const start = perf.stdout.indexOf(header);
      const end = perf.stdout.indexOf('***', start + header.length);
      const body = perf.stdout.slice(start, end < 0 ? undefined : end);
      return Object.fromEntries([...body.matchAll(/^([a-z ]+):\s*([\d.]+)/gm)].map((m) => [m[1] ?? '', Number(m[2])]));
    };
    const offer = stats('DISCOVER-OFFER');
    const ack = stats('REQUEST-ACK');
    const rate = /Rate:\s*([\d.]+)/.exec(perf.stdout)?.[1] ?? '?';
    const lines = [
      `dhcp-clients: full mode, leases journalled, ${CLIENTS} clients`,
      `  perfdhcp -R ${CLIENTS} -r ${RATE}/s for ${SECONDS} s: ${rate} DORA/s; DISCOVER sent ${offer['sent packets']}, OFFER received ${offer['received packets']}, drops ${offer.drops}; REQUEST sent ${ack['sent packets']}, ACK received ${ack['received packets']}, drops ${ack.drops}`,
      `  perfdhcp delays (ms): DISCOVER-OFFER min ${offer['min delay']} avg ${offer['avg delay']} max ${offer['max delay']} std ${offer['std deviation']}; REQUEST-ACK min ${ack['min delay']} avg ${ack['avg delay']} max ${ack['max delay']} std ${ack['std deviation']}`,
      `  during perfdhcp: ${sampler.summary()}`,
    ];
    // A fresh server (empty leases) for the burst: every client gets a first lease.
    await server.stop();
    fs.rmSync(path.join(dir, 'dhcp'), { recursive: true, force: true });
    server = await spawnServer(config, { netns: SRV });
    sampler = new ProcessSampler(server.pid);
    const self = pathToFileURL(import.meta.filename).pathname;
    const child = spawn('ip', ['netns', 'exec', CLI, process.execPath, '--import', 'tsx', self, '--burst-client', String(CLIENTS)], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    await new Promise((r) => child.once('exit', r));
    sampler.stop();
    const b = JSON.parse(/BURST (\{.*\})/.exec(out)?.[1] ?? '{}') as Record<string, number>;
    const metrics = await run('ip', ['netns', 'exec', SRV, 'curl', '-s', `http://127.0.0.1:${server.httpPort}/metrics`]);
    const counter = (name: string): string => new RegExp(`^${name}(?:\\{[^}]*\\})? (\\d+)`, 'm').exec(metrics.stdout)?.[1] ?? '?';
    const replies = [...histogramPercentiles(metrics.stdout, 'diskless_dhcp_reply_seconds')].map(([labels, h]) => `${/reply="(\w+)"/.exec(labels)?.[1] ?? labels} n=${h.count} p50 ${h.p50} p99 ${h.p99}`);
    lines.push(
      `  burst: ${b.clients} clients start at once (retransmitting as PXE ROMs do): ${b.acks} ACKed, ${b.naks} NAKed, ${(b.clients ?? 0) - (b.acks ?? 0) - (b.naks ?? 0)} never answered; ${b.firstTry} done within 1 s (no retransmission), ${b.retransmissions} retransmissions; all done in ${b.ms} ms`,
      `  burst DISCOVER→ACK latency: p50 ${b.p50?.toFixed(1)} ms, p90 ${b.p90?.toFixed(1)} ms, p99 ${b.p99?.toFixed(1)} ms, max ${b.max?.toFixed(1)} ms`,
      `  server during the burst: received ${counter('diskless_dhcp_received_total')}, replies ${counter('diskless_dhcp_replies_total')}, shed ${counter('diskless_dhcp_shed_total')}; reply latency ${replies.join('; ')}`,
      `  during the burst: ${sampler.summary()}`,
    );
    await server.stop();
    process.stdout.write(`${lines.join('\n')}\n`);
  } finally {
    await cleanup();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

if (process.argv.includes('--burst-client')) await burst(Number(process.argv[process.argv.indexOf('--burst-client') + 1]));
else await main();
