// The files machines fetch over TFTP and HTTP /files/: generated pxelinux.cfg/ entries first,
// then the user's folder, then Debian's iPXE and syslinux binaries.
import { existsSync } from 'node:fs';
import { DirectoryProvider, type DirectoryRoot } from '../tftp/directory-provider.ts';
import { ProviderChain, VirtualProvider, type TftpFileProvider } from '../tftp/files.ts';
import type { BootContext, Inventory } from './inventory.ts';
import { ipToPxelinuxHex, parsePxelinuxPath, PXELINUX_DEFAULT, renderPxelinuxConfig } from './pxelinux.ts';

/** Debian's packages: ipxe (/usr/lib/ipxe), syslinux-common (memdisk), pxelinux. */
export const SYSTEM_BOOT_DIRS = ['/usr/lib/ipxe', '/usr/lib/syslinux', '/usr/lib/syslinux/modules/bios', '/usr/lib/PXELINUX'] as const;

/**
 * The user's folder is a strict jail; Debian's folders may hold symlinks out of themselves
 * (/usr/lib/ipxe/ipxe.efi points into /boot), which are the packager's, not a client's, choice.
 */
export function bootFileRoots(userRoot: string | undefined): DirectoryRoot[] {
  const user: DirectoryRoot[] = userRoot !== undefined && existsSync(userRoot) ? [{ path: userRoot, symlinks: 'jail' }] : [];
  return [...user, ...SYSTEM_BOOT_DIRS.filter((dir) => existsSync(dir)).map((path): DirectoryRoot => ({ path, symlinks: 'follow' }))];
}

export interface BootFileOptions {
  readonly inventory: Inventory;
  readonly context: BootContext;
  /** The MAC that holds a lease on this address, when DHCP knows (pxelinux's IP-hex lookup). */
  readonly macForIp?: (ip: string) => string | null;
  readonly roots: readonly DirectoryRoot[];
}

export function createBootFileProvider(options: BootFileOptions): TftpFileProvider {
  const generated = new VirtualProvider((path, peer) => {
    const request = parsePxelinuxPath(path);
    if (request === null) return null;
    const { inventory, context } = options;
    switch (request.kind) {
      case 'mac': {
        const script = inventory.machine(request.mac) !== null ? inventory.script(request.mac, context) : null;
        return script === null ? null : renderPxelinuxConfig(script);
      }
      case 'ip-prefix': {
        // Only the full address names one machine; shorter prefixes fall through to default.
        if (request.hex.length !== 8 || ipToPxelinuxHex(peer.address) !== request.hex) return null;
        const mac = options.macForIp?.(peer.address) ?? null;
        const script = mac === null || inventory.machine(mac) === null ? null : inventory.script(mac, context);
        return script === null ? null : renderPxelinuxConfig(script);
      }
      case 'uuid':
        return null;
      case 'default':
        return PXELINUX_DEFAULT;
    }
  });
  return new ProviderChain([generated, new DirectoryProvider(options.roots)]);
}
