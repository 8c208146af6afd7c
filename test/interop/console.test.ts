// The web console in a real browser, watching a real network boot (../shared/e2e mode b):
// diskless serves DHCP, TFTP, HTTP and iSCSI in a namespace; the console adds the machine through
// its form, QEMU boots it, and the machine's timeline in the page fills with the boot's steps.
// Needs root (network namespaces), QEMU, and Debian's chromium.
//
// How the browser reaches the server: the server lives in the namespace, on the bridge that
// QEMU's tap joins (10.250.0.1), which the root namespace cannot reach. Rather than plumb a
// veth pair or a forwarder, the browser itself runs in the namespace (`ip netns exec`, see
// test/helpers/browser.ts): Playwright drives it over pipes, so only the page's own traffic
// goes through the namespace, to the same address the booting machine uses.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { Page } from 'playwright-core';
import { launchBrowser, needBrowser, type LaunchedBrowser } from '../helpers/browser.ts';
import { needTools, run, setupReady } from '../helpers/tools.ts';
import { E2E, makeBootImage, qemuBoot } from '../helpers/qemu-boot.ts';

const NS = 'dl-console';
const SERVER = '10.250.0.1';
const HTTP_PORT = 8080;
const BOOT_IQN = 'iqn.2026-11.org.diskless.console:boot';
const MAC = '52:54:00:c0:05:01';
const TOOLS = { 'qemu-system-x86_64': 'qemu-system-x86', nasm: 'nasm', ip: 'iproute2' };
const ARTIFACTS = resolve('test-artifacts');
const env = { ...process.env, NS, TAP: 'tap0' };
const STEP_TIMEOUT_MS = 180000;

