// The two ways to boot ../shared/e2e's bootcheck image over its mode b network (namespace e2e-b:
// bridge br0 10.250.0.1/24 + fd00:e2e::1/64, tap0 for QEMU), and one timed boot:
// - the peers, as the harness's README stands them in: dnsmasq (DHCP, TFTP, IPv6 RA), tgtd (the
//   image as LUN 1) and a small HTTP server for boot.ipxe;
// - diskless alone, started as test/interop/e2e-netboot.test.ts starts it (full DHCP on br0, its
//   RA responder, the machine registered by MAC with the image as its boot disk).
// Every process started here is also ended on Ctrl-C (onCleanup, startServer from the harness).
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { onCleanup, startServer, stopServer, waitUntil, type Server } from './harness.ts';
import { udpListening } from './netns.ts';

export const ROOT = fileURLToPath(new URL('../..', import.meta.url));
/** The harness: ../shared/e2e beside the checkout (E2E_DIR overrides). */
export const E2E = resolve(process.env.E2E_DIR ?? join(ROOT, '..', 'shared', 'e2e'));

export const NS = 'e2e-b';
const BRIDGE = 'br0';
const SERVER = '10.250.0.1';
const NETNS_ENV: NodeJS.ProcessEnv = { ...process.env, NS, TAP: 'tap0' };

// The peers' ports, the README's (the namespace is ours alone: nothing else listens there).
const TGT_PORT = 3262;
const PEER_HTTP_PORT = 8102;
/**
 * tgtd's control socket (/var/run/tgtd/socket.N) is shared by all namespaces: bench:iscsi uses 9,
 * bench:storm 31, the README's example 2; the interop tests run no tgtd.
 */
const TGT_CONTROL = 47;
export const PEER_IQN = 'iqn.2026-11.test.e2e:boot';
export const DISKLESS_IQN = 'iqn.2026-11.org.diskless.bench:boot';

const inNs = (command: readonly string[]): [string, string[]] => ['ip', ['netns', 'exec', NS, ...command]];

function sh(command: string, args: readonly string[], env?: NodeJS.ProcessEnv): string {
  return execFileSync(command, [...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], ...(env !== undefined ? { env } : {}) });
}

/** True when something in the namespace listens on TCP `port`. */
export function tcpListening(port: number): boolean {
  try {
    return sh('ip', ['netns', 'exec', NS, 'ss', '-Hltn', `sport = :${port}`]).trim() !== '';
  } catch {
    return false;
  }
}

/** `netns.sh up` (after a `down` for a namespace an interrupted run left); `down` also on Ctrl-C. */
export function namespaceUp(): () => void {
  const netns = join(E2E, 'netns.sh');
  const down = (): void => {
    try {
      sh('bash', [netns, 'down'], NETNS_ENV);
    } catch {
      // not there
    }
  };
  down();
  const destroy = onCleanup(down);
  try {
    sh('bash', [netns, 'up'], NETNS_ENV);
  } catch (err) {
    destroy();
    throw err;
  }
  return destroy;
}

/** make-image.sh's image in `path`; returns the CRC it printed (the one the guest must print). */
export function makeImage(path: string): string {
  const crc = sh('bash', [join(E2E, 'make-image.sh'), '-o', path]).trim();
  if (!/^[0-9a-f]{8}$/.test(crc)) throw new Error(`make-image.sh printed "${crc}", not a CRC-32`);
  return crc;
}

/** A copy that stays sparse (64 MiB, of which 1 MiB is data). */
export function copyImage(from: string, to: string): void {
  sh('cp', ['--sparse=always', from, to]);
  const crc = sh('bash', [join(E2E, 'image-crc.sh'), to]).trim();
  const expected = sh('bash', [join(E2E, 'image-crc.sh'), from]).trim();
  if (crc !== expected) throw new Error(`the copy ${to} has CRC ${crc}, the image ${expected}`);
}

/** One setup, running in the namespace; `stop` ends all of its processes. */
export interface RunningSetup {
  /** The tail of its servers' output, for error messages. */
  output(): string;
  stop(): Promise<void>;
}

export interface BootSetup {
  readonly name: string;
  start(): Promise<RunningSetup>;
}

