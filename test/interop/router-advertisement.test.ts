// IPv6 router advertisements (docs/ROUTER-ADVERTISEMENTS.md) against Linux's own Neighbor
// Discovery: two network namespaces joined by a veth pair; `diskless serve --dhcp full` on one
// side answers the router solicitation that rdisc6 (Debian ndisc6) sends from the other, and the
// other side's kernel takes the advertisement without making us its default router.
// Needs root (network namespaces, raw sockets).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadIcmpv6 } from '../../src/ra/native.ts';
import { needTools, run } from '../helpers/tools.ts';

const SERVER_NS = `dl-ra-${process.pid}-s`;
const HOST_NS = `dl-ra-${process.pid}-h`;
const SERVER_IF = 'ra-srv';
const HOST_IF = 'ra-host';
const TOOLS = { rdisc6: 'ndisc6', tcpdump: 'tcpdump', ip: 'iproute2' };

const inNs = (ns: string, command: string, args: readonly string[], timeoutMs = 20000) => run('ip', ['netns', 'exec', ns, command, ...args], { timeoutMs });

/** The interface's link-local address once duplicate address detection is over (RFC 4862 5.4), or null. */
async function linkLocal(ns: string, iface: string): Promise<string | null> {
  const r = await run('ip', ['-n', ns, '-j', '-6', 'addr', 'show', 'dev', iface, 'scope', 'link']);
  if (r.code !== 0) return null;
  const info = (JSON.parse(r.stdout) as Array<{ addr_info?: Array<{ local?: string; tentative?: boolean }> }>)[0]?.addr_info ?? [];
  return info.find((a) => a.local !== undefined && a.tentative !== true)?.local ?? null;
}

