// The inventory part of the checklist, from the server's own records: the machine is known (or
// what unknownMachines gives it), its boot entry resolves, and every target it names exists,
// has the LUN, admits its initiator IQN and takes the CHAP credentials iPXE will present. Pure.
import type { Credentials, MachineScript, SanDisk } from '../boot/boot-entry.ts';
import type { BootEntryConfig, Config, MenuConfig } from '../config/schema.ts';
import type { DoctorStep } from './checklist.ts';
import { closestName } from './closest-name.ts';
import { initiatorAllowed } from '../iscsi/target-directory.ts';

/** What the doctor needs to know of an exported target (see run-doctor.ts's adapter). */
export interface TargetView {
  readonly name: string;
  readonly luns: readonly number[];
  readonly chap: Credentials | null;
  readonly mutualChap: Credentials | null;
  readonly allowedInitiators: readonly string[] | null;
}

export interface MachineFacts {
  readonly mac: string;
  /** The registered machine's name, null when unregistered. */
  readonly name: string | null;
  readonly unknownMachines: Config['unknownMachines'];
  /** The resolved script (null: no script: unregistered and not served). */
  readonly script: MachineScript | null;
}

/** A SAN disk the machine may boot, and where in its entry it sits. */
export interface SanUse {
  readonly disk: SanDisk;
  /** "sanboot 0x80", "install onto", "menu item win: sanboot 0x80". */
  readonly role: string;
  /** A blank disk is expected (install entries write the OS onto it). */
  readonly blankExpected: boolean;
}

const ADD_HINT = (mac: string) => `register it: diskless machine add --mac ${mac} --name NAME --disk DISK`;

export function machineStep(facts: MachineFacts): DoctorStep {
  const base = { section: 'inventory' as const, id: 'inventory:machine' };
  if (facts.name !== null) {
    return { ...base, status: 'ok', summary: `${facts.name} (${facts.mac}) is registered${facts.script?.identity.initiatorIqn !== undefined ? `; its iPXE logs in as ${facts.script.identity.initiatorIqn}` : ''}` };
  }
  const unknown = facts.unknownMachines;
  if (unknown === 'ignore') {
    return { ...base, status: 'fail', summary: `${facts.mac} is not registered`, cause: `${facts.mac} is not a registered machine and unknownMachines is "ignore": diskless gives it no DHCP answer and no boot script.`, fix: ADD_HINT(facts.mac) };
  }
  if (unknown === 'not-registered') {
    return { ...base, status: 'fail', summary: `${facts.mac} is not registered`, cause: `${facts.mac} is not a registered machine: its iPXE gets the "not registered" screen and asks again every 30 seconds.`, fix: ADD_HINT(facts.mac) };
  }
  return { ...base, status: 'ok', summary: `${facts.mac} is not registered; it boots the default for unknown machines (${describeDefault(unknown)})` };
}

function describeDefault(entry: BootEntryConfig | MenuConfig): string {
  return entry.kind === 'menu' ? `a menu of ${entry.items.length} items` : entry.kind;
}

/** Every SAN disk in the machine's script, in the order the inventory resolved them. */
export function sanUses(script: MachineScript): SanUse[] {
  const uses: SanUse[] = [];
  const visit = (entry: MachineScript['boot'], prefix: string): void => {
    switch (entry.kind) {
      case 'sanboot':
        entry.disks.forEach((disk, i) => uses.push({ disk, role: `${prefix}sanboot, BIOS drive 0x${(0x80 + i).toString(16)}`, blankExpected: false }));
        return;
      case 'install':
        uses.push({ disk: entry.disk, role: `${prefix}install onto it`, blankExpected: true });
        return;
      case 'menu':
        for (const item of entry.items) visit(item.entry, `menu item ${item.id}: `);
        return;
      case 'kernel':
      case 'memdisk':
      case 'chain':
      case 'pxelinux':
      case 'local':
      case 'shell':
        return;
    }
  };
  visit(script.boot, '');
  return uses;
}

export function bootEntryStep(script: MachineScript | null): DoctorStep {
  const base = { section: 'inventory' as const, id: 'inventory:boot-entry' };
  if (script === null) return { ...base, status: 'skip', summary: 'no boot entry: the machine gets no script' };
  const boot = script.boot;
  const disks = sanUses(script).map((u) => `${u.disk.target}@${u.disk.lun}`);
  switch (boot.kind) {
    case 'menu':
      return { ...base, status: 'ok', summary: `boots a menu of ${boot.items.length} items (${boot.items.map((i) => i.id).join(', ')})${boot.defaultItem !== undefined ? `, default ${boot.defaultItem}` : ''}`, details: disks };
    case 'sanboot':
      return { ...base, status: 'ok', summary: `boots from ${disks.join(', ')}${boot.keepSan === true ? ' (keep-san)' : ''}` };
    case 'install':
      return { ...base, status: 'ok', summary: `installs onto ${disks.join(', ')} from ${boot.installer.kind === 'iso' || boot.installer.kind === 'chain' ? boot.installer.url : boot.installer.kind}` };
    case 'shell':
      return { ...base, status: 'warn', summary: 'boots to an iPXE shell', cause: 'The boot entry is "shell": the machine stops at an iPXE prompt and boots nothing by itself.', fix: 'give it a disk: diskless machine set NAME --disk IQN[@LUN]' };
    case 'local':
      return { ...base, status: 'ok', summary: 'hands back to the firmware, which boots the local disk' };
    case 'kernel':
    case 'memdisk':
    case 'chain':
    case 'pxelinux':
      return { ...base, status: 'ok', summary: `boots ${boot.kind === 'chain' ? `chain ${boot.url}` : boot.kind}` };
  }
}

