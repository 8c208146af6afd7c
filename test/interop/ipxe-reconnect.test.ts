// Issue 8: the server restarts under a live iPXE SAN session. ../shared/e2e mode b: iPXE in QEMU
// gets DHCP, its script and the iSCSI disk from one `diskless serve` in this test's namespace;
// its boot sector reads SECTORS sectors through INT 13h (several seconds under TCG). While it
// reads, the server is SIGKILLed and started again on the same data dir and configuration.
// iPXE's SAN layer (src/core/sanboot.c) sees the connection close, fails the command in flight,
// reopens the iSCSI URI (a new login: new ISID, TSIH 0) and retries: a refused reopen waits 5 s
// (SAN_REOPEN_DELAY_SECS) and counts as one of the command's 10 retries, so the server must be
// back within about 45 s. The guest spends most of its time on its CRC between READs, so a plain
// kill usually finds no command outstanding; the second test stops the server first so that one
// is. Each passes only if the guest prints the image's CRC and the restarted server saw the same
// initiator log in again. Needs root (network namespaces).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { needTools, run, setupReady } from '../helpers/tools.ts';
import { E2E, makeBootImage, qemuBoot } from '../helpers/qemu-boot.ts';

const NS = 'dl-ipxe-rc';
const BOOT_IQN = 'iqn.2026-11.org.diskless.e2e:reconnect';
// The boot sector's sector count is 16 bits: 65535 sectors (32 MiB) is the most it reads, about
// 3.5 s under TCG here (~10 MB/s over the tap, CRC included), so a kill 1 s after the boot sector
// starts lands early in the reads (the test checks that no CRC was printed yet).
const SECTORS = '65535';
const KILL_AFTER_MS = 1000;
const TOOLS = { 'qemu-system-x86_64': 'qemu-system-x86', nasm: 'nasm', ip: 'iproute2' };
const env = { ...process.env, NS, TAP: 'tap0', SECTORS };

interface Instance {
  readonly child: ChildProcess;
  log: string;
}

interface LoginLine {
  readonly time: number;
  readonly initiator: string;
  readonly target: string;
}

