// The boot doctor against a real server: each failure of issue 7 is set up for real through the
// REST API (a target IQN that does not exist, a LUN that does not exist, two targets with
// different CHAP secrets, an MBR disk for a UEFI machine, an unknown MAC, a missing file), and
// the doctor, through GET /api/machines/:ref/doctor and the real `diskless doctor` binary, must
// name that exact cause and its fix; a healthy machine gets a clean checklist. `diskless explain`
// is checked as exact text through the binary too.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { DoctorReport, DoctorStep } from '../../src/doctor/checklist.ts';
import { gptSectors, mbrSector } from '../../src/doctor/test-disk-images.ts';
import { startTestServer, TEST_IQN, type TestServer } from '../helpers/server.ts';
import { run } from '../helpers/tools.ts';

const DISK_BYTES = 8 * 1024 * 1024;
const MAC = (n: number) => `52:54:00:d0:00:${n.toString(16).padStart(2, '0')}`;
const CHAP_A = 'iqn.2026-11.org.example:chap-a';
const CHAP_B = 'iqn.2026-11.org.example:chap-b';

describe('diskless doctor against a running server', () => {
  let s: TestServer;
  let token: string;

  const api = async (method: string, path: string, body?: unknown): Promise<Response> => {
    const response = await fetch(`http://127.0.0.1:${s.httpPort}${path}`, {
      method,
      headers: { authorization: `Bearer ${token}`, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    });
    if (method !== 'GET') assert.ok(response.ok, `${method} ${path}: ${response.status} ${await response.clone().text()}`);
    return response;
  };
  const doctor = async (ref: string, firmware?: 'bios' | 'uefi'): Promise<DoctorReport> => {
    const response = await api('GET', `/api/machines/${encodeURIComponent(ref)}/doctor${firmware !== undefined ? `?firmware=${firmware}` : ''}`);
    assert.equal(response.status, 200, `doctor ${ref}: ${response.status} ${await response.clone().text()}`);
    return (await response.json()) as DoctorReport;
  };
  const step = (report: DoctorReport, id: string): DoctorStep => {
    const found = report.steps.find((x) => x.id === id);
    assert.ok(found !== undefined, `no step ${id} in ${report.steps.map((x) => x.id).join(', ')}`);
    return found;
  };
  /** A disk file whose first blocks are `first`, registered through the API. */
  const addDisk = async (name: string, first: Buffer): Promise<void> => {
    const path = join(s.dir, `${name}.img`);
    const image = Buffer.alloc(DISK_BYTES);
    first.copy(image);
    writeFileSync(path, image);
    await api('POST', '/api/disks', { name, path });
  };
  const cli = (...args: string[]) => run(process.execPath, ['bin/diskless.js', ...args, '--server', `http://127.0.0.1:${s.httpPort}`, '--data-dir', s.dir]);

  before(async () => {
    s = await startTestServer();
    token = readFileSync(join(s.dir, 'api-token'), 'utf8').trim();
    await addDisk('mbr-disk', mbrSector([0x83]));
    await addDisk('gpt-disk', gptSectors());
    await addDisk('disk-a', mbrSector([0x83]));
    await addDisk('disk-b', mbrSector([0x83]));
    // Machines with disks of their own: a target each, their IQN only, a generated CHAP secret.
    await api('POST', '/api/machines', { mac: MAC(1), name: 'healthy', disks: ['mbr-disk'] });
    await api('POST', '/api/machines', { mac: MAC(2), name: 'uefi', disks: ['gpt-disk'] });
    await api('POST', '/api/machines', { mac: MAC(3), name: 'typo', boot: { kind: 'sanboot', disks: [{ target: 'iqn.2026-11.org.diskless:target.healthx', lun: 0 }] } });
    await api('POST', '/api/machines', { mac: MAC(4), name: 'lun1', boot: { kind: 'sanboot', disks: [{ target: TEST_IQN, lun: 1 }] } });
    await api('POST', '/api/targets', { iqn: CHAP_A, luns: [{ lun: 0, disk: 'disk-a' }], chap: { user: 'alice', secret: 'alice-secret-1234' } });
    await api('POST', '/api/targets', { iqn: CHAP_B, luns: [{ lun: 0, disk: 'disk-b' }], chap: { user: 'alice', secret: 'alice-secret-1234' } });
    await api('POST', '/api/machines', { mac: MAC(5), name: 'twochap', boot: { kind: 'sanboot', disks: [{ target: CHAP_A, lun: 0 }, { target: CHAP_B, lun: 0 }] } });
    await api('POST', '/api/machines', { mac: MAC(6), name: 'chain', boot: { kind: 'chain', url: '/files/missing.efi' } });
  });
  after(async () => s.stop());

  test('a healthy machine gets a clean checklist: CHAP login, an MBR with a partition', async () => {
    const report = await doctor('healthy', 'bios');
    assert.equal(report.status, 'ok', JSON.stringify(report.steps.filter((x) => x.status !== 'ok' && x.status !== 'skip')));
    assert.equal(report.firstFailure, null);
    assert.deepEqual([report.machine.mac, report.machine.initiatorIqn], [MAC(1), 'iqn.2026-11.org.diskless:healthy']);
    const target = 'iqn.2026-11.org.diskless:target.healthy';
    assert.equal(step(report, `iscsi:login:${target}@0`).summary, `logged in to ${target} as iqn.2026-11.org.diskless:healthy with CHAP user healthy`);
    assert.equal(step(report, `iscsi:disk:${target}@0`).summary, `${target}@0: 8 MiB (16384 blocks of 512 bytes); MBR, 1 partition (1: 0x83 active)`);
    const uefi = await doctor('uefi', 'uefi');
    assert.equal(uefi.status, 'ok', JSON.stringify(uefi.steps.filter((x) => x.status !== 'ok' && x.status !== 'skip')));
    assert.deepEqual(step(uefi, 'iscsi:disk:iqn.2026-11.org.diskless:target.uefi@0').details, ['EFI system partition: 1']);
  });

  test('a target IQN that does not exist: the closest IQN, the fix, 0x2c0d603b; the real login is refused', async () => {
    const report = await doctor('typo');
    assert.equal(report.firstFailure?.cause, 'iqn.2026-11.org.diskless:target.healthx is not a target of this server; did you mean iqn.2026-11.org.diskless:target.healthy?');
    assert.equal(report.firstFailure?.fix, 'point the machine at it: diskless machine set typo --disk iqn.2026-11.org.diskless:target.healthy@0');
    assert.equal(report.firstFailure?.ipxeError, '0x2c0d603b');
    const login = step(report, 'iscsi:login:iqn.2026-11.org.diskless:target.healthx@0');
    assert.deepEqual([login.status, login.ipxeError], ['fail', '0x2c0d603b']);
    assert.match(login.summary, /refused: NotFound$/);
  });

  test('a LUN the target lacks: named, and the real READ CAPACITY fails with LOGICAL UNIT NOT SUPPORTED', async () => {
    const report = await doctor('lun1');
    assert.equal(report.firstFailure?.summary, `target ${TEST_IQN} has no LUN 1 (sanboot, BIOS drive 0x80)`);
    assert.equal(report.firstFailure?.cause, `${TEST_IQN} has LUN 0, not LUN 1: iPXE logs in, then its first SCSI command fails.`);
    assert.equal(report.firstFailure?.fix, `use LUN 0: diskless machine set lun1 --disk ${TEST_IQN}@0`);
    assert.equal(report.firstFailure?.ipxeError, '0x1d704039');
    assert.equal(step(report, `iscsi:disk:${TEST_IQN}@1`).cause, `${TEST_IQN} answers READ CAPACITY(16) for LUN 1 with LOGICAL UNIT NOT SUPPORTED.`);
  });

  test('a wrong CHAP secret (PATCH /api/targets/:iqn): the target that refuses, and why', async () => {
    const before = await doctor('twochap', 'bios');
    assert.equal(before.status, 'ok', 'both targets share the credentials at first');
    await api('PATCH', `/api/targets/${CHAP_B}`, { chap: { user: 'bob', secret: 'bob-secret-5678' } });
    const report = await doctor('twochap', 'bios');
    assert.equal(report.firstFailure?.summary, `wrong CHAP credentials for target ${CHAP_B}`);
    assert.equal(report.firstFailure?.cause, `${CHAP_B} expects CHAP user bob with its own secret, but iPXE holds one set of CHAP credentials: user alice's, from ${CHAP_A}.`);
    assert.equal(report.firstFailure?.ipxeError, '0x410d613c');
    const login = step(report, `iscsi:login:${CHAP_B}@0`);
    assert.equal(login.summary, `login to ${CHAP_B} as iqn.2026-11.org.diskless:twochap with CHAP user alice refused: AuthenticationFailure`);
    assert.equal(step(report, `iscsi:login:${CHAP_A}@0`).status, 'ok');
  });

  test('an MBR disk for a UEFI machine: no EFI system partition, 0x7f22208e', async () => {
    const report = await doctor('healthy', 'uefi');
    assert.equal(report.firstFailure?.id, 'iscsi:disk:iqn.2026-11.org.diskless:target.healthy@0');
    assert.equal(report.firstFailure?.cause, 'The machine boots with UEFI, which looks for an EFI system partition, and this disk has none (an MBR disk, installed for BIOS).');
    assert.equal(report.firstFailure?.fix, 'boot the machine in legacy BIOS mode (CSM), or reinstall the OS in UEFI mode (GPT with an EFI system partition)');
    assert.equal(report.firstFailure?.ipxeError, '0x7f22208e');
  });

  test('an unknown MAC: not registered, and how to register it', async () => {
    const report = await doctor(MAC(0x99));
    assert.equal(report.machine.registered, false);
    assert.equal(report.firstFailure?.cause, `${MAC(0x99)} is not a registered machine: its iPXE gets the "not registered" screen and asks again every 30 seconds.`);
    assert.equal(report.firstFailure?.fix, `register it: diskless machine add --mac ${MAC(0x99)} --name NAME --disk DISK`);
    const unknownName = await api('GET', '/api/machines/nobody/doctor');
    assert.equal(unknownName.status, 404);
  });

  test('a file the script fetches is missing: named, with where to put it', async () => {
    const report = await doctor('chain');
    const url = `http://127.0.0.1:${s.httpPort}/files/missing.efi`;
    assert.equal(report.firstFailure?.id, `script:url:${url}`);
    assert.equal(report.firstFailure?.cause, `missing.efi is not in ${join(s.dir, 'boot')} nor in Debian's iPXE and syslinux folders: iPXE's download fails with "No such file or directory".`);
    assert.equal(report.firstFailure?.fix, `put missing.efi into ${join(s.dir, 'boot')} (served over TFTP and under /files/), or fix the path in the boot entry`);
    assert.equal(report.firstFailure?.ipxeError, '0x2d0c613b');
  });

  test('the binary: doctor prints the checklist and fails for a broken machine', async () => {
    const healthy = await cli('doctor', 'healthy', '--firmware', 'bios');
    assert.equal(healthy.code, 0, healthy.stderr);
    assert.match(healthy.stdout, /^diskless doctor: healthy \(52:54:00:d0:00:01\), initiator iqn\.2026-11\.org\.diskless:healthy, firmware bios\n/);
    assert.match(healthy.stdout, /\nVerdict: nothing found that stops this machine from booting\.\n$/);
    const broken = await cli('doctor', 'lun1');
    assert.equal(broken.code, 1);
    assert.ok(
      broken.stdout.endsWith(
        [
          'Verdict: this machine does not boot.',
          `First failure: target ${TEST_IQN} has no LUN 1 (sanboot, BIOS drive 0x80)`,
          `  Cause: ${TEST_IQN} has LUN 0, not LUN 1: iPXE logs in, then its first SCSI command fails.`,
          `  Fix:   use LUN 0: diskless machine set lun1 --disk ${TEST_IQN}@0`,
          '  iPXE shows 0x1d704039: diskless explain 0x1d704039',
          '',
        ].join('\n'),
      ),
      broken.stdout,
    );
    const json = await cli('doctor', MAC(1), '--json');
    assert.equal((JSON.parse(json.stdout) as DoctorReport).machine.name, 'healthy');
    const nobody = await cli('doctor', 'nobody');
    assert.equal(nobody.code, 1);
    assert.equal(nobody.stderr, 'diskless: no machine with MAC or name nobody\n');
  });

  test('the binary: explain decodes codes as iPXE prints them, as exact text', async () => {
    const r = await run(process.execPath, ['bin/diskless.js', 'explain', '0x2c0d603b', 'http://ipxe.org/0b8080a0']);
    assert.equal(r.code, 0, r.stderr);
    const [first, second] = r.stdout.split('\n\n');
    assert.equal(
      first,
      [
        '0x2c0d603b: No such device',
        '  Error:       ENODEV (0x2c)',
        '  Where:       iscsi.c',
        '  Platform:    PXENV_STATUS_TFTP_FILE_NOT_FOUND: a BIOS build of iPXE',
        '  What failed: The iSCSI target refused the login because it has no target by the name iPXE asked for (login status "not found" or "removed").',
        '  Causes:      - The target IQN in the sanboot/sanhook root path is misspelt, or names a target that does not exist (disk0 instead of disk1).',
        '               - The target was removed or renamed, and the machine still points at the old name.',
        '  Check:       - `diskless target list` shows the exact IQNs this server exports; `diskless doctor MACHINE` names the closest one.',
        '               - Point the machine at the right target: `diskless machine set MACHINE --disk IQN[@LUN]`.',
        '  Source:      seed "That darn iBFT iSCSI Windows installation error"; iPXE iscsi.c (login status 0x0203/0x0204)',
        '  More:        https://ipxe.org/err/2c0d603b',
      ].join('\n'),
    );
    assert.match(second ?? '', /^0x0b8080a0: Operation canceled\n {2}Error: {7}ECANCELED \(0x0b\)\n {2}Where: {7}bootsector\.c, x86-specific\n/);
    const bad = await run(process.execPath, ['bin/diskless.js', 'explain', 'b7fa6000']);
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /^diskless: not an iPXE error code nor a warning code: b7fa6000 \(iPXE prints eight hex digits, e\.g\. 0x1d704039; warnings: no-such-target, .*second-writer\)\n$/);
    const warning = await run(process.execPath, ['bin/diskless.js', 'explain', 'no-such-target']);
    assert.equal(warning.code, 0, warning.stderr);
    assert.match(warning.stdout, /^no-such-target: login to a target that does not exist\n {2}What: .*\n {2}iPXE shows: {2}0x2c0d603b \(diskless explain 0x2c0d603b\)\n/);
  });
});
