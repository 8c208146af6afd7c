// The doctor end to end against a real iSCSI portal in this process (memory disks, no files):
// each broken machine gets the cause and fix of its exact failure, a healthy one a clean list.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import pino from 'pino';
import { Inventory } from '../boot/inventory.ts';
import type { MachineConfig } from '../config/schema.ts';
import { IscsiServer } from '../iscsi/server.ts';
import { TargetDirectory, type ExportedTarget } from '../iscsi/target-directory.ts';
import { BlockLogicalUnit } from '../scsi/logical-unit.ts';
import { LunTable } from '../scsi/target-device.ts';
import { MemoryDevice } from '../storage/memory-device.ts';
import { VirtualProvider } from '../tftp/files.ts';
import { renderChecklist, type DoctorReport } from './checklist.ts';
import type { DoctorDeps } from './doctor-deps.ts';
import { runDoctor } from './run-doctor.ts';
import { gptSectors, mbrSector } from './test-disk-images.ts';

const IQN = (name: string) => `iqn.2026-11.org.example:${name}`;
const PC1_CHAP = { user: 'pc1', secret: 'pc1-secret-1234' };

function disk(first: Buffer): LunTable {
  const device = new MemoryDevice({ sizeBytes: 4 * 1024 * 1024 });
  first.copy(device.data, 0);
  return new LunTable([[0, new BlockLogicalUnit(device)]]);
}

function target(name: string, device: LunTable, extra: Partial<ExportedTarget> = {}): ExportedTarget {
  return { name: IQN(name), alias: null, device, chap: null, mutualChap: null, allowedInitiators: null, ...extra };
}

const sanboot = (mac: string, name: string, ...disks: Array<{ target: string; lun?: number }>): MachineConfig => ({
  mac,
  name,
  boot: { kind: 'sanboot', disks: disks.map((d) => ({ target: d.target, lun: d.lun ?? 0 })) },
});

