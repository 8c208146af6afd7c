// diskless's DHCP server against real clients, in network namespaces this test creates:
//   dl-dhcp-srv: bridge dl-br 10.251.0.1/24 (diskless, as a child process: the test runner
//                itself cannot move into a namespace)
//   dl-dhcp-cli: dl-vc, unconfigured (udhcpc, dhclient, a scripted PXE ROM, perfdhcp)
//   dl-dhcp-rtr: dl-vr 10.251.0.254/24 (dnsmasq as the home router, for proxy mode)
// Needs root (ip netns); a missing client tool skips that test with the Debian package to install.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { TestContext } from 'node:test';
import type { RunnerConfig } from '../helpers/dhcp-server-runner.ts';
import { hasTool, needTools, run } from '../helpers/tools.ts';

const SRV = 'dl-dhcp-srv';
const CLI = 'dl-dhcp-cli';
const RTR = 'dl-dhcp-rtr';
const SERVER = '10.251.0.1';
const ROUTER = '10.251.0.254';
const SCRIPT_URL = `http://${SERVER}:8080/boot.ipxe`;
const RUNNER = resolve('test/helpers/dhcp-server-runner.ts');
const PXE_CLIENT = resolve('test/helpers/pxe-client.ts');
const isRoot = process.getuid?.() === 0;

/** Root and iproute2 first, then the client tools this test needs. */
function ready(t: TestContext, tools: Record<string, string> = {}): boolean {
  if (!isRoot) {
    const reason = 'needs root: ip netns creates network namespaces';
    process.stderr.write(`skipping "${t.name}": ${reason}\n`);
    t.skip(reason);
    return false;
  }
  return needTools(t, { ip: 'iproute2', ...tools });
}

async function sh(...args: string[]): Promise<string> {
  const r = await run(args[0] ?? 'true', args.slice(1), { timeoutMs: 30000 });
  if (r.code !== 0) throw new Error(`${args.join(' ')} failed (${r.code}): ${r.stderr}`);
  return r.stdout;
}

const inNs = (ns: string, ...args: string[]): string[] => ['ip', 'netns', 'exec', ns, ...args];

async function teardownNetwork(): Promise<void> {
  for (const ns of [SRV, CLI, RTR]) await run('ip', ['netns', 'del', ns]);
}

async function setupNetwork(): Promise<void> {
  await teardownNetwork();
  for (const ns of [SRV, CLI, RTR]) {
    await sh('ip', 'netns', 'add', ns);
    await sh('ip', '-n', ns, 'link', 'set', 'lo', 'up');
  }
  await sh('ip', '-n', SRV, 'link', 'add', 'dl-br', 'type', 'bridge');
  await sh('ip', '-n', SRV, 'link', 'set', 'dl-br', 'type', 'bridge', 'stp_state', '0', 'forward_delay', '0');
  await sh('ip', '-n', SRV, 'addr', 'add', `${SERVER}/24`, 'dev', 'dl-br');
  for (const [peer, ns, side] of [['dl-vc', CLI, 'dl-vs-c'], ['dl-vr', RTR, 'dl-vs-r']] as const) {
    await sh('ip', '-n', SRV, 'link', 'add', side, 'type', 'veth', 'peer', 'name', peer, 'netns', ns);
    await sh('ip', '-n', SRV, 'link', 'set', side, 'master', 'dl-br');
    await sh('ip', '-n', SRV, 'link', 'set', side, 'up');
    await sh('ip', '-n', ns, 'link', 'set', peer, 'up');
  }
  await sh('ip', '-n', RTR, 'addr', 'add', `${ROUTER}/24`, 'dev', 'dl-vr');
  // For the scripted PXE ROM's UDP socket (a real ROM sends raw frames): broadcasts leave by dl-vc.
  await sh('ip', '-n', CLI, 'route', 'add', '255.255.255.255', 'dev', 'dl-vc');
  await sh('ip', '-n', SRV, 'link', 'set', 'dl-br', 'up');
}

interface Running {
  readonly child: ChildProcess;
  stderr: string;
  stdout: string;
}

