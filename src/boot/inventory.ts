// Machines by MAC, and their configured boot turned into resolved, renderable entries. Pure:
// the address a client reaches us at and the ports come in as a BootContext.
import type { BootEntryConfig, Config, MachineConfig, MenuConfig, TargetConfig } from '../config/schema.ts';
import { defaultInitiatorIqn } from '../config/schema.ts';
import { assertNever } from '../lib/errors.ts';
import type { BootEntry, Credentials, MachineScript, MenuBoot, SanDisk, SanIdentity } from './boot-entry.ts';

export interface BootContext {
  /** This server's address as the client reaches it (an IP literal). */
  readonly server: string;
  readonly iscsiPort: number;
  readonly httpPort: number;
}

/** Lower-case, colon-separated: the one MAC spelling used inside diskless. */
export function normalizeMac(mac: string): string | null {
  // The DHCP server asks for every packet with a MAC it formatted itself: answer that at once.
  if (isCanonicalMac(mac)) return mac;
  const hex = mac.toLowerCase().replace(/[^0-9a-f]/g, '');
  if (hex.length !== 12) return null;
  return hex.match(/../g)?.join(':') ?? null;
}

/** aa:bb:cc:dd:ee:ff with lowercase hex digits. */
function isCanonicalMac(mac: string): boolean {
  if (mac.length !== 17) return false;
  for (let i = 0; i < 17; i++) {
    const c = mac.charCodeAt(i);
    if (i % 3 === 2) {
      if (c !== 0x3a) return false;
    } else if (!((c >= 0x30 && c <= 0x39) || (c >= 0x61 && c <= 0x66))) return false;
  }
  return true;
}

export { defaultInitiatorIqn };

type Unknown = Config['unknownMachines'];

/** What the inventory needs of a target: the CHAP credentials iPXE must present to it. */
export type TargetCredentials = Pick<TargetConfig, 'iqn' | 'chap' | 'mutualChap'>;

export class Inventory {
  readonly #machines = new Map<string, MachineConfig>();
  readonly #targets = new Map<string, TargetCredentials>();

  constructor(
    machines: readonly MachineConfig[],
    targets: readonly TargetCredentials[],
    readonly unknownMachines: Unknown,
  ) {
    this.setMachines(machines);
    this.setTargets(targets);
  }

  /** Replaces the targets (the configuration's and the store's) after a change. */
  setTargets(targets: readonly TargetCredentials[]): void {
    this.#targets.clear();
    for (const target of targets) this.#targets.set(target.iqn.toLowerCase(), target);
  }

  /** Replaces the machines (the configuration's and the store's) after a change. */
  setMachines(machines: readonly MachineConfig[]): void {
    this.#machines.clear();
    for (const machine of machines) this.#machines.set(machine.mac, machine);
  }