describe('the web console follows a machine it added through a network boot', { concurrency: false }, () => {
  let dir = '';
  let image = '';
  let server: ChildProcess | null = null;
  let serverLog = '';
  let skipReason: string | null = null;
  let launched: LaunchedBrowser | null = null;
  let page: Page | null = null;
  /** Set once the first test added the machine through the form; the second boots it again. */
  let machineAdded = false;
  const pageErrors: string[] = [];

  before(async () => {
    if (process.getuid?.() !== 0) {
      skipReason = 'needs root for network namespaces';
      return;
    }
    dir = mkdtempSync(join(tmpdir(), 'diskless-console-'));
    image = join(dir, 'bootcheck.img');
    await makeBootImage(image);
    // No machines: the console adds the one that boots. Until then it would be told it is not registered.
    writeFileSync(join(dir, 'diskless.yaml'), [`targets:`, `  - { iqn: ${BOOT_IQN}, luns: [{ lun: 0, path: ${image} }] }`, `unknownMachines: not-registered`].join('\n'));
    await run('bash', [join(E2E, 'netns.sh'), 'down'], { env });
    const up = await run('bash', [join(E2E, 'netns.sh'), 'up'], { env });
    if (up.code !== 0) throw new Error(`netns.sh up failed: ${up.stderr}`);
    server = spawn(
      'ip',
      ['netns', 'exec', NS, process.execPath, 'bin/diskless.js', 'serve', '--config', join(dir, 'diskless.yaml'), '--dhcp', 'full', '--interface', 'br0', '--pool', '10.250.0.100-10.250.0.150', '--http-port', String(HTTP_PORT), '--data-dir', dir, '--log-level', 'info'],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    server.stdout?.on('data', (d: Buffer) => (serverLog += d.toString()));
    server.stderr?.on('data', (d: Buffer) => (serverLog += d.toString()));
    const deadline = Date.now() + 20000;
    while (!/diskless is serving/.test(serverLog)) {
      if (Date.now() > deadline || server.exitCode !== null) throw new Error(`diskless did not start:\n${serverLog}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  });

  after(async () => {
    await launched?.close();
    server?.kill('SIGTERM');
    await new Promise((r) => setTimeout(r, 300));
    server?.kill('SIGKILL');
    if (process.getuid?.() === 0) await run('bash', [join(E2E, 'netns.sh'), 'down'], { env });
    if (dir !== '') {
      mkdirSync(ARTIFACTS, { recursive: true });
      writeFileSync(join(ARTIFACTS, 'console-server.log'), serverLog);
      rmSync(dir, { recursive: true, force: true });
    }
  });

  const ready = (t: { skip: (reason: string) => void; name: string }): boolean => setupReady(t, skipReason, image);

  async function boot(args: string[], log: string) {
    return qemuBoot({ args: ['-m', 'b', '-t', '150', ...args], image, serialLog: join(dir, log), env });
  }

  /** Waits until the timeline step shows `state`; on timeout says what the page showed instead. */
  async function stepReaches(p: Page, step: string, state: string): Promise<void> {
    try {
      await p.locator(`[data-testid="timeline-step-${step}"][data-state="${state}"]`).waitFor({ timeout: STEP_TIMEOUT_MS });
    } catch (err) {
      const shown = await p.getByTestId('timeline-panel').innerText().catch(() => '(no timeline)');
      throw new Error(`timeline step ${step} never became ${state}: ${String(err)}\n--- timeline ---\n${shown}\n--- server log ---\n${serverLog.slice(-3000)}`, { cause: err });
    }
  }

  async function screenshot(p: Page, name: string): Promise<string> {
    mkdirSync(ARTIFACTS, { recursive: true });
    const path = join(ARTIFACTS, name);
    await p.screenshot({ path, fullPage: true });
    return path;
  }

  test('add the machine in the console, boot it (BIOS), watch DHCP → script → iSCSI login → first read', async (t) => {
    if (!needTools(t, TOOLS) || !needBrowser(t) || !ready(t)) return;
    launched = await launchBrowser({ netns: NS });
    page = await launched.browser.newPage({ viewport: { width: 1280, height: 900 } });
    page.on('pageerror', (err) => pageErrors.push(err.message));
    const p = page;

    const landing = await p.goto(`http://${SERVER}:${HTTP_PORT}/`);
    assert.equal(landing?.status(), 200, 'the console is served (is registerConsoleRoutes wired into src/http/server.ts?)');
    assert.equal(new URL(p.url()).pathname, '/console/', '/ redirects to the console');
    await p.locator('[data-testid="live"][data-state="live"]').waitFor({ timeout: 10000 });

    // The form asks for the token once; it is the one the server wrote into its data dir.
    const token = readFileSync(join(dir, 'api-token'), 'utf8').trim();
    await p.getByTestId('token-input').fill(token);
    await p.getByTestId('add-mac').fill(MAC.toUpperCase().replace(/:/g, '-'));
    await p.getByTestId('add-name').fill('console-pc');
    await p.getByTestId('add-source-target').check();
    await p.getByTestId('add-target').fill(BOOT_IQN);
    await p.getByTestId('add-submit').click();
    await p.getByTestId('add-message').filter({ hasText: /^Added console-pc/ }).waitFor({ timeout: 10000 });
    machineAdded = true;
    assert.equal(await p.getByTestId('token-input').isVisible(), false, 'the token is kept, not asked for again');
    assert.match(await p.getByTestId(`machine-row-${MAC}`).innerText(), /console-pc[\s\S]*sanboot iqn\.2026-11\.org\.diskless\.console:boot/);
    await p.getByTestId('timeline-empty').waitFor({ timeout: 10000 }); // selected, nothing yet

    const booting = boot(['-n', `e1000,mac=${MAC}`], 'bios.log');
    for (const step of ['dhcp', 'script', 'login', 'read']) await stepReaches(p, step, 'ok');
    // QEMU's NIC ROM is iPXE: it asks for its script over HTTP straight away, no TFTP.
    await stepReaches(p, 'tftp', 'skipped');
    const r = await booting;
    assert.equal(r.code, 0, `${r.stdout}\n${r.stderr}\n--- server log ---\n${serverLog.slice(-3000)}`);
    assert.match(r.stdout, /PASS: SAN boot OK/);

    for (const step of ['dhcp', 'script', 'login', 'read']) {
      assert.match(await p.getByTestId(`timeline-time-${step}`).innerText(), /^\+\d+(\.\d+)? s$/, `${step} has a time after the first event`);
    }
    assert.match(await p.getByTestId('timeline-step-login').innerText(), /iqn\.2026-11\.org\.diskless\.console:boot/);
    assert.match(await p.getByTestId(`machine-state-${MAC}`).innerText(), /reading disk|logged out|connection lost/);
    // QEMU is gone but its session lasts until the NOP-In timeout: the sessions table shows it.
    await p.locator('[data-testid="session-row"]', { hasText: BOOT_IQN }).first().waitFor({ timeout: 10000 });
    const shot = await screenshot(p, 'console-timeline.png');
    t.diagnostic(`screenshot: ${shot}`);
    assert.deepEqual(pageErrors, [], 'no script errors in the page');
  });

  test('UEFI without an iPXE ROM: the next boot adds the TFTP step (ipxe.efi)', async (t) => {
    if (!needTools(t, TOOLS) || !needBrowser(t) || !ready(t)) return;
    if (!existsSync('/usr/share/ovmf/OVMF.fd')) throw new Error('/usr/share/ovmf/OVMF.fd is missing: apt-get install ovmf');
    const p = page;
    assert.ok(p !== null && machineAdded, 'the BIOS test opened the console and added the machine: see its failure');
    // This MBR image cannot boot under UEFI (no EFI system partition), so qemu-boot.sh reports
    // boot-failed after iPXE has read the disk; the timeline up to the first read is what counts.
    // After the failed sanboot iPXE keeps retrying, so the boot is cut short (-t 60; it reaches
    // the first read in about 20 s) and the page is checked before QEMU is gone.
    const booting = boot(['-f', 'uefi', '-n', `virtio-net-pci,romfile=,mac=${MAC}`, '-t', '60'], 'uefi.log');
    try {
      await p.getByTestId('timeline-attempt').waitFor({ timeout: STEP_TIMEOUT_MS }); // a second boot attempt
      for (const step of ['dhcp', 'tftp', 'script', 'login', 'read']) await stepReaches(p, step, 'ok');
      assert.match(await p.getByTestId('timeline-step-tftp').innerText(), /ipxe\.efi/);
      assert.match(await p.getByTestId('timeline-step-dhcp').innerText(), /\d+ rounds/, 'the firmware and then iPXE asked');
      const shot = await screenshot(p, 'console-timeline-uefi.png');
      t.diagnostic(`screenshot: ${shot}`);
      assert.deepEqual(pageErrors, [], 'no script errors in the page');
    } finally {
      await booting;
    }
  });
});