async function startServer(config: RunnerConfig): Promise<Running> {
  const child = spawn('ip', ['netns', 'exec', SRV, process.execPath, '--import', 'tsx', RUNNER, JSON.stringify(config)], { stdio: ['ignore', 'pipe', 'pipe'] });
  const running: Running = { child, stderr: '', stdout: '' };
  child.stderr?.on('data', (d: Buffer) => {
    running.stderr += d.toString();
  });
  await new Promise<void>((ok, fail) => {
    const timer = setTimeout(() => fail(new Error(`DHCP server did not start: ${running.stderr}`)), 20000);
    child.stdout?.on('data', (d: Buffer) => {
      running.stdout += d.toString();
      if (running.stdout.includes('READY')) {
        clearTimeout(timer);
        ok();
      }
    });
    child.once('exit', (code) => fail(new Error(`DHCP server exited (${code}): ${running.stderr}`)));
  });
  return running;
}

async function stopServer(running: Running | null): Promise<void> {
  if (running === null || running.child.exitCode !== null) return;
  const exited = new Promise((ok) => running.child.once('exit', ok));
  running.child.kill('SIGTERM');
  await exited;
}

function fullConfig(leaseDir: string, pool = { first: '10.251.0.100', last: '10.251.0.150' }): RunnerConfig {
  return {
    mode: 'full', serverAddress: SERVER, leaseDir, scriptUrl: SCRIPT_URL, logLevel: 'info',
    rootPath: `iscsi:${SERVER}::3260:0:iqn.2026-11.test:disk`, initiatorIqn: 'iqn.2026-11.test:node',
    subnets: [{ network: '10.251.0.0', prefixLength: 24, routers: [SERVER], leaseTimeSeconds: 3600, pool }],
  };
}

/** Busybox udhcpc: one lease, then quit; the script prints what it was told. */
async function udhcpc(dir: string, extra: string[] = []): Promise<Record<string, string>> {
  const script = join(dir, 'udhcpc.sh');
  writeFileSync(script, '#!/bin/sh\n[ "$1" = bound ] && echo "ip=$ip siaddr=$siaddr boot_file=$boot_file serverid=$serverid router=$router"\nexit 0\n', { mode: 0o755 });
  const r = await run('ip', ['netns', 'exec', CLI, 'busybox', 'udhcpc', '-i', 'dl-vc', '-n', '-q', '-f', '-t', '5', '-T', '1', '-s', script, ...extra], { timeoutMs: 30000 });
  assert.equal(r.code, 0, `udhcpc failed: ${r.stdout} ${r.stderr}`);
  const line = r.stdout.split('\n').find((l) => l.startsWith('ip=')) ?? '';
  return Object.fromEntries(line.split(' ').map((kv) => kv.split('=', 2) as [string, string]));
}

async function setMac(mac: string): Promise<void> {
  await sh('ip', '-n', CLI, 'link', 'set', 'dl-vc', 'address', mac);
}