  machine(mac: string): MachineConfig | null {
    const normalized = normalizeMac(mac);
    return normalized === null ? null : (this.#machines.get(normalized) ?? null);
  }

  /** Whether a client with this MAC gets any boot answer at all. */
  serves(mac: string): boolean {
    return this.machine(mac) !== null || this.unknownMachines !== 'ignore';
  }

  /** The script of a known machine, or of an unknown one when the default is a boot entry. */
  script(mac: string, ctx: BootContext): MachineScript | null {
    const machine = this.machine(mac);
    if (machine !== null) return this.#resolveMachine(machine.name, `${machine.name} (${machine.mac})`, machine.initiatorIqn, machine.boot, ctx);
    const unknown = this.unknownMachines;
    if (unknown === 'ignore' || unknown === 'not-registered') return null;
    const normalized = normalizeMac(mac) ?? mac;
    return this.#resolveMachine(`unknown-${normalized.replace(/:/g, '')}`, `unregistered machine ${normalized}`, undefined, unknown, ctx);
  }

  /** The disks a machine boots from (for DHCP option 17 and keep-san). */
  bootDisks(mac: string, ctx: BootContext): { disks: SanDisk[]; keepSan: boolean; identity: SanIdentity } | null {
    const script = this.script(mac, ctx);
    if (script === null || script.boot.kind === 'menu') return null;
    const boot = script.boot;
    if (boot.kind === 'sanboot') return { disks: [...boot.disks], keepSan: boot.keepSan === true, identity: script.identity };
    if (boot.kind === 'install') return { disks: [boot.disk], keepSan: true, identity: script.identity };
    return null;
  }

  #resolveMachine(name: string, title: string, initiatorIqn: string | undefined, boot: BootEntryConfig | MenuConfig, ctx: BootContext): MachineScript {
    const targets: string[] = [];
    const resolved = boot.kind === 'menu' ? this.#resolveMenu(boot, title, ctx, targets) : this.#resolveEntry(boot, ctx, targets);
    return { title, identity: this.#identity(initiatorIqn ?? defaultInitiatorIqn(name), targets), boot: resolved };
  }

  /** iPXE holds one set of CHAP credentials: those of the first target that requires CHAP. */
  #identity(initiatorIqn: string, targets: readonly string[]): SanIdentity {
    const withChap = targets.map((t) => this.#targets.get(t.toLowerCase())).find((t) => t?.chap !== undefined);
    const chap: Credentials | undefined = withChap?.chap;
    const mutualChap: Credentials | undefined = withChap?.mutualChap;
    return { initiatorIqn, ...(chap !== undefined ? { chap } : {}), ...(mutualChap !== undefined ? { mutualChap } : {}) };
  }

  #resolveMenu(menu: MenuConfig, title: string, ctx: BootContext, targets: string[]): MenuBoot {
    return {
      kind: 'menu',
      title: menu.title ?? `diskless: ${title}`,
      items: menu.items.map((item) => ({ id: item.id, label: item.label, entry: this.#resolveEntry(item.entry, ctx, targets) })),
      ...(menu.default !== undefined ? { defaultItem: menu.default } : {}),
      ...(menu.timeoutSeconds !== undefined ? { timeoutSeconds: menu.timeoutSeconds } : {}),
    };
  }

  #resolveEntry(entry: BootEntryConfig, ctx: BootContext, targets: string[]): BootEntry {
    const disk = (ref: { target: string; lun: number }): SanDisk => {
      targets.push(ref.target);
      return { server: ctx.server, port: ctx.iscsiPort, lun: ref.lun, target: ref.target };
    };
    const url = (value: string): string => (value.startsWith('/') ? `http://${hostForUrl(ctx.server)}:${ctx.httpPort}${value}` : value);
    switch (entry.kind) {
      case 'sanboot':
        return { kind: 'sanboot', disks: entry.disks.map(disk), ...(entry.keepSan !== undefined ? { keepSan: entry.keepSan } : {}) };
      case 'install': {
        const installer = entry.installer;
        return {
          kind: 'install',
          disk: disk(entry.disk),
          installer:
            installer.kind === 'kernel'
              ? { kind: 'kernel', kernel: url(installer.kernel), initrds: installer.initrds.map(url), ...(installer.cmdline !== undefined ? { cmdline: installer.cmdline } : {}) }
              : installer.kind === 'memdisk'
                ? { kind: 'memdisk', memdiskUrl: url('/files/memdisk'), image: url(installer.image), iso: installer.iso }
                : { ...installer, url: url(installer.url) },
        };
      }
      case 'kernel':
        return { kind: 'kernel', kernel: url(entry.kernel), initrds: entry.initrds.map(url), ...(entry.cmdline !== undefined ? { cmdline: entry.cmdline } : {}) };
      case 'memdisk':
        return { kind: 'memdisk', memdiskUrl: url('/files/memdisk'), image: url(entry.image), iso: entry.iso };
      case 'chain':
        return { kind: 'chain', url: url(entry.url) };
      case 'pxelinux':
        return { kind: 'pxelinux', tftpServer: hostForUrl(ctx.server) };
      case 'local':
      case 'shell':
        return { kind: entry.kind };
      default:
        return assertNever(entry);
    }
  }
}

/** IPv6 literals go in brackets inside URLs. */
export function hostForUrl(address: string): string {
  return address.includes(':') && !address.startsWith('[') ? `[${address}]` : address;
}