/** The "login complete" lines of a server's JSON log. */
function logins(log: string): LoginLine[] {
  const out: LoginLine[] = [];
  for (const line of log.split('\n')) {
    if (!line.includes('login complete')) continue;
    try {
      const entry = JSON.parse(line) as { time?: number; initiator?: string; target?: string; msg?: string };
      if (entry.msg === 'login complete' && typeof entry.initiator === 'string') out.push({ time: entry.time ?? 0, initiator: entry.initiator, target: entry.target ?? '' });
    } catch {
      // not a JSON line
    }
  }
  return out;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('iPXE carries on after the server is SIGKILLed and restarted under its SAN session (e2e mode b)', { concurrency: false }, () => {
  let dir = '';
  let image = '';
  let skipReason: string | null = null;
  const instances: Instance[] = [];

  function serve(): Instance {
    const child = spawn(
      'ip',
      ['netns', 'exec', NS, process.execPath, 'bin/diskless.js', 'serve', '--config', join(dir, 'diskless.yaml'), '--dhcp', 'full', '--interface', 'br0', '--pool', '10.250.0.100-10.250.0.150', '--data-dir', dir, '--log-level', 'info'],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    const instance: Instance = { child, log: '' };
    child.stdout?.on('data', (d: Buffer) => (instance.log += d.toString()));
    child.stderr?.on('data', (d: Buffer) => (instance.log += d.toString()));
    instances.push(instance);
    return instance;
  }

  async function serving(instance: Instance): Promise<void> {
    const deadline = Date.now() + 20000;
    while (!/diskless is serving/.test(instance.log)) {
      if (Date.now() > deadline || instance.child.exitCode !== null || instance.child.signalCode !== null) throw new Error(`diskless did not start:\n${instance.log}`);
      await sleep(20);
    }
  }

  before(async () => {
    if (process.getuid?.() !== 0) {
      skipReason = 'needs root for network namespaces';
      return;
    }
    dir = mkdtempSync(join(tmpdir(), 'diskless-ipxe-reconnect-'));
    image = join(dir, 'bootcheck.img');
    await makeBootImage(image, SECTORS);
    writeFileSync(
      join(dir, 'diskless.yaml'),
      [
        'targets:',
        `  - { iqn: ${BOOT_IQN}, luns: [{ lun: 0, path: ${image} }] }`,
        `unknownMachines: { kind: sanboot, disks: [{ target: ${BOOT_IQN} }] }`,
      ].join('\n'),
    );
    await run('bash', [join(E2E, 'netns.sh'), 'down'], { env });
    const up = await run('bash', [join(E2E, 'netns.sh'), 'up'], { env });
    if (up.code !== 0) throw new Error(`netns.sh up failed: ${up.stderr}`);
    await serving(serve());
  });

  after(async () => {
    for (const { child } of instances) if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    await sleep(300);
    for (const { child } of instances) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    if (process.getuid?.() === 0) await run('bash', [join(E2E, 'netns.sh'), 'down'], { env });
    if (dir !== '') rmSync(dir, { recursive: true, force: true });
  });

  const ready = (t: { skip: (reason: string) => void; name: string }): boolean => setupReady(t, skipReason, image);

  /**
   * Boots the guest against the running server, kills that server KILL_AFTER_MS into the reads
   * (with `freeze`, SIGSTOP first and SIGKILL 300 ms later, so that the guest's next READ is
   * surely waiting unanswered in the dead server's socket), starts it again and waits for the CRC.
   */
  async function killDuringReads(freeze: boolean, name: string): Promise<void> {
    const serial = join(dir, `${name}.log`);
    const readSerial = () => {
      try {
        return readFileSync(serial, 'latin1');
      } catch {
        return '';
      }
    };
    const first = instances.at(-1) ?? assert.fail('no server');
    const started = Date.now();
    const booting = qemuBoot({ args: ['-m', 'b', '-t', '150'], image, serialLog: serial, env });
    let finished = false;
    void booting.finally(() => (finished = true));

    // The read phase: the boot sector prints SANBOOT-OK just before its first INT 13h read.
    while (!/SANBOOT-OK drive=80/.test(readSerial())) {
      if (finished) assert.fail(`the guest never reached its boot sector:\n${(await booting).stderr}\n--- server ---\n${first.log.slice(-3000)}`);
      await sleep(50);
    }
    const readStart = Date.now();
    await sleep(KILL_AFTER_MS);
    if (freeze) {
      first.child.kill('SIGSTOP');
      await sleep(300);
    }
    const atKill = readSerial();
    assert.doesNotMatch(atKill, /CRC32=/, 'the guest finished reading before the kill: raise SECTORS');
    const firstLogins = logins(first.log).filter((l) => l.target === BOOT_IQN && l.time >= started);
    assert.equal(firstLogins.length, 1, `one login before the kill:\n${first.log.slice(-3000)}`);
    const initiator = firstLogins[0]?.initiator ?? '';

    const killedAt = Date.now();
    first.child.kill('SIGKILL');
    await new Promise((r) => (first.child.exitCode !== null || first.child.signalCode !== null ? r(null) : first.child.once('exit', r)));
    const second = serve();
    await serving(second);
    const servingAt = Date.now();

    const r = await booting;
    const doneAt = Date.now();
    const relogin = logins(second.log).find((l) => l.target === BOOT_IQN);
    let explained = '';
    const code = /Error (0x[0-9a-f]{8})/.exec(readSerial())?.[1];
    if (r.code !== 0 && code !== undefined) explained = (await run(process.execPath, ['bin/diskless.js', 'explain', code])).stdout;
    assert.equal(r.code, 0, `qemu-boot.sh failed after the restart:\n${r.stdout}\n${r.stderr}\n${explained}\n--- killed server ---\n${first.log.slice(-2000)}\n--- restarted server ---\n${second.log.slice(-4000)}`);
    assert.match(r.stdout, /PASS: SAN boot OK/);

    assert.ok(relogin !== undefined, `the restarted server saw a login to ${BOOT_IQN}:\n${second.log.slice(-4000)}`);
    assert.equal(relogin.initiator, initiator, 'the same initiator logged in again');
    // The boot timeline of the restarted server has that login too.
    const events = await run('ip', ['netns', 'exec', NS, 'curl', '-s', 'http://10.250.0.1:8080/api/events']);
    const relogins = (JSON.parse(events.stdout) as Array<{ at: number; kind: string; detail: { initiator?: string; target?: string } }>).filter(
      (e) => e.kind === 'iscsi-login' && e.at >= killedAt && e.detail.initiator === initiator && e.detail.target === BOOT_IQN,
    );
    assert.ok(relogins.length >= 1, `an iscsi-login event after the restart:\n${events.stdout.slice(-3000)}`);

    const crc = /CRC32=([0-9a-f]{8})/.exec(r.stdout)?.[1] ?? '?';
    process.stderr.write(
      `ipxe-reconnect (${name}): boot sector started at +${((readStart - started) / 1000).toFixed(1)} s, killed ${killedAt - readStart} ms into the reads${freeze ? ' (stopped 300 ms before)' : ''}; ` +
        `server down ${servingAt - killedAt} ms (SIGKILL to serving); iPXE logged in again ${relogin.time - killedAt} ms after the kill; ` +
        `guest done ${((doneAt - killedAt) / 1000).toFixed(1)} s after the kill, CRC32=${crc} over ${SECTORS} sectors\n`,
    );
  }

  test('SIGKILL + restart while the guest reads through INT 13h: iPXE logs in again and the CRC matches', async (t) => {
    if (!needTools(t, TOOLS) || !ready(t)) return;
    await killDuringReads(false, 'kill');
  });

  test('the same with a READ in flight at the kill (server stopped first): iPXE re-issues it on the new session', async (t) => {
    if (!needTools(t, TOOLS) || !ready(t)) return;
    await killDuringReads(true, 'stop-kill');
  });
});
