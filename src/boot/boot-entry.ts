// What a machine boots, fully resolved (addresses, ports, IQNs, credentials filled in): the
// input of the pure iPXE renderer. The inventory turns configuration into these.

export interface SanDisk {
  /** Address the client uses to reach the iSCSI portal (an IP literal: clients may have no DNS). */
  readonly server: string;
  readonly port: number;
  readonly lun: number;
  readonly target: string;
}

export interface Credentials {
  readonly user: string;
  readonly secret: string;
}

/** iSCSI identity and CHAP of a machine: iPXE settings set before any SAN command. */
export interface SanIdentity {
  readonly initiatorIqn?: string;
  /** Credentials the initiator presents (iPXE `username`/`password`). */
  readonly chap?: Credentials;
  /** Credentials the target must present back (iPXE `reverse-username`/`reverse-password`). */
  readonly mutualChap?: Credentials;
}

export type BootEntry =
  /** Boot from the first disk; further disks are hooked as 0x81, 0x82, ... (BIOS drive numbers). */
  | { readonly kind: 'sanboot'; readonly disks: readonly SanDisk[]; readonly keepSan?: boolean }
  /**
   * Install an OS onto a (blank) iSCSI disk: hook it as drive 0x80 and keep it registered
   * (keep-san, so Windows setup finds it through the iBFT), then start the installer.
   */
  | { readonly kind: 'install'; readonly disk: SanDisk; readonly installer: InstallerEntry }
  | KernelEntry
  | MemdiskEntry
  | { readonly kind: 'chain'; readonly url: string }
  /** pxelinux from our TFTP server; it reads pxelinux.cfg/ (generated per machine). */
  | { readonly kind: 'pxelinux'; readonly tftpServer: string }
  /** Hand back to the firmware, which boots the next device (a local disk). */
  | { readonly kind: 'local' }
  | { readonly kind: 'shell' };

export interface KernelEntry {
  readonly kind: 'kernel';
  readonly kernel: string;
  readonly initrds: readonly string[];
  readonly cmdline?: string;
}

/** A floppy or ISO image booted through syslinux's memdisk. */
export interface MemdiskEntry {
  readonly kind: 'memdisk';
  readonly memdiskUrl: string;
  readonly image: string;
  readonly iso: boolean;
}

export type InstallerEntry = KernelEntry | MemdiskEntry | { readonly kind: 'chain'; readonly url: string } | { readonly kind: 'iso'; readonly url: string };

export interface MenuItem {
  readonly id: string;
  readonly label: string;
  readonly entry: BootEntry;
}

export interface MenuBoot {
  readonly kind: 'menu';
  readonly title: string;
  readonly items: readonly MenuItem[];
  readonly defaultItem?: string;
  readonly timeoutSeconds?: number;
}

/** The whole script for one machine. */
export interface MachineScript {
  /** Who this is for, in the script's comment header (name and MAC). */
  readonly title: string;
  readonly identity: SanIdentity;
  readonly boot: BootEntry | MenuBoot;
  /** Seconds before trying again after a failure (default 5). */
  readonly retrySeconds?: number;
}