function tails(servers: readonly Server[]): string {
  return servers.map((s) => `--- ${s.name} ---\n${s.output().slice(-1500)}`).join('\n');
}

function checkAlive(servers: readonly Server[]): void {
  const gone = servers.find((s) => s.exited());
  if (gone !== undefined) throw new Error(`${gone.name} exited at start-up:\n${tails(servers)}`);
}

// ---------------------------------------------------------------------------------------------
// dnsmasq + tgtd + HTTP

/** The README's stand-in /tmp/dnsmasq-e2e.conf, line for line, with the lease file in `dir`. */
function dnsmasqConf(dir: string): string {
  return [
    'port=0',
    `interface=${BRIDGE}`,
    'bind-interfaces',
    'dhcp-range=10.250.0.100,10.250.0.150,255.255.255.0,1h',
    `dhcp-leasefile=${join(dir, 'dnsmasq-e2e.leases')}`,
    'no-ping',
    'enable-tftp',
    'tftp-root=/usr/lib/ipxe',
    'dhcp-userclass=set:ipxe,iPXE',
    'dhcp-match=set:efi64,option:client-arch,7',
    'dhcp-boot=tag:!ipxe,tag:efi64,ipxe.efi',
    'dhcp-boot=tag:!ipxe,tag:!efi64,undionly.kpxe',
    `dhcp-boot=tag:ipxe,http://${SERVER}:${PEER_HTTP_PORT}/boot.ipxe`,
    'dhcp-option=tag:ipxe,encap:175,176,1b',
    'enable-ra',
    'dhcp-range=fd00:e2e::,ra-only,64,1h',
    // How it runs here, not what it answers: no pid file in /run (other benches run dnsmasq),
    // log to stderr, stay root for the lease file in the bench's own folder.
    'pid-file=',
    'log-facility=-',
    'user=root',
    '',
  ].join('\n');
}

/** Serves one file, boot.ipxe, at /boot.ipxe (what the README does with python3 -m http.server). */
const HTTP_ONE_LINER = [
  "const http = require('node:http');",
  "const fs = require('node:fs');",
  'const [file, host, port] = process.argv.slice(1);',
  'http.createServer((req, res) => {',
  "  if ((req.url ?? '').split('?')[0] !== '/boot.ipxe') { res.statusCode = 404; res.end(); return; }",
  "  res.setHeader('Content-Type', 'text/plain');",
  '  res.end(fs.readFileSync(file));',
  '}).listen(Number(port), host);',
].join('\n');

function tgtadm(...args: string[]): void {
  const [cmd, argv] = inNs(['tgtadm', '-C', String(TGT_CONTROL), ...args]);
  sh(cmd, argv);
}

function tgtdAnswers(): boolean {
  try {
    tgtadm('--op', 'show', '--mode', 'system');
    return true;
  } catch {
    return false;
  }
}

/** tgtd ignores SIGTERM while targets exist (the README): delete the target, then the system. */
function stopTgtdByTgtadm(): void {
  for (const args of [
    ['--lld', 'iscsi', '--op', 'delete', '--force', '--mode', 'target', '--tid', '1'],
    ['--op', 'delete', '--mode', 'system'],
  ]) {
    try {
      tgtadm(...args);
    } catch {
      // no such target, or tgtd has gone
    }
  }
}

function removeTgtdSockets(): void {
  // A killed tgtd leaves its control socket and lock file behind.
  for (const suffix of ['', '.lock']) rmSync(`/var/run/tgtd/socket.${TGT_CONTROL}${suffix}`, { force: true });
}

