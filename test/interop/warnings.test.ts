// Warnings the server raises by itself from live traffic (issue 7), produced for real: libiscsi
// tools log in to a target that does not exist, ask for a LUN that does not exist, give a wrong
// CHAP secret, ask a target without mutual CHAP to prove itself, and log in without reading LBA 0;
// qemu-io reads LBA 0 as two machines would (a blank disk hooked without keep-san, an MBR disk
// under a machine whose real DHCPDISCOVER said UEFI). Each warning must be in the log (pino
// warn), in GET /api/warnings with its machine, code, text and fix, and on the machine's boot
// timeline; GET /api/explain explains the codes, and the console links the timeline's warnings
// to those explanations (chromium). Loopback only.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createSocket } from 'node:dgram';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildRequest, PXE_EFI64_VENDOR } from '../../src/dhcp/test-requests.ts';
import { MessageType } from '../../src/dhcp/wire/option-codes.ts';
import { encodeDhcpMessage } from '../../src/dhcp/wire/packet.ts';
import type { LiveWarning } from '../../src/doctor/warning-types.ts';
import type { BootEvent } from '../../src/events/boot-events.ts';
import { mbrSector } from '../../src/doctor/test-disk-images.ts';
import { startLoggedServer, type LoggedServer } from '../helpers/logged-server.ts';
import { patternedImage } from '../helpers/server.ts';
import { needTools, run, freeUdpPort } from '../helpers/tools.ts';
import { launchBrowser, needBrowser } from '../helpers/browser.ts';

const OPEN = 'iqn.2026-11.org.diskless.warn:open';
const CHAP = 'iqn.2026-11.org.diskless.warn:chap';
const ONE_WAY = 'iqn.2026-11.org.diskless.warn:oneway';
const BLANK = 'iqn.2026-11.org.diskless.warn:blank';
const MBR = 'iqn.2026-11.org.diskless.warn:mbr';
const INSTALLER_MAC = '52:54:00:77:00:01';
const UEFI_MAC = '52:54:00:77:00:02';
const alice = { user: 'alice', secret: 'alice-secret-1234' };
const mutual = { user: 'tgt', secret: 'target-secret-5678' };
const DISK_BYTES = 4 * 1024 * 1024;