/** tcpdump -v of the first packet matching `filter`, once tcpdump listens; gives up after 15 s. */
async function startCapture(ns: string, iface: string, filter: string): Promise<{ done: Promise<string> }> {
  const child = spawn('ip', ['netns', 'exec', ns, 'tcpdump', '-i', iface, '-n', '-v', '-l', '-c', '1', filter], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (err += d.toString()));
  const killer = setTimeout(() => child.kill('SIGKILL'), 15000);
  const done = new Promise<string>((resolve) =>
    child.once('exit', () => {
      clearTimeout(killer);
      resolve(out + err);
    }),
  );
  const deadline = Date.now() + 10000;
  while (!/listening on/.test(err) && child.exitCode === null && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  return { done };
}

/** `Name : value` lines of rdisc6's output. */
function field(output: string, name: string): string | null {
  const line = output.split('\n').find((l) => l.trim().startsWith(name));
  return line === undefined ? null : (line.split(':').slice(1).join(':').trim() || null);
}

describe('diskless answers IPv6 router solicitations (interop: Linux, rdisc6)', { concurrency: false }, () => {
  let dir = '';
  let skipReason: string | null = null;
  let serverAddress = '';
  let hostAddress = '';

  before(async () => {
    if (process.getuid?.() !== 0) {
      skipReason = 'needs root for network namespaces and raw sockets';
      return;
    }
    const addon = loadIcmpv6();
    if ('error' in addon) {
      skipReason = addon.error;
      return;
    }
    dir = mkdtempSync(join(tmpdir(), 'diskless-ra-'));
    for (const ns of [SERVER_NS, HOST_NS]) {
      await run('ip', ['netns', 'del', ns]);
      const made = await run('ip', ['netns', 'add', ns]);
      if (made.code !== 0) throw new Error(`ip netns add ${ns}: ${made.stderr}`);
      await run('ip', ['-n', ns, 'link', 'set', 'lo', 'up']);
    }
    const steps: string[][] = [
      ['-n', SERVER_NS, 'link', 'add', SERVER_IF, 'type', 'veth', 'peer', 'name', HOST_IF, 'netns', HOST_NS],
      ['-n', SERVER_NS, 'addr', 'add', '10.251.0.1/24', 'dev', SERVER_IF],
      ['-n', SERVER_NS, 'link', 'set', SERVER_IF, 'up'],
      ['-n', HOST_NS, 'link', 'set', HOST_IF, 'up'],
    ];
    for (const step of steps) {
      const r = await run('ip', step);
      if (r.code !== 0) throw new Error(`ip ${step.join(' ')}: ${r.stderr}`);
    }
    // Both link-local addresses must be past DAD: ours is the advertisement's source
    // (RFC 4861 section 6.1.2), the host's the solicitation's.
    const deadline = Date.now() + 15000;
    for (;;) {
      serverAddress = (await linkLocal(SERVER_NS, SERVER_IF)) ?? '';
      hostAddress = (await linkLocal(HOST_NS, HOST_IF)) ?? '';
      if (serverAddress !== '' && hostAddress !== '') break;
      if (Date.now() > deadline) throw new Error('the veth pair has no usable link-local addresses after 15 s');
      await new Promise((r) => setTimeout(r, 200));
    }
  });

  after(async () => {
    for (const ns of [SERVER_NS, HOST_NS]) await run('ip', ['netns', 'del', ns]);
    if (dir !== '') rmSync(dir, { recursive: true, force: true });
  });

  function ready(t: { skip: (reason: string) => void; name: string }): boolean {
    if (skipReason === null) return true;
    if (process.env.CI === 'true') throw new Error(skipReason);
    process.stderr.write(`skipping "${t.name}": ${skipReason}\n`);
    t.skip(skipReason);
    return false;
  }

  /** `diskless serve --dhcp MODE --interface ra-srv` in the server namespace, with extra config lines. */
  async function serve(name: string, mode: 'full' | 'proxy', yaml: string[]): Promise<{ log: () => string; stop: () => Promise<void> }> {
    const data = join(dir, name);
    const config = join(dir, `${name}.yaml`);
    writeFileSync(config, ['logLevel: info', ...yaml].join('\n') + '\n');
    const args = ['netns', 'exec', SERVER_NS, process.execPath, 'bin/diskless.js', 'serve', '--config', config, '--dhcp', mode, '--interface', SERVER_IF, '--data-dir', data];
    if (mode === 'full') args.push('--pool', '10.251.0.100-10.251.0.150');
    const child: ChildProcess = spawn('ip', args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let log = '';
    child.stdout?.on('data', (d: Buffer) => (log += d.toString()));
    child.stderr?.on('data', (d: Buffer) => (log += d.toString()));
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    const deadline = Date.now() + 30000;
    while (!/diskless is serving/.test(log)) {
      if (Date.now() > deadline || child.exitCode !== null) {
        child.kill('SIGKILL');
        throw new Error(`diskless did not start:\n${log}`);
      }
      await new Promise((r) => setTimeout(r, 100));
    }
    return {
      log: () => log,
      stop: async () => {
        child.kill('SIGTERM');
        const killer = setTimeout(() => child.kill('SIGKILL'), 3000);
        await exited;
        clearTimeout(killer);
      },
    };
  }

  test('full mode: rdisc6 gets an advertisement with router lifetime 0 from our link-local address, hop limit 255', async (t) => {
    if (!needTools(t, TOOLS) || !ready(t)) return;
    const server = await serve('full', 'full', []);
    try {
      assert.match(server.log(), /answering IPv6 router solicitations on ra-srv/);
      const before = await inNs(HOST_NS, 'cat', ['/proc/net/snmp6']);
      // The advertisement as it arrives on the host's side, captured by tcpdump: hop limit 255
      // (RFC 4861 section 6.1.2) and the kernel's checksum ("sum ok").
      const capture = await startCapture(HOST_NS, HOST_IF, 'icmp6 and ip6[40] == 134');
      const r = await inNs(HOST_NS, 'rdisc6', ['-1', '-n', '-w', '2000', HOST_IF]);
      assert.equal(r.code, 0, `rdisc6 got no advertisement:\n${r.stdout}\n${r.stderr}\n--- server ---\n${server.log()}`);
      assert.equal(field(r.stdout, 'Router lifetime'), '0 (0x00000000) seconds', r.stdout);
      assert.equal(field(r.stdout, 'Hop limit'), '64 (      0x40)', r.stdout);
      assert.equal(field(r.stdout, 'Stateful address conf.'), 'No', 'M flag clear');
      assert.equal(field(r.stdout, 'Stateful other conf.'), 'No', 'O flag clear');
      assert.equal(field(r.stdout, 'Reachable time'), 'unspecified (0x00000000)');
      assert.match(r.stdout, new RegExp(`from ${serverAddress.replace(/\./g, '\\.')}\\b`), 'from our link-local address');
      assert.match(r.stdout, /Source link-layer address: [0-9A-F]{2}(:[0-9A-F]{2}){5}/);

      const captured = await capture.done;
      assert.match(captured, /hlim 255/, captured);
      assert.match(captured, /sum ok/);
      assert.match(captured, new RegExp(`${serverAddress} > ${hostAddress}: .*router advertisement`), 'unicast to the soliciting host');
      assert.match(captured, /router lifetime 0s/);

      // The host's kernel took it (it counts it) and did not make us a default router.
      const count = (snmp: string) => Number(/Icmp6InRouterAdvertisements\s+(\d+)/.exec(snmp)?.[1] ?? NaN);
      const afterSnmp = await inNs(HOST_NS, 'cat', ['/proc/net/snmp6']);
      assert.ok(count(afterSnmp.stdout) > count(before.stdout), 'the host kernel received the advertisement');
      const routes = await run('ip', ['-n', HOST_NS, '-6', 'route', 'show', 'default']);
      assert.equal(routes.stdout.trim(), '', 'no default route through diskless');

      assert.match(server.log(), new RegExp(`router solicitation from ${hostAddress} → router advertisement to ${hostAddress}`));
    } finally {
      await server.stop();
    }
  });

  test('dhcp.routerAdvertisements: false, and proxy mode by default: no advertisement', async (t) => {
    if (!needTools(t, TOOLS) || !ready(t)) return;
    for (const [name, mode, yaml] of [['off', 'full', ['dhcp:', '  routerAdvertisements: false']], ['proxy', 'proxy', []]] as const) {
      const server = await serve(name, mode, [...yaml]);
      try {
        assert.doesNotMatch(server.log(), /answering IPv6 router solicitations/);
        const r = await inNs(HOST_NS, 'rdisc6', ['-1', '-n', '-r', '2', '-w', '500', HOST_IF]);
        assert.notEqual(r.code, 0, `${name}: rdisc6 got an advertisement:\n${r.stdout}`);
        assert.match(r.stdout + r.stderr, /No response/);
      } finally {
        await server.stop();
      }
    }
  });

  test('proxy mode with dhcp.routerAdvertisements: true answers', async (t) => {
    if (!needTools(t, TOOLS) || !ready(t)) return;
    const server = await serve('proxy-on', 'proxy', ['dhcp:', '  routerAdvertisements: true']);
    try {
      const r = await inNs(HOST_NS, 'rdisc6', ['-1', '-n', '-w', '2000', HOST_IF]);
      assert.equal(r.code, 0, `${r.stdout}\n${r.stderr}\n--- server ---\n${server.log()}`);
      assert.equal(field(r.stdout, 'Router lifetime'), '0 (0x00000000) seconds');
    } finally {
      await server.stop();
    }
  });
});