export interface TargetCheckInput {
  readonly use: SanUse;
  readonly machineName: string | null;
  readonly initiatorIqn: string;
  /** The one set of CHAP credentials iPXE holds, and the target they came from. */
  readonly chap: Credentials | undefined;
  readonly chapFrom: string | null;
  readonly mutualChap: Credentials | undefined;
  readonly lookup: (iqn: string) => TargetView | null;
  readonly targetNames: readonly string[];
}

const sameCredentials = (a: Credentials, b: Credentials): boolean => a.user === b.user && a.secret === b.secret;

export function targetStep(input: TargetCheckInput): DoctorStep {
  const { disk, role } = input.use;
  const name = input.machineName ?? 'NAME';
  const ref = `${disk.target}@${disk.lun}`;
  const base = { section: 'inventory' as const, id: `inventory:target:${ref}` };
  const target = input.lookup(disk.target);
  if (target === null) {
    const closest = closestName(disk.target, input.targetNames);
    return {
      ...base,
      status: 'fail',
      summary: `target ${disk.target} (${role}) does not exist`,
      cause: `${disk.target} is not a target of this server${closest !== null ? `; did you mean ${closest}?` : '.'}`,
      fix: closest !== null ? `point the machine at it: diskless machine set ${name} --disk ${closest}@${disk.lun}` : `create it (diskless target add ${disk.target} --lun DISK), or point the machine at an existing target (diskless target list)`,
      ipxeError: '0x2c0d603b',
    };
  }
  if (!target.luns.includes(disk.lun)) {
    const first = target.luns[0];
    return {
      ...base,
      status: 'fail',
      summary: `target ${disk.target} has no LUN ${disk.lun} (${role})`,
      cause: `${disk.target} has ${target.luns.length === 0 ? 'no LUNs at all' : `LUN ${target.luns.join(', ')}`}, not LUN ${disk.lun}: iPXE logs in, then its first SCSI command fails.`,
      fix: first !== undefined ? `use LUN ${first}: diskless machine set ${name} --disk ${disk.target}@${first}` : `give the target a disk: diskless target lun set ${disk.target} ${disk.lun} DISK`,
      ipxeError: '0x1d704039',
    };
  }
  const allowed = target.allowedInitiators;
  // The login's own check (names compared as iSCSI names, RFC 3722), so the doctor predicts
  // exactly the refusals the portal makes.
  if (allowed !== null && !initiatorAllowed(target, input.initiatorIqn)) {
    return {
      ...base,
      status: 'fail',
      summary: `target ${disk.target} does not admit ${input.initiatorIqn}`,
      cause: `${disk.target} admits only ${allowed.join(', ') || 'nobody'}; ${name} logs in as ${input.initiatorIqn}.`,
      fix: `add ${input.initiatorIqn} to the target's initiators (PATCH /api/targets/${disk.target} {"allowedInitiators": [...]}), or set the machine's IQN: diskless machine set ${name} --initiator IQN`,
      ipxeError: '0x410d623c',
    };
  }
  if (target.chap !== null && input.chap === undefined) {
    return { ...base, status: 'fail', summary: `target ${disk.target} requires CHAP, and the machine is given none`, cause: `${disk.target} requires CHAP user ${target.chap.user}, but no target the machine boots from gives iPXE credentials.`, fix: `remove CHAP from ${disk.target}, or boot the machine from a target it has credentials for`, ipxeError: '0x410d613c' };
  }
  if (target.chap !== null && input.chap !== undefined && !sameCredentials(target.chap, input.chap)) {
    return {
      ...base,
      status: 'fail',
      summary: `wrong CHAP credentials for target ${disk.target}`,
      cause: `${disk.target} expects CHAP user ${target.chap.user} with its own secret, but iPXE holds one set of CHAP credentials: user ${input.chap.user}'s, from ${input.chapFrom ?? 'another target'}.`,
      fix: `give ${disk.target} the same CHAP credentials as ${input.chapFrom ?? 'the machine\'s other targets'} (PATCH /api/targets/${disk.target} {"chap": {...}}), or keep the machine's disks on one target`,
      ipxeError: '0x410d613c',
    };
  }
  if (input.mutualChap !== undefined && target.mutualChap !== null && !sameCredentials(target.mutualChap, input.mutualChap)) {
    return { ...base, status: 'fail', summary: `mutual CHAP of target ${disk.target} does not match`, cause: `iPXE expects ${disk.target} to prove itself as ${input.mutualChap.user} with the reverse secret it holds, and the target's mutual CHAP differs.`, fix: `give every target of the machine the same mutual CHAP credentials`, ipxeError: '0x020d623c' };
  }
  const auth = target.chap !== null ? `, CHAP user ${target.chap.user}` : '';
  return { ...base, status: 'ok', summary: `${ref} (${role}): the target exists, has LUN ${disk.lun} and admits ${input.initiatorIqn}${auth}` };
}