export function peerSetup(options: { dir: string; image: string }): BootSetup {
  const { dir, image } = options;
  const www = join(dir, 'www');
  return {
    name: 'dnsmasq+tgtd',
    async start() {
      if (tgtdAnswers()) throw new Error(`a tgtd already answers on control port ${TGT_CONTROL} (/var/run/tgtd/socket.${TGT_CONTROL}): is another boot-time bench running?`);
      mkdirSync(www, { recursive: true });
      writeFileSync(join(www, 'boot.ipxe'), `#!ipxe\nsanboot iscsi:${SERVER}::${TGT_PORT}:1:${PEER_IQN}\n`);
      const conf = join(dir, 'dnsmasq-e2e.conf');
      writeFileSync(conf, dnsmasqConf(dir));
      const servers: Server[] = [];
      const stopTgtd = onCleanup(() => {
        stopTgtdByTgtadm();
        removeTgtdSockets();
      });
      const stop = async (): Promise<void> => {
        stopTgtdByTgtadm();
        // In reverse: dnsmasq, the HTTP server, then tgtd (SIGKILL after 3 s if it still lingers).
        for (const server of [...servers].reverse()) await stopServer(server, 3000);
        stopTgtd();
      };
      try {
        const [tgtCmd, tgtArgs] = inNs(['tgtd', '-f', '-C', String(TGT_CONTROL), '--iscsi', `portal=${SERVER}:${TGT_PORT}`]);
        const tgtd = startServer('tgtd', tgtCmd, tgtArgs);
        servers.push(tgtd);
        await waitUntil('tgtd to take commands', () => {
          checkAlive(servers);
          return tgtdAnswers();
        });
        tgtadm('--lld', 'iscsi', '--op', 'new', '--mode', 'target', '--tid', '1', '-T', PEER_IQN);
        tgtadm('--lld', 'iscsi', '--op', 'new', '--mode', 'logicalunit', '--tid', '1', '--lun', '1', '-b', image);
        tgtadm('--lld', 'iscsi', '--op', 'bind', '--mode', 'target', '--tid', '1', '-I', 'ALL');
        await waitUntil(`tgtd on ${SERVER}:${TGT_PORT}`, () => tcpListening(TGT_PORT));

        const [httpCmd, httpArgs] = inNs([process.execPath, '-e', HTTP_ONE_LINER, join(www, 'boot.ipxe'), SERVER, String(PEER_HTTP_PORT)]);
        servers.push(startServer('http', httpCmd, httpArgs));
        await waitUntil(`the HTTP server on ${SERVER}:${PEER_HTTP_PORT}`, () => {
          checkAlive(servers);
          return tcpListening(PEER_HTTP_PORT);
        });

        const [dnsCmd, dnsArgs] = inNs(['dnsmasq', '--keep-in-foreground', `--conf-file=${conf}`]);
        servers.push(startServer('dnsmasq', dnsCmd, dnsArgs));
        await waitUntil('dnsmasq on UDP 67 and 69', () => {
          checkAlive(servers);
          return udpListening(NS, 67) && udpListening(NS, 69);
        });
      } catch (err) {
        await stop();
        throw err;
      }
      return { output: () => tails(servers), stop };
    },
  };
}

// ---------------------------------------------------------------------------------------------
// diskless

export function disklessSetup(options: { dir: string; image: string; mac: string }): BootSetup {
  const { dir, image, mac } = options;
  const config = join(dir, 'diskless.yaml');
  return {
    name: 'diskless',
    async start() {
      writeFileSync(
        config,
        [
          'dhcp:',
          '  routerAdvertisements: true',
          'targets:',
          `  - { iqn: ${DISKLESS_IQN}, luns: [{ lun: 0, path: ${image} }] }`,
          'machines:',
          `  - mac: ${mac}`,
          '    name: bench-boot',
          `    boot: { kind: sanboot, disks: [{ target: ${DISKLESS_IQN} }] }`,
          'unknownMachines: not-registered',
          '',
        ].join('\n'),
      );
      // As test/interop/e2e-netboot.test.ts starts it.
      const [cmd, args] = inNs([
        process.execPath,
        join(ROOT, 'bin', 'diskless.js'),
        'serve',
        '--config',
        config,
        '--dhcp',
        'full',
        '--interface',
        BRIDGE,
        '--pool',
        '10.250.0.100-10.250.0.150',
        '--data-dir',
        join(dir, 'data'),
        '--log-level',
        'info',
      ]);
      const server = startServer('diskless', cmd, args);
      const stop = (): Promise<void> => stopServer(server, 5000);
      try {
        await waitUntil(
          'diskless to serve, with its IPv6 router advertisements on',
          () => {
            checkAlive([server]);
            const out = server.output();
            if (/router advertisements are off/.test(out)) throw new Error(`diskless runs without its RA responder, so iPXE would wait ~10 s for IPv6:\n${out.slice(-2000)}`);
            return /diskless is serving/.test(out) && /answering IPv6 router solicitations on br0/.test(out);
          },
          30_000,
        );
      } catch (err) {
        await stop();
        throw err;
      }
      return { output: () => tails([server]), stop };
    },
  };
}