describe('DHCP interop: real clients in network namespaces', { concurrency: false }, () => {
  let dir = '';
  let server: Running | null = null;
  let networkUp = false;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'dl-dhcp-interop-'));
    if (isRoot && hasTool('ip')) {
      await setupNetwork();
      networkUp = true;
    }
  });

  after(async () => {
    await stopServer(server);
    await run('pkill', ['-F', join(dir, 'dnsmasq.pid')]);
    if (networkUp) await teardownNetwork();
    rmSync(dir, { recursive: true, force: true });
  });

  test('full: udhcpc gets a lease; as a PXE ROM it gets undionly.kpxe, as iPXE the script URL', async (t) => {
    if (!ready(t, { busybox: 'busybox' })) return;
    server = await startServer(fullConfig(join(dir, 'leases-a')));
    await setMac('52:54:00:25:10:01');
    const plain = await udhcpc(dir);
    assert.equal(plain.ip, '10.251.0.100');
    assert.equal(plain.serverid, SERVER);
    assert.equal(plain.router, SERVER);
    assert.equal(plain.boot_file, '');
    const pxe = await udhcpc(dir, ['-V', 'PXEClient:Arch:00000:UNDI:002001', '-x', '0x5d:0000', '-O', 'bootfile']);
    assert.equal(pxe.ip, '10.251.0.100', 'same machine, same address');
    assert.equal(pxe.siaddr, SERVER);
    assert.equal(pxe.boot_file, 'undionly.kpxe');
    const ipxe = await udhcpc(dir, ['-V', 'PXEClient:Arch:00000:UNDI:002001', '-x', '0x5d:0000', '-x', '0x4d:69505845']);
    assert.equal(ipxe.boot_file, SCRIPT_URL);
  });

  test('full: dhclient posing as iPXE gets a lease with the script, root path, IQN and option 175', async (t) => {
    if (!ready(t, { dhclient: 'isc-dhcp-client' })) return;
    server ??= await startServer(fullConfig(join(dir, 'leases-a')));
    await setMac('52:54:00:25:10:02');
    const conf = join(dir, 'dhclient.conf');
    const leases = join(dir, 'dhclient.leases');
    writeFileSync(conf, [
      'send user-class "iPXE";',
      'send vendor-class-identifier "PXEClient:Arch:00000:UNDI:002001";',
      'option pxe-arch code 93 = unsigned integer 16;',
      'send pxe-arch 0;',
      'option space ipxe;',
      'option ipxe-encap-opts code 175 = encapsulate ipxe;',
      'option ipxe.keep-san code 8 = unsigned integer 8;',
      'option ipxe.no-pxedhcp code 176 = unsigned integer 8;',
      'option iscsi-initiator-iqn code 203 = string;',
      'request subnet-mask, routers, root-path, bootfile-name, iscsi-initiator-iqn, ipxe-encap-opts;',
      '',
    ].join('\n'));
    const pidFile = join(dir, 'dhclient.pid');
    const r = await run('ip', ['netns', 'exec', CLI, 'dhclient', '-4', '-1', '-v', '-cf', conf, '-lf', leases, '-pf', pidFile, '-sf', '/bin/true', 'dl-vc'], { timeoutMs: 40000 });
    await run('pkill', ['-F', pidFile]);
    assert.equal(r.code, 0, r.stderr);
    const lease = readFileSync(leases, 'utf8');
    assert.match(lease, /fixed-address 10\.251\.0\.101;/);
    assert.match(lease, new RegExp(`filename "${SCRIPT_URL}";`));
    assert.match(lease, /option root-path "iscsi:10\.251\.0\.1::3260:0:iqn\.2026-11\.test:disk";/);
    assert.match(lease, /option iscsi-initiator-iqn "iqn\.2026-11\.test:node";/);
    assert.match(lease, /option ipxe\.no-pxedhcp 1;/);
    assert.match(lease, /option ipxe\.keep-san 1;/);
  });

  test('full: a lease survives a server restart', async (t) => {
    if (!ready(t, { busybox: 'busybox' })) return;
    const leaseDir = join(dir, 'leases-restart');
    await stopServer(server);
    server = await startServer(fullConfig(leaseDir));
    await setMac('52:54:00:25:20:01');
    const first = await udhcpc(dir);
    await stopServer(server);
    server = await startServer(fullConfig(leaseDir));
    // A newcomer must not get the first machine's address; the first machine gets it back.
    await setMac('52:54:00:25:20:02');
    const newcomer = await udhcpc(dir);
    assert.notEqual(newcomer.ip, first.ip);
    await setMac('52:54:00:25:20:01');
    assert.equal((await udhcpc(dir)).ip, first.ip);
    assert.match(readFileSync(join(leaseDir, 'leases.jsonl'), 'utf8'), /52:54:00:25:20:01/);
  });

  test('proxy: beside dnsmasq, a PXE client gets its address from dnsmasq and its boot file from diskless (67 and 4011)', async (t) => {
    if (!ready(t, { dnsmasq: 'dnsmasq-base' })) return;
    await stopServer(server);
    server = await startServer({ mode: 'proxy', serverAddress: SERVER, scriptUrl: SCRIPT_URL, logLevel: 'info' });
    const conf = join(dir, 'dnsmasq.conf');
    writeFileSync(conf, [
      'port=0', 'interface=dl-vr', 'bind-interfaces', 'dhcp-range=10.251.0.200,10.251.0.220,255.255.255.0,1h',
      `dhcp-leasefile=${join(dir, 'dnsmasq.leases')}`, 'no-ping', `pid-file=${join(dir, 'dnsmasq.pid')}`, '',
    ].join('\n'));
    await sh(...inNs(RTR, 'dnsmasq', `--conf-file=${conf}`));
    const mac = '52:54:00:25:30:01';
    await setMac(mac);
    const pxeClient = async (...args: string[]): Promise<Record<string, string | number | null>[]> => {
      const r = await run('ip', ['netns', 'exec', CLI, process.execPath, '--import', 'tsx', PXE_CLIENT, ...args], { timeoutMs: 20000 });
      assert.equal(r.code, 0, r.stderr);
      return r.stdout.trim().split('\n').filter((l) => l !== '').map((l) => JSON.parse(l) as Record<string, string | number | null>);
    };
    // Port 67: two offers, an address from dnsmasq and a boot file (no address) from diskless.
    const offers = await pxeClient('discover', mac);
    const fromRouter = offers.find((o) => o.serverId === ROUTER);
    const fromProxy = offers.find((o) => o.serverId === SERVER);
    assert.ok(fromRouter !== undefined && fromProxy !== undefined, JSON.stringify(offers));
    assert.match(String(fromRouter.yiaddr), /^10\.251\.0\.2\d\d$/);
    assert.equal(fromProxy.yiaddr, '0.0.0.0');
    assert.equal(fromProxy.vendorClass, 'PXEClient');
    assert.equal(fromProxy.file, 'undionly.kpxe');
    assert.equal(fromProxy.siaddr, SERVER);
    // The address comes from dnsmasq; diskless stays silent on REQUESTs for the router.
    const acks = await pxeClient('request', String(fromRouter.yiaddr), ROUTER, mac);
    assert.deepEqual(acks.map((a) => [a.serverId, a.type]), [[ROUTER, 5]]);
    // Port 4011: the configured client asks diskless for its boot file.
    await sh('ip', '-n', CLI, 'addr', 'add', `${String(fromRouter.yiaddr)}/24`, 'dev', 'dl-vc');
    try {
      const boot = await pxeClient('pxe', SERVER, String(fromRouter.yiaddr), mac);
      assert.equal(boot.length, 1, JSON.stringify(boot));
      assert.equal(boot[0]?.from, `${SERVER}:4011`);
      assert.equal(boot[0]?.type, 5);
      assert.equal(boot[0]?.yiaddr, '0.0.0.0');
      assert.equal(boot[0]?.file, 'undionly.kpxe');
    } finally {
      await sh('ip', '-n', CLI, 'addr', 'flush', 'dev', 'dl-vc');
      await run('pkill', ['-F', join(dir, 'dnsmasq.pid')]);
    }
  });

  test('full: perfdhcp completes its exchanges with no drops', async (t) => {
    if (!ready(t, { perfdhcp: 'kea-admin' })) return;
    await stopServer(server);
    server = await startServer({ ...fullConfig(join(dir, 'leases-perf'), { first: '10.251.0.10', last: '10.251.0.250' }), logLevel: 'warn' });
    // perfdhcp acts as a relay (giaddr = its own address), so the client side needs one.
    await sh('ip', '-n', CLI, 'addr', 'add', '10.251.0.2/24', 'dev', 'dl-vc');
    try {
      const r = await run('ip', ['netns', 'exec', CLI, 'perfdhcp', '-4', '-l', 'dl-vc', '-r', '100', '-R', '200', '-p', '5'], { timeoutMs: 60000 });
      const drops = [...r.stdout.matchAll(/^drops: (\d+)/gm)].map((m) => Number(m[1]));
      const sent = [...r.stdout.matchAll(/^sent packets: (\d+)/gm)].map((m) => Number(m[1]));
      const rate = /Rate: ([\d.]+) 4-way exchanges\/second/.exec(r.stdout)?.[1];
      process.stderr.write(`perfdhcp: ${rate ?? '?'} exchanges/s, sent ${sent.join('/')}, drops ${drops.join('/')}\n`);
      assert.deepEqual(drops, [0, 0], r.stdout);
      assert.ok((sent[0] ?? 0) >= 400, r.stdout);
      assert.doesNotMatch(r.stdout, /rejected leases: [1-9]|non unique addresses: [1-9]/);
    } finally {
      await sh('ip', '-n', CLI, 'addr', 'flush', 'dev', 'dl-vc');
    }
  });
});
