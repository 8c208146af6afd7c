// A machine with its own disks, in one step: `machine add --disk pc1-disk` (or the console's
// form) creates the machine and a target of its own, iqn.2026-11.org.diskless:target.<name>,
// with the disks as LUNs 0, 1, ..., that only the machine's initiator IQN may log in to, with
// the machine's generated CHAP secret. iPXE gets the same credentials in its script. This is
// what users built by hand in ietd.conf (one Target per PC, IncomingUser, initiators.allow).
import type { Store } from '../store/open-store.ts';
import { StoreError, StoreErrorCode } from '../store/errors.ts';
import type { Machine, MachinePatch, NewMachine } from '../store/repositories/machines.ts';
import type { DiskMode } from '../store/repositories/disks.ts';
import { rm } from 'node:fs/promises';
import { createDisk } from './disk-service.ts';

export const DERIVED_TARGET_PREFIX = 'iqn.2026-11.org.diskless:target.';

export function derivedTargetIqn(machineName: string): string {
  return `${DERIVED_TARGET_PREFIX}${machineName.toLowerCase()}`;
}

export interface NewMachineWithDisks extends Omit<NewMachine, 'boot'> {
  /** Disk names, in BIOS drive order (0x80, 0x81, ...). */
  readonly disks: readonly string[];
  readonly keepSan?: boolean | undefined;
}

/** Creates the machine and its target, or neither. */
export async function addMachineWithDisks(store: Store, input: NewMachineWithDisks): Promise<Machine> {
  if (!Array.isArray(input.disks) || input.disks.length === 0 || input.disks.some((d) => typeof d !== 'string')) {
    throw new StoreError(StoreErrorCode.Invalid, 'disks: give at least one disk name, e.g. "disks": ["pc1-disk"]');
  }
  await checkDisksFree(store, input.disks);
  const { disks, keepSan, ...rest } = input;
  const iqn = derivedTargetIqn(String(rest.name));
  const machine = await store.machines.add({
    ...rest,
    boot: { kind: 'sanboot', disks: disks.map((_, lun) => ({ target: iqn, lun })), ...(keepSan !== undefined ? { keepSan } : {}) },
  });
  try {
    await store.targets.add({
      iqn,
      alias: machine.name,
      chap: machine.chap === null ? null : { user: machine.chap.user, secret: machine.chap.secret.reveal() },
      allowedInitiators: machine.initiatorIqn === null ? null : [machine.initiatorIqn],
      luns: disks.map((disk, lun) => ({ lun, disk })),
    });
  } catch (err) {
    await store.machines.remove(machine.name);
    throw err;
  }
  return machine;
}

/** The targets made for this machine by addMachineWithDisks (found through its boot disks). */
function derivedTargetsOf(machine: Machine): string[] {
  if (machine.boot.kind !== 'sanboot') return [];
  return [...new Set(machine.boot.disks.map((d) => d.target).filter((t) => t.startsWith(DERIVED_TARGET_PREFIX)))];
}

/** Removes the machine and the target derived for it, if there is one. */
export async function removeMachine(store: Store, ref: string): Promise<Machine> {
  const machine = await store.machines.remove(ref);
  for (const iqn of derivedTargetsOf(machine)) if ((await store.targets.get(iqn)) !== undefined) await store.targets.remove(iqn);
  return machine;
}

/** Changes a machine; its own target follows a new initiator IQN or CHAP secret. */
export async function updateMachine(store: Store, ref: string, patch: MachinePatch): Promise<Machine> {
  const machine = await store.machines.update(ref, patch);
  for (const iqn of derivedTargetsOf(machine)) {
    if ((await store.targets.get(iqn)) === undefined) continue;
    await store.targets.update(iqn, {
      chap: machine.chap === null ? null : { user: machine.chap.user, secret: machine.chap.secret.reveal() },
      allowedInitiators: machine.initiatorIqn === null ? null : [machine.initiatorIqn],
    });
  }
  return machine;
}

/** A disk written by two machines at once is a corrupted filesystem: one writer per disk. */
async function checkDisksFree(store: Store, disks: readonly string[]): Promise<void> {
  const seen = new Set<string>();
  for (const name of disks) {
    if (seen.has(name)) throw new StoreError(StoreErrorCode.Invalid, `disks: ${name} is listed twice`);
    seen.add(name);
    const disk = await store.disks.get(name);
    if (disk === undefined) throw new StoreError(StoreErrorCode.NotFound, `disks: no disk named ${name}; create it with \`diskless disk create ${name} --size 20G\``);
  }
  for (const target of await store.targets.list()) {
    for (const lun of target.luns) {
      if (seen.has(lun.disk) && !lun.readOnly) {
        throw new StoreError(
          StoreErrorCode.InUse,
          `disk ${lun.disk} is already LUN ${lun.lun} of ${target.iqn}; two machines writing one disk corrupt it. Give this machine its own disk (or a copy-on-write disk of a golden image)`,
        );
      }
    }
  }
}

export interface NewMachineWithImage extends Omit<NewMachine, 'boot'> {
  readonly image: string;
  readonly version?: number | undefined;
  readonly mode?: DiskMode | undefined;
}

/**
 * The golden-image way: the machine gets a copy-on-write disk of the image, NAME-disk, and a
 * target of its own for it. Nothing is left behind if any step is refused.
 */
export async function addMachineWithImage(store: Store, dataDir: string, input: NewMachineWithImage): Promise<Machine> {
  const { image, version, mode, ...rest } = input;
  const diskName = `${String(rest.name)}-disk`;
  const disk = await createDisk(store, dataDir, { name: diskName, image, version, mode });
  try {
    return await addMachineWithDisks(store, { ...rest, disks: [disk.name] });
  } catch (err) {
    await store.disks.remove(disk.name);
    await rm(disk.path, { force: true });
    throw err;
  }
}
