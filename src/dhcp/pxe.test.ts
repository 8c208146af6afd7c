import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import type { Firmware, Platform } from '../boot/types.ts';
import { classifyPxeClient } from './pxe.ts';
import { buildRequest, PXE_BIOS_VENDOR } from './test-requests.ts';
import { decodeDhcpMessage } from './wire/packet.ts';
import { MessageType } from './wire/option-codes.ts';

function vector(name: string): Buffer {
  const text = readFileSync(new URL(`../../test/vectors/dhcp/${name}.hex`, import.meta.url), 'utf8');
  return Buffer.from(text.split('\n').filter((l) => !l.startsWith('#')).join(''), 'hex');
}

interface Row {
  readonly name: string;
  readonly spec: Omit<Parameters<typeof buildRequest>[0], 'type'>;
  readonly expect: { firmware: Firmware; platform: Platform } | null;
}

// The classification table (issue 3, section 2), one row per client kind.
const TABLE: readonly Row[] = [
  { name: 'BIOS PXE ROM', spec: { vendorClass: PXE_BIOS_VENDOR, arch: 0 }, expect: { firmware: 'pxe', platform: 'bios' } },
  { name: 'old BIOS PXE ROM without option 93', spec: { vendorClass: PXE_BIOS_VENDOR }, expect: { firmware: 'pxe', platform: 'bios' } },
  { name: 'UEFI IA32 PXE', spec: { vendorClass: 'PXEClient:Arch:00006:UNDI:003000', arch: 6 }, expect: { firmware: 'pxe', platform: 'efi-ia32' } },
  { name: 'UEFI x64 PXE (arch 7)', spec: { vendorClass: 'PXEClient:Arch:00007:UNDI:003000', arch: 7 }, expect: { firmware: 'pxe', platform: 'efi-x64' } },
  { name: 'UEFI x64 PXE (arch 9)', spec: { vendorClass: 'PXEClient:Arch:00009:UNDI:003000', arch: 9 }, expect: { firmware: 'pxe', platform: 'efi-x64' } },
  { name: 'UEFI ARM32 PXE', spec: { vendorClass: 'PXEClient:Arch:00010:UNDI:003000', arch: 10 }, expect: { firmware: 'pxe', platform: 'efi-arm32' } },
  { name: 'UEFI ARM64 PXE', spec: { vendorClass: 'PXEClient:Arch:00011:UNDI:003000', arch: 11 }, expect: { firmware: 'pxe', platform: 'efi-arm64' } },
  { name: 'UEFI x64 HTTP boot', spec: { vendorClass: 'HTTPClient:Arch:00016:UNDI:003000', arch: 16 }, expect: { firmware: 'http-boot', platform: 'efi-x64' } },
  { name: 'UEFI ARM64 HTTP boot', spec: { vendorClass: 'HTTPClient:Arch:00019:UNDI:003000', arch: 19 }, expect: { firmware: 'http-boot', platform: 'efi-arm64' } },
  { name: 'HTTP boot arch without vendor class', spec: { arch: 16 }, expect: { firmware: 'http-boot', platform: 'efi-x64' } },
  { name: 'iPXE (plain user class)', spec: { vendorClass: PXE_BIOS_VENDOR, arch: 0, userClass: 'iPXE' }, expect: { firmware: 'ipxe', platform: 'bios' } },
  { name: 'iPXE (RFC 3004 user class)', spec: { vendorClass: PXE_BIOS_VENDOR, arch: 0, userClass: '\x04iPXE' }, expect: { firmware: 'ipxe', platform: 'bios' } },
  { name: 'gPXE', spec: { arch: 0, userClass: 'gPXE' }, expect: { firmware: 'ipxe', platform: 'bios' } },
  { name: 'iPXE EFI x64', spec: { vendorClass: 'PXEClient:Arch:00007:UNDI:003010', arch: 7, userClass: 'iPXE' }, expect: { firmware: 'ipxe', platform: 'efi-x64' } },
  { name: 'iPXE with option 175 but no user class', spec: { vendorClass: PXE_BIOS_VENDOR, ipxeOptions: true }, expect: { firmware: 'ipxe', platform: 'bios' } },
  { name: 'plain DHCP client (an OS)', spec: {}, expect: null },
  { name: 'other user class only', spec: { userClass: 'linux' }, expect: null },
  { name: 'unknown architecture (Itanium)', spec: { vendorClass: 'PXEClient:Arch:00002:UNDI:003000', arch: 2 }, expect: null },
];

for (const row of TABLE) {
  test(`classify: ${row.name}`, () => {
    const client = classifyPxeClient(buildRequest({ type: MessageType.Discover, ...row.spec }));
    assert.deepEqual(client === null ? null : { firmware: client.firmware, platform: client.platform }, row.expect);
  });
}

test('captured clients classify as the e2e README says', () => {
  const expect: Record<string, [Firmware, Platform, string | null]> = {
    'ipxe-bios-e1000-discover': ['ipxe', 'bios', 'iPXE'],
    'undionly-bios-discover': ['ipxe', 'bios', 'iPXE'], // chainloaded: same as the ROM, so no loop
    'ovmf-pxe-x64-discover': ['pxe', 'efi-x64', null],
    'ipxe-efi-x64-discover': ['ipxe', 'efi-x64', 'iPXE'],
  };
  for (const [name, [firmware, platform, userClass]] of Object.entries(expect)) {
    const client = classifyPxeClient(decodeDhcpMessage(vector(name)));
    assert.ok(client !== null, name);
    assert.equal(client.firmware, firmware, name);
    assert.equal(client.platform, platform, name);
    assert.equal(client.userClass, userClass, name);
    assert.equal(client.mac, '52:54:00:12:34:56');
  }
});

test('classification carries uuid, vendor class, arch and option 175', () => {
  const client = classifyPxeClient(buildRequest({
    type: MessageType.Discover, vendorClass: PXE_BIOS_VENDOR, arch: 0, userClass: 'iPXE', ipxeOptions: true,
    uuid: '00112233445566778899aabbccddeeff', mac: 'aa:bb:cc:dd:ee:ff',
  }));
  assert.deepEqual(client, {
    mac: 'aa:bb:cc:dd:ee:ff', firmware: 'ipxe', platform: 'bios', arch: 0, uuid: '00112233445566778899aabbccddeeff',
    userClass: 'iPXE', vendorClass: PXE_BIOS_VENDOR, hasIpxeOptions: true,
  });
});
