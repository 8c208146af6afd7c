// Which boot program a client gets, as data. A vendor PXE ROM can only fetch a program over
// TFTP, so it gets iPXE for its platform; iPXE (ROM or chainloaded) gets the HTTP URL of its own
// script; UEFI HTTP boot gets iPXE over HTTP. Keying on "is this iPXE" rather than on "has this
// client been here before" is what prevents chainload loops: the chainloaded iPXE identifies
// itself with user class "iPXE" and so never gets the TFTP program again.
import type { BootDecision, BootPolicy, Firmware, Platform, PxeClient } from './types.ts';
import type { Inventory } from './inventory.ts';
import { hostForUrl } from './inventory.ts';

/** iPXE builds shipped in Debian's `ipxe` package (/usr/lib/ipxe), by platform. */
export const IPXE_PROGRAMS: Readonly<Record<Platform, string | null>> = {
  bios: 'undionly.kpxe',
  'efi-x64': 'ipxe.efi',
  // Debian ships no 32-bit or ARM EFI build of iPXE: such clients get no boot program.
  'efi-ia32': null,
  'efi-arm32': null,
  'efi-arm64': null,
};

type Delivery = 'tftp-program' | 'http-script' | 'http-program';

/** How each kind of firmware is served. */
export const DELIVERY: Readonly<Record<Firmware, Delivery>> = {
  pxe: 'tftp-program',
  ipxe: 'http-script',
  'http-boot': 'http-program',
};

/** Option 60 that replies carry, by firmware (PXE spec 2.1; UEFI 2.x section 24.7). */
const VENDOR_CLASS: Readonly<Record<Firmware, string | undefined>> = {
  pxe: 'PXEClient',
  ipxe: undefined,
  'http-boot': 'HTTPClient',
};

export interface PolicyOptions {
  readonly httpPort: number;
  readonly iscsiPort: number;
  /** In full DHCP mode iPXE need not wait for ProxyDHCP offers (option 175.176). */
  readonly dhcpMode: 'full' | 'proxy' | 'off';
  /** Called when a client cannot be served, with the reason in words. */
  readonly onRefuse?: (client: PxeClient, reason: string) => void;
}

export function scriptUrl(server: string, httpPort: number, mac: string): string {
  return `http://${hostForUrl(server)}:${httpPort}/boot.ipxe?mac=${mac.replace(/:/g, '-')}`;
}

export function createBootPolicy(inventory: Inventory, options: PolicyOptions): BootPolicy {
  return {
    decide(client: PxeClient, server: string): BootDecision | null {
      if (!inventory.serves(client.mac)) {
        options.onRefuse?.(client, 'not a registered machine, and unknownMachines is "ignore"');
        return null;
      }
      const vendorClass = VENDOR_CLASS[client.firmware];
      const base = { nextServer: server, ...(vendorClass !== undefined ? { vendorClass } : {}) };
      switch (DELIVERY[client.firmware]) {
        case 'tftp-program': {
          const program = IPXE_PROGRAMS[client.platform];
          if (program === null) {
            options.onRefuse?.(client, `no iPXE build for ${client.platform} in /usr/lib/ipxe`);
            return null;
          }
          return { ...base, bootFile: program };
        }
        case 'http-program': {
          const program = IPXE_PROGRAMS[client.platform];
          if (program === null || client.platform === 'bios') {
            options.onRefuse?.(client, `no iPXE build for ${client.platform} HTTP boot`);
            return null;
          }
          return { ...base, bootFile: `http://${hostForUrl(server)}:${options.httpPort}/files/${program}` };
        }
        case 'http-script': {
          const san = inventory.bootDisks(client.mac, { server, iscsiPort: options.iscsiPort, httpPort: options.httpPort });
          const identity = san?.identity;
          // No option 17 here: iPXE given both a root path and a file name hooks the root path
          // as drive 0x80 first, and the script's own sanboot then fails with 0x03232019.
          return {
            ...base,
            bootFile: scriptUrl(server, options.httpPort, client.mac),
            ...(identity?.initiatorIqn !== undefined ? { initiatorIqn: identity.initiatorIqn } : {}),
            ipxe: {
              ...(options.dhcpMode === 'full' ? { noPxeDhcp: true } : {}),
              ...(san?.keepSan === true ? { keepSan: true } : {}),
              ...(identity?.chap !== undefined ? { username: identity.chap.user, password: identity.chap.secret } : {}),
              ...(identity?.mutualChap !== undefined ? { reverseUsername: identity.mutualChap.user, reversePassword: identity.mutualChap.secret } : {}),
            },
          };
        }
      }
    },
  };
}