describe('runDoctor against a live portal', () => {
  let iscsi: IscsiServer;
  let deps: DoctorDeps;
  const doctor = async (ref: string, firmware?: 'bios' | 'uefi'): Promise<DoctorReport> => {
    const report = await runDoctor(deps, ref, firmware !== undefined ? { firmware } : {});
    assert.ok(report !== null, `no report for ${ref}`);
    return report;
  };

  before(async () => {
    const exported = [
      target('pc1', disk(mbrSector([0x83])), { chap: PC1_CHAP }),
      target('uefi', disk(gptSectors())),
      target('blank', disk(Buffer.alloc(512))),
      target('other', disk(mbrSector([0x83])), { chap: { user: 'bob', secret: 'bob-secret-5678' } }),
      target('locked', disk(mbrSector([0x83])), { allowedInitiators: ['iqn.2026-11.org.example:somebody-else'] }),
    ];
    const targets = new TargetDirectory(exported);
    iscsi = new IscsiServer({ targets, portalGroupTag: 1, discoveryAuth: null, nopIntervalMs: 0, nopTimeoutMs: 0, maxConnections: 16, advertise: [], listen: '127.0.0.1', log: pino({ level: 'silent' }) });
    const port = await iscsi.listen(0, '127.0.0.1');
    const machines: MachineConfig[] = [
      sanboot('52:54:00:00:00:01', 'pc1', { target: IQN('pc1') }),
      sanboot('52:54:00:00:00:02', 'typo', { target: IQN('pc2') }),
      sanboot('52:54:00:00:00:03', 'wronglun', { target: IQN('pc1'), lun: 1 }),
      sanboot('52:54:00:00:00:04', 'twochap', { target: IQN('pc1') }, { target: IQN('other') }),
      sanboot('52:54:00:00:00:05', 'efi', { target: IQN('uefi') }),
      sanboot('52:54:00:00:00:06', 'blank', { target: IQN('blank') }),
      sanboot('52:54:00:00:00:07', 'locked', { target: IQN('locked') }),
      { mac: '52:54:00:00:00:08', name: 'chain', boot: { kind: 'chain', url: '/files/missing.efi' } },
    ];
    const inventory = new Inventory(machines, exported.map((t) => ({ iqn: t.name, ...(t.chap !== null ? { chap: t.chap } : {}) })), 'not-registered');
    deps = {
      inventory,
      configMachines: machines,
      store: { machines: { get: async () => undefined } },
      context: { server: '127.0.0.1', iscsiPort: port, httpPort: 8080 },
      dhcpMode: 'off',
      tftpEnabled: false,
      files: new VirtualProvider(new Map([['undionly.kpxe', Buffer.alloc(70_000)], ['ipxe.efi', Buffer.alloc(1_000_000)]])),
      bootFolder: '/srv/diskless/boot',
      targets,
      iscsiHost: '127.0.0.1',
      timeoutMs: 3000,
    };
  });
  after(async () => iscsi.close());

  test('a healthy machine: every step ok, logged in with its CHAP, an MBR disk', async () => {
    const report = await doctor('pc1', 'bios');
    assert.equal(report.status, 'ok', renderChecklist(report));
    assert.equal(report.firstFailure, null);
    const login = report.steps.find((s) => s.id === `iscsi:login:${IQN('pc1')}@0`);
    assert.equal(login?.summary, `logged in to ${IQN('pc1')} as iqn.2026-11.org.diskless:pc1 with CHAP user pc1`);
    const diskStep = report.steps.find((s) => s.id === `iscsi:disk:${IQN('pc1')}@0`);
    assert.equal(diskStep?.summary, `${IQN('pc1')}@0: 4 MiB (8192 blocks of 512 bytes); MBR, 1 partition (1: 0x83 active)`);
    assert.deepEqual(report.steps.filter((s) => s.section === 'dhcp').map((s) => s.summary).slice(1), [
      'BIOS PXE ROM should get undionly.kpxe over TFTP from 127.0.0.1',
      'UEFI x64 PXE should get ipxe.efi over TFTP from 127.0.0.1',
      'iPXE should get http://127.0.0.1:8080/boot.ipxe?mac=52-54-00-00-00-01 over HTTP from 127.0.0.1',
      'UEFI HTTP boot should get http://127.0.0.1:8080/files/ipxe.efi over HTTP from 127.0.0.1',
    ]);
  });

  test('a target IQN that does not exist: named, with the closest IQN', async () => {
    const report = await doctor('typo');
    assert.equal(report.firstFailure?.id, `inventory:target:${IQN('pc2')}@0`);
    assert.equal(report.firstFailure?.cause, `${IQN('pc2')} is not a target of this server; did you mean ${IQN('pc1')}?`);
    assert.equal(report.firstFailure?.fix, `point the machine at it: diskless machine set typo --disk ${IQN('pc1')}@0`);
    assert.equal(report.firstFailure?.ipxeError, '0x2c0d603b');
    const login = report.steps.find((s) => s.id === `iscsi:login:${IQN('pc2')}@0`);
    assert.equal(login?.status, 'fail', 'the real login is refused too');
    assert.equal(login?.ipxeError, '0x2c0d603b');
  });

  test('a LUN the target lacks: named, and the read really fails with LOGICAL UNIT NOT SUPPORTED', async () => {
    const report = await doctor('wronglun');
    assert.equal(report.firstFailure?.summary, `target ${IQN('pc1')} has no LUN 1 (sanboot, BIOS drive 0x80)`);
    assert.equal(report.firstFailure?.fix, `use LUN 0: diskless machine set wronglun --disk ${IQN('pc1')}@0`);
    assert.equal(report.firstFailure?.ipxeError, '0x1d704039');
    const read = report.steps.find((s) => s.id === `iscsi:disk:${IQN('pc1')}@1`);
    assert.equal(read?.summary, `${IQN('pc1')}@1: LUN 1 does not exist`);
  });

  test('two targets with different CHAP: iPXE holds one set, the second target refuses it', async () => {
    const report = await doctor('twochap');
    assert.equal(report.firstFailure?.summary, `wrong CHAP credentials for target ${IQN('other')}`);
    assert.equal(report.firstFailure?.cause, `${IQN('other')} expects CHAP user bob with its own secret, but iPXE holds one set of CHAP credentials: user pc1's, from ${IQN('pc1')}.`);
    assert.equal(report.firstFailure?.ipxeError, '0x410d613c');
    const login = report.steps.find((s) => s.id === `iscsi:login:${IQN('other')}@0`);
    assert.equal(login?.summary, `login to ${IQN('other')} as iqn.2026-11.org.diskless:twochap with CHAP user pc1 refused: AuthenticationFailure`);
    assert.equal(report.steps.find((s) => s.id === `iscsi:login:${IQN('pc1')}@0`)?.status, 'ok');
  });

  test('an initiator the target does not admit', async () => {
    const report = await doctor('locked');
    assert.equal(report.firstFailure?.ipxeError, '0x410d623c');
    assert.match(report.firstFailure?.cause ?? '', /admits only iqn\.2026-11\.org\.example:somebody-else; locked logs in as iqn\.2026-11\.org\.diskless:locked\./);
    assert.equal(report.steps.find((s) => s.id === `iscsi:login:${IQN('locked')}@0`)?.ipxeError, '0x410d623c');
  });

  test('an MBR disk under UEFI fails for want of an ESP; a GPT disk with one passes', async () => {
    const mbr = await doctor('pc1', 'uefi');
    assert.equal(mbr.firstFailure?.id, `iscsi:disk:${IQN('pc1')}@0`);
    assert.equal(mbr.firstFailure?.cause, 'The machine boots with UEFI, which looks for an EFI system partition, and this disk has none (an MBR disk, installed for BIOS).');
    assert.equal(mbr.firstFailure?.ipxeError, '0x7f22208e');
    const gpt = await doctor('efi', 'uefi');
    assert.equal(gpt.status, 'ok', renderChecklist(gpt));
    assert.deepEqual(gpt.steps.find((s) => s.id === `iscsi:disk:${IQN('uefi')}@0`)?.details, ['EFI system partition: 1']);
  });

  test('a blank disk has no boot signature', async () => {
    const report = await doctor('blank', 'bios');
    assert.equal(report.firstFailure?.summary, `${IQN('blank')}@0: 4 MiB (8192 blocks of 512 bytes); no boot signature (55 AA) in LBA 0: blank or not a boot disk`);
    assert.equal(report.firstFailure?.ipxeError, '0x2e852001');
  });

  test('an unknown MAC is not registered; an unknown name is no machine at all', async () => {
    const report = await doctor('52:54:00:00:00:99');
    assert.equal(report.status, 'fail');
    assert.equal(report.firstFailure?.cause, '52:54:00:00:00:99 is not a registered machine: its iPXE gets the "not registered" screen and asks again every 30 seconds.');
    assert.equal(report.firstFailure?.fix, 'register it: diskless machine add --mac 52:54:00:00:00:99 --name NAME --disk DISK');
    assert.equal(await runDoctor(deps, 'nobody'), null);
  });

  test('a missing file the script fetches', async () => {
    const report = await doctor('chain');
    assert.equal(report.firstFailure?.id, 'script:url:http://127.0.0.1:8080/files/missing.efi');
    assert.equal(report.firstFailure?.cause, 'missing.efi is not in /srv/diskless/boot nor in Debian\'s iPXE and syslinux folders: iPXE\'s download fails with "No such file or directory".');
    assert.equal(report.firstFailure?.ipxeError, '0x2d0c613b');
  });

  test('the checklist as text names the first failure, its fix and the iPXE code', async () => {
    const text = renderChecklist(await doctor('typo', 'bios'));
    assert.match(text, /^diskless doctor: typo \(52:54:00:00:00:02\), initiator iqn\.2026-11\.org\.diskless:typo, firmware bios\n/);
    assert.match(text, /\n {2}FAIL {2}inventory target iqn\.2026-11\.org\.example:pc2 \(sanboot, BIOS drive 0x80\) does not exist\n/);
    assert.ok(text.endsWith([
      'Verdict: this machine does not boot.',
      'First failure: target iqn.2026-11.org.example:pc2 (sanboot, BIOS drive 0x80) does not exist',
      '  Cause: iqn.2026-11.org.example:pc2 is not a target of this server; did you mean iqn.2026-11.org.example:pc1?',
      '  Fix:   point the machine at it: diskless machine set typo --disk iqn.2026-11.org.example:pc1@0',
      '  iPXE shows 0x2c0d603b: diskless explain 0x2c0d603b',
      '',
    ].join('\n')), text);
  });
});
