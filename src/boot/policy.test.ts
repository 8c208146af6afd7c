import { test } from 'node:test';
import assert from 'node:assert/strict';
import { validateConfig } from '../config/load.ts';
import { Inventory } from './inventory.ts';
import { createBootPolicy } from './policy.ts';
import type { Firmware, Platform, PxeClient } from './types.ts';

const config = validateConfig({
  targets: [
    { iqn: 'iqn.2026-11.org.diskless:pc1-disk', luns: [{ lun: 0, path: '/d/pc1.img' }], chap: { user: 'pc1', secret: 'pc1-secret-123' } },
    { iqn: 'iqn.2026-11.org.diskless:data', luns: [{ lun: 0, path: '/d/data.img' }] },
  ],
  machines: [
    { mac: '52:54:00:00:00:01', name: 'pc1', boot: { kind: 'sanboot', disks: [{ target: 'iqn.2026-11.org.diskless:pc1-disk' }, { target: 'iqn.2026-11.org.diskless:data' }] } },
    { mac: '52-54-00-00-00-02', name: 'installer', boot: { kind: 'install', disk: { target: 'iqn.2026-11.org.diskless:data' }, installer: { kind: 'iso', url: '/files/win.iso' } } },
  ],
  unknownMachines: 'ignore',
});
const inventory = new Inventory(config.machines, config.targets, config.unknownMachines);
const policy = createBootPolicy(inventory, { httpPort: 8080, iscsiPort: 3260, dhcpMode: 'full' });

function client(mac: string, firmware: Firmware, platform: Platform): PxeClient {
  return { mac, firmware, platform, arch: null, uuid: null, userClass: firmware === 'ipxe' ? 'iPXE' : null, vendorClass: null, hasIpxeOptions: firmware === 'ipxe' };
}

test('boot program by firmware and platform (the table)', () => {
  const cases: Array<[Firmware, Platform, string | null]> = [
    ['pxe', 'bios', 'undionly.kpxe'],
    ['pxe', 'efi-x64', 'ipxe.efi'],
    ['pxe', 'efi-arm64', null],
    ['pxe', 'efi-ia32', null],
    ['ipxe', 'bios', 'http://10.0.0.1:8080/boot.ipxe?mac=52-54-00-00-00-01'],
    ['ipxe', 'efi-x64', 'http://10.0.0.1:8080/boot.ipxe?mac=52-54-00-00-00-01'],
    ['http-boot', 'efi-x64', 'http://10.0.0.1:8080/files/ipxe.efi'],
  ];
  for (const [firmware, platform, expected] of cases) {
    const decision = policy.decide(client('52:54:00:00:00:01', firmware, platform), '10.0.0.1');
    assert.equal(decision?.bootFile ?? null, expected, `${firmware}/${platform}`);
    if (decision !== null) assert.equal(decision.nextServer, '10.0.0.1');
  }
});

test('iPXE gets initiator IQN, CHAP and no-pxedhcp in full mode, and no root path beside its script', () => {
  const decision = policy.decide(client('52:54:00:00:00:01', 'ipxe', 'bios'), '10.0.0.1');
  assert.equal(decision?.rootPath, undefined, 'a root path would be hooked as 0x80 before the script runs');
  assert.equal(decision?.initiatorIqn, 'iqn.2026-11.org.diskless:pc1');
  assert.deepEqual(decision?.ipxe, { noPxeDhcp: true, username: 'pc1', password: 'pc1-secret-123' });
  const install = policy.decide(client('52:54:00:00:00:02', 'ipxe', 'bios'), '10.0.0.1');
  assert.equal(install?.ipxe?.keepSan, true, 'an install flow keeps the SAN disk for Windows setup');
});

test('PXE ROMs get option 60 PXEClient; unknown machines are ignored when configured so', () => {
  assert.equal(policy.decide(client('52:54:00:00:00:01', 'pxe', 'bios'), '10.0.0.1')?.vendorClass, 'PXEClient');
  assert.equal(policy.decide(client('52:54:00:00:00:99', 'pxe', 'bios'), '10.0.0.1'), null);
  const proxy = createBootPolicy(inventory, { httpPort: 8080, iscsiPort: 3260, dhcpMode: 'proxy' });
  assert.equal(proxy.decide(client('52:54:00:00:00:01', 'ipxe', 'bios'), '10.0.0.1')?.ipxe?.noPxeDhcp, undefined);
});