const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('warnings from live traffic', () => {
  let s: LoggedServer;
  let httpPort = 0;
  let iscsiPort = 0;
  let dhcpPort = 0;

  const get = async <T>(path: string): Promise<T> => {
    const response = await fetch(`http://127.0.0.1:${httpPort}${path}`);
    assert.equal(response.status, 200, `${path}: ${await response.clone().text()}`);
    return (await response.json()) as T;
  };
  const warnings = (code: string) => get<LiveWarning[]>('/api/warnings').then((all) => all.filter((w) => w.code === code));
  /** Waits for a warning of this code (the log and the API are fed from one place). */
  const waitFor = async (code: string, timeoutMs = 5000): Promise<LiveWarning> => {
    for (const started = Date.now(); Date.now() - started < timeoutMs; await sleep(50)) {
      const found = await warnings(code);
      if (found.length > 0) return found[found.length - 1] as LiveWarning;
    }
    return assert.fail(`no ${code} warning; have: ${JSON.stringify(await get('/api/warnings'))}`);
  };
  const warnLines = (): Array<{ level: number; code?: string; msg: string; fix?: string }> =>
    s
      .logs()
      .split('\n')
      .filter((line) => line.includes('"level":40'))
      .map((line) => JSON.parse(line) as { level: number; code?: string; msg: string; fix?: string });
  const url = (target: string, lun: number, credentials = '', query = '') => `iscsi://${credentials}127.0.0.1:${iscsiPort}/${target}/${lun}${query}`;
  /** Reads LBA 0 as qemu's initiator does; `mac`'s script fetch first ties 127.0.0.1 to that machine. */
  const readLba0As = async (mac: string, target: string) => {
    const script = await fetch(`http://127.0.0.1:${httpPort}/boot.ipxe?mac=${mac}`);
    assert.equal(script.status, 200);
    const r = await run('qemu-io', ['-r', '--image-opts', `driver=iscsi,transport=tcp,portal=127.0.0.1:${iscsiPort},target=${target},lun=0`, '-c', 'read 0 512']);
    assert.equal(r.code, 0, r.stderr);
  };

  before(async () => {
    dhcpPort = await freeUdpPort();
    s = await startLoggedServer(
      (dir) => {
        const disk = (name: string, first?: Buffer) => {
          const path = join(dir, `${name}.img`);
          if (first === undefined) patternedImage(path, DISK_BYTES);
          else writeFileSync(path, Buffer.concat([first, Buffer.alloc(DISK_BYTES - first.length)]));
          return path;
        };
        return {
          targets: [
            { iqn: OPEN, luns: [{ lun: 0, path: disk('open') }] },
            { iqn: CHAP, luns: [{ lun: 0, path: disk('chap') }], chap: alice, mutualChap: mutual },
            { iqn: ONE_WAY, luns: [{ lun: 0, path: disk('oneway') }], chap: alice },
            { iqn: BLANK, luns: [{ lun: 0, path: disk('blank', Buffer.alloc(512)) }] },
            { iqn: MBR, luns: [{ lun: 0, path: disk('mbr', mbrSector([0x83])) }] },
          ],
          machines: [
            { mac: INSTALLER_MAC, name: 'installer', boot: { kind: 'sanboot', disks: [{ target: BLANK, lun: 0 }] } },
            { mac: UEFI_MAC, name: 'uefipc', boot: { kind: 'sanboot', disks: [{ target: MBR, lun: 0 }] } },
          ],
          dhcp: { mode: 'full', port: dhcpPort, proxyPort: dhcpPort, subnetMask: '255.0.0.0', pool: { first: '127.0.0.100', last: '127.0.0.200' } },
          tftp: { port: 0 },
        };
      },
      'info',
    );
    httpPort = s.server.httpPort;
    iscsiPort = s.server.iscsiPort;
  });
  after(async () => s.stop());

  test('libiscsi: a target that does not exist, a LUN that does not exist, a wrong CHAP secret, mutual CHAP the target lacks, no read of LBA 0', async (t) => {
    if (!needTools(t, { 'iscsi-inq': 'libiscsi-bin' })) return;
    const typo = await run('iscsi-inq', [url('iqn.2026-11.org.diskless.warn:opne', 0)]);
    assert.notEqual(typo.code, 0);
    const noTarget = await waitFor('no-such-target');
    assert.match(noTarget.text, /\(127\.0\.0\.1\) asked for target iqn\.2026-11\.org\.diskless\.warn:opne, which does not exist; did you mean iqn\.2026-11\.org\.diskless\.warn:open\?$/);
    assert.equal(noTarget.fix, `point the machine at ${OPEN}: diskless machine set MACHINE --disk ${OPEN}@0`);
    assert.deepEqual([noTarget.ipxeError, noTarget.ip, noTarget.target], ['0x2c0d603b', '127.0.0.1', 'iqn.2026-11.org.diskless.warn:opne']);

    await run('iscsi-inq', [url(OPEN, 3)]);
    const noLun = await waitFor('no-such-lun');
    assert.match(noLun.text, new RegExp(`sent [A-Z ()0-9]+ to LUN 3 of ${OPEN.replace(/\./g, '\\.')}, which has LUN 0$`));
    assert.deepEqual([noLun.lun, noLun.ipxeError, noLun.fix], [3, '0x1d704039', `use LUN 0: diskless machine set MACHINE --disk ${OPEN}@0`]);

    const wrong = await run('iscsi-inq', [url(CHAP, 0, `${alice.user}%wrong-secret-000@`)]);
    assert.notEqual(wrong.code, 0);
    const chap = await waitFor('chap-failed');
    // The portal refuses the CHAP response PDU, which names no one; the names of the login's first PDU are kept.
    assert.equal(chap.text, `iqn.2007-10.com.github:sahlberg:libiscsi:iscsi-inq (127.0.0.1) failed CHAP for ${CHAP}: wrong CHAP secret`);
    assert.deepEqual([chap.ipxeError, chap.ip], ['0x410d613c', '127.0.0.1']);

    const unproven = await run('iscsi-inq', [url(ONE_WAY, 0, `${alice.user}%${alice.secret}@`, `?target_user=${mutual.user}&target_password=${mutual.secret}`)]);
    assert.notEqual(unproven.code, 0, 'the target cannot prove itself');
    const mutualChap = await waitFor('mutual-chap-mismatch');
    assert.equal(mutualChap.text, `iqn.2007-10.com.github:sahlberg:libiscsi:iscsi-inq (127.0.0.1) asked ${ONE_WAY} to prove itself (mutual CHAP), and it has no mutual CHAP credentials`);

    // The target proves itself with a secret the initiator does not hold: libiscsi hangs up.
    const rejected = await run('iscsi-inq', [url(CHAP, 0, `${alice.user}%${alice.secret}@`, `?target_user=${mutual.user}&target_password=not-the-target-secret`)]);
    assert.notEqual(rejected.code, 0, "the initiator does not accept the target's proof");
    let hangup: LiveWarning | undefined;
    for (const started = Date.now(); hangup === undefined && Date.now() - started < 5000; await sleep(50)) {
      hangup = (await warnings('mutual-chap-mismatch')).find((w) => /hung up/.test(w.text));
    }
    assert.ok(hangup !== undefined, `no hang-up warning; have: ${JSON.stringify(await warnings('mutual-chap-mismatch'))}`);
    assert.equal(hangup.text, `iqn.2007-10.com.github:sahlberg:libiscsi:iscsi-inq (127.0.0.1) hung up after ${CHAP} answered its mutual CHAP challenge: the target's mutual CHAP credentials are not the ones the initiator expects`);

    const inq = await run('iscsi-inq', [url(OPEN, 0)]);
    assert.equal(inq.code, 0, inq.stderr);
    const unread = await waitFor('no-first-read');
    assert.match(unread.text, new RegExp(`logged in to ${OPEN.replace(/\./g, '\\.')} at \\d\\d:\\d\\d:\\d\\d and logged out without reading LBA 0$`));
    assert.equal((await warnings('no-first-read')).length, 1, 'the wrong-LUN session, which never read either, is not said twice');

    // The log: one warn line per warning, with the code, the fix and the text.
    const lines = warnLines();
    for (const code of ['no-such-target', 'no-such-lun', 'chap-failed', 'mutual-chap-mismatch', 'no-first-read']) {
      const line = lines.find((l) => l.code === code);
      assert.ok(line !== undefined, `no warn line for ${code} in ${JSON.stringify(lines)}`);
      assert.ok(line.fix !== undefined && line.fix !== '', `the ${code} line carries the fix`);
    }
    assert.equal(lines.find((l) => l.code === 'no-such-target')?.msg, noTarget.text);
    assert.doesNotMatch(s.logs(), new RegExp(alice.secret), 'no secret in the log');
  });

  test('qemu-io as the machines: a blank disk hooked without keep-san; an MBR disk under a UEFI DHCP request', async (t) => {
    if (!needTools(t, { 'qemu-io': 'qemu-utils qemu-block-extra' })) return;
    await readLba0As(INSTALLER_MAC, BLANK);
    const install = await waitFor('install-without-keep-san');
    assert.deepEqual([install.mac, install.machine, install.target, install.ipxeError], [INSTALLER_MAC, 'installer', BLANK, '0x2e852001']);
    assert.match(install.fix, /"kind": "install"/);

    // A real UEFI PXE DISCOVER (option 93 = 7) from the machine, to the server's DHCP port.
    const client = createSocket('udp4');
    await new Promise<void>((resolve) => client.send(encodeDhcpMessage(buildRequest({ type: MessageType.Discover, mac: UEFI_MAC, arch: 7, vendorClass: PXE_EFI64_VENDOR })), dhcpPort, '127.0.0.1', () => resolve()));
    client.close();
    for (let i = 0; i < 40 && !(await get<BootEvent[]>(`/api/events?mac=${UEFI_MAC}`)).some((e) => e.detail.arch === 7); i++) await sleep(50);
    await readLba0As(UEFI_MAC, MBR);
    const uefi = await waitFor('uefi-mbr-disk');
    assert.deepEqual([uefi.mac, uefi.machine, uefi.ipxeError], [UEFI_MAC, 'uefipc', '0x7f22208e']);
    assert.equal(uefi.text, `uefipc boots with UEFI (its DHCP request said so) and ${MBR}@0 is an MBR disk without an EFI system partition: UEFI finds nothing to boot`);

    // On the machine's timeline (what the console draws), and filtered by MAC in the API.
    const timeline = await get<BootEvent[]>(`/api/events?mac=${INSTALLER_MAC}`);
    const event = timeline.find((e) => e.kind === 'warning');
    assert.deepEqual([event?.outcome, event?.detail.code, event?.detail.fix], [install.text, 'install-without-keep-san', install.fix]);
    assert.deepEqual((await get<LiveWarning[]>(`/api/warnings?mac=${UEFI_MAC}`)).map((w) => w.code), ['uefi-mbr-disk']);
    // And the doctor shows what the server saw.
    const report = await get<{ steps: Array<{ id: string; status: string }> }>(`/api/machines/uefipc/doctor?firmware=bios`);
    assert.deepEqual(report.steps.filter((x) => x.id.startsWith('history:warning:')).map((x) => [x.id, x.status]), [['history:warning:uefi-mbr-disk', 'warn']]);
  });

  test('the console: the warning on the machine\'s timeline links to its explanation and to the iPXE code\'s', async (t) => {
    if (!needTools(t, { 'qemu-io': 'qemu-utils qemu-block-extra' }) || !needBrowser(t)) return;
    const launched = await launchBrowser();
    try {
      const page = await launched.browser.newPage();
      const problems: string[] = [];
      page.on('pageerror', (err) => problems.push(err.message));
      page.on('console', (message) => {
        if (message.type() === 'error') problems.push(message.text());
      });
      await page.goto(`http://127.0.0.1:${httpPort}/console/#mac=${INSTALLER_MAC}`);
      const warning = page.getByTestId('timeline-warning-install-without-keep-san');
      await warning.waitFor({ timeout: 10000 });
      assert.match(await warning.innerText(), /a blank disk[\s\S]*Fix: boot it with an install entry/);
      await warning.getByTestId('explain-install-without-keep-san').click();
      const explanation = page.getByTestId('timeline-explanation');
      await explanation.locator('[data-testid="explanation-text"]').waitFor({ timeout: 10000 });
      assert.match(await explanation.innerText(), /^install-without-keep-san: install flow without keep-san/);
      await warning.getByTestId('explain-0x2e852001').click();
      await page.locator('[data-testid="timeline-explanation"][data-code="0x2e852001"] [data-testid="explanation-text"]').waitFor({ timeout: 10000 });
      assert.match(await page.getByTestId('explanation-text').innerText(), /^0x2e852001: /);
      await page.getByTestId('explanation-close').click();
      await explanation.waitFor({ state: 'detached', timeout: 5000 });
      assert.deepEqual(problems, [], 'no script errors and no CSP violations');
    } finally {
      await launched.close();
    }
  });

  test('GET /api/explain: warning codes and iPXE codes; 404 for anything else', async () => {
    const warning = await get<{ kind: string; title: string; text: string; ipxeError: string | null }>('/api/explain/no-such-target');
    assert.deepEqual([warning.kind, warning.title, warning.ipxeError], ['warning', 'login to a target that does not exist', '0x2c0d603b']);
    assert.match(warning.text, /^no-such-target: login to a target that does not exist\n {2}What: /);
    const ipxe = await get<{ kind: string; code: string; text: string }>('/api/explain/2c0d603b');
    assert.deepEqual([ipxe.kind, ipxe.code], ['ipxe-error', '0x2c0d603b']);
    assert.match(ipxe.text, /^0x2c0d603b: No such device\n/);
    const unknown = await fetch(`http://127.0.0.1:${httpPort}/api/explain/nonsense`);
    assert.equal(unknown.status, 404);
  });
});