// ---------------------------------------------------------------------------------------------
// One boot

export interface BootResult {
  readonly ok: boolean;
  /** From starting qemu-boot.sh to its exit. */
  readonly ms: number;
  /** qemu-boot.sh's output (PASS/FAIL line; on failure the last console lines). */
  /**
   * From starting qemu-boot.sh to the expected CRC and DONE in the serial log, polled every
   * 20 ms here (qemu-boot.sh itself looks every 0.5 s, so its exit comes up to 0.5 s later).
   */
  readonly crcMs: number | null;
  readonly out: string;
  readonly note?: string;
}

/** Watches the serial log for what qemu-boot.sh counts as success; returns the ms it first saw it. */
function watchSerialLog(path: string, crc: string, start: bigint): { seen(): number | null; stop(): void } {
  let seenMs: number | null = null;
  let size = -1;
  const timer = setInterval(() => {
    try {
      const now = statSync(path).size;
      if (now === size) return;
      size = now;
      const log = readFileSync(path, 'latin1');
      if (log.includes(`CRC32=${crc}`) && log.includes('DONE')) {
        seenMs = Number(process.hrtime.bigint() - start) / 1e6;
        clearInterval(timer);
      }
    } catch {
      // not written yet
    }
  }, 20);
  return { seen: () => seenMs, stop: () => clearInterval(timer) };
}

/**
 * Runs `qemu-boot.sh -m b` in its own process group (so that Ctrl-C ends QEMU too) and times it.
 * It passes on exit 0, or, as test/helpers/qemu-boot.ts allows, on "FAIL: qemu-exited" when the
 * serial log has the expected CRC and DONE: the harness looks at the log and then checks QEMU is
 * alive, so a guest that ends QEMU in between was reported dead although it had booted.
 */
export function qemuBoot(options: { crc: string; mac: string; serialLog: string; timeoutSeconds: number }): Promise<BootResult> {
  return new Promise((resolveBoot, reject) => {
    const args = [join(E2E, 'qemu-boot.sh'), '-m', 'b', '-c', options.crc, '-n', `e1000,mac=${options.mac}`, '-t', String(options.timeoutSeconds), '-l', options.serialLog];
    // BENCH_BOOT_PCAP=1: the guest's packets beside its serial log (qemu-boot.sh -p), to see where a boot waits.
    if (process.env.BENCH_BOOT_PCAP === '1') args.push('-p', options.serialLog.replace(/\.log$/, '') + '.pcap');
    rmSync(options.serialLog, { force: true });
    const start = process.hrtime.bigint();
    const watch = watchSerialLog(options.serialLog, options.crc, start);
    const child = spawn('bash', args, { stdio: ['ignore', 'pipe', 'pipe'], detached: true, env: NETNS_ENV });
    const killGroup = (): void => {
      if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return;
      try {
        process.kill(-child.pid, 'SIGKILL');
      } catch {
        // gone
      }
    };
    const unregister = onCleanup(killGroup);
    const timer = setTimeout(killGroup, (options.timeoutSeconds + 30) * 1000);
    let out = '';
    const keep = (d: Buffer): void => {
      out = (out + d.toString()).slice(-20_000);
    };
    child.stdout.on('data', keep);
    child.stderr.on('data', keep);
    child.on('error', (err) => {
      clearTimeout(timer);
      watch.stop();
      unregister();
      reject(err);
    });
    child.on('close', (code) => {
      const ms = Number(process.hrtime.bigint() - start) / 1e6;
      clearTimeout(timer);
      watch.stop();
      unregister();
      const crcMs = watch.seen();
      if (code === 0) return resolveBoot({ ok: true, ms, crcMs, out });
      if (/FAIL: qemu-exited/.test(out) && existsSync(options.serialLog)) {
        const log = readFileSync(options.serialLog, 'latin1');
        if (log.includes(`CRC32=${options.crc}`) && log.includes('DONE')) {
          return resolveBoot({ ok: true, ms, crcMs, out, note: 'qemu-boot.sh said qemu-exited, but the serial log has the CRC and DONE' });
        }
      }
      resolveBoot({ ok: false, ms, crcMs, out });
    });
  });
}
