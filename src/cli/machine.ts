// `diskless machine add|list|show|rm`: the machines of a running server, through its REST API.
import type { Command } from 'commander';
import { callApi as call, withApiOptions, type ApiFlags } from './api-client.ts';
import { parseImageRef } from './image.ts';

interface MachineRow {
  mac: string;
  name: string;
  group: string | null;
  initiatorIqn: string | null;
  boot: { kind: string; disks?: Array<{ target: string; lun: number }> };
}

function parseBootJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new Error(`--boot is not JSON: ${(err as Error).message}`, { cause: err });
  }
}

function isTargetRef(value: string): boolean {
  return /^(iqn|eui|naa)\./i.test(value);
}

/** "iqn...:disk" or "iqn...:disk@1" (LUN 1). */
export function parseDiskRef(value: string): { target: string; lun: number } {
  const at = value.lastIndexOf('@');
  if (at < 0) return { target: value, lun: 0 };
  const lun = Number(value.slice(at + 1));
  if (!Number.isInteger(lun) || lun < 0) throw new Error(`--disk ${value}: the LUN after @ must be a number, e.g. --disk iqn.2026-11.org.example:pc1@0`);
  return { target: value.slice(0, at), lun };
}

function describe(m: MachineRow): string {
  const disks = m.boot.disks?.map((d) => `${d.target}@${d.lun}`).join(', ');
  return `${m.name.padEnd(16)} ${m.mac}  ${m.boot.kind}${disks !== undefined ? ` ${disks}` : ''}`;
}

export function registerMachineCommand(program: Command): void {
  const machine = program.command('machine').description('Machines that boot from this server (by MAC)');
  withApiOptions(
    machine
      .command('add')
      .description('Register a machine and what it boots')
      .requiredOption('--mac <mac>', 'its MAC address, e.g. 52:54:00:12:34:56')
      .requiredOption('--name <name>', 'a name (its initiator IQN is derived from it)')
      .option('--disk <disk|iqn[@lun]>', 'boot from this disk (the machine gets a target of its own) or target; repeat for more disks: 0x80, 0x81, ...', (v: string, all: string[]) => [...all, v], [] as string[])
      .option('--image <name[@version]>', 'boot a copy-on-write disk of this golden image (NAME-disk, made for the machine)')
      .option('--discard', 'with --image: the disk goes back to the image at every boot')
      .option('--group <group>', 'a group for the console and bulk changes')
      .option('--boot <json>', 'a boot entry or menu as JSON, instead of --disk'),
  ).action(async (flags: ApiFlags & { mac: string; name: string; disk: string[]; boot?: string; group?: string; image?: string; discard?: boolean }) => {
    let boot: unknown;
    let disks: string[] | undefined;
    let image: Record<string, unknown> | undefined;
    if (flags.image !== undefined) {
      const ref = parseImageRef(flags.image);
      image = { image: ref.name, ...(ref.version !== undefined ? { version: ref.version } : {}), mode: flags.discard === true ? 'discard-on-reboot' : 'persistent' };
    } else if (flags.boot !== undefined) {
      boot = parseBootJson(flags.boot);
    } else if (flags.disk.length > 0) {
      const targets = flags.disk.filter(isTargetRef);
      if (targets.length > 0 && targets.length < flags.disk.length) throw new Error('--disk takes either disk names (the machine gets a target of its own) or target IQNs, not both');
      if (targets.length === 0) disks = flags.disk;
      else boot = { kind: 'sanboot', disks: flags.disk.map(parseDiskRef) };
    } else {
      throw new Error('say what the machine boots: --image IMAGE, --disk DISK or --disk IQN[@LUN] (repeatable), or --boot JSON');
    }
    const body = { mac: flags.mac, name: flags.name, ...(flags.group !== undefined ? { group: flags.group } : {}), ...(image !== undefined ? image : disks !== undefined ? { disks } : { boot }) };
    const added = (await call(flags, 'POST', '/api/machines', body)) as MachineRow;
    process.stdout.write(flags.json === true ? JSON.stringify(added, null, 2) + '\n' : `added ${describe(added)}\n`);
  });
  withApiOptions(
    machine
      .command('set')
      .description('Change a machine: its MAC, name, group, initiator IQN or what it boots')
      .argument('<mac-or-name>')
      .option('--mac <mac>')
      .option('--name <name>')
      .option('--group <group>', 'a group ("" for none)')
      .option('--initiator <iqn>', 'the initiator IQN its iPXE logs in with')
      .option('--disk <iqn[@lun]>', 'boot from these targets instead (repeatable)', (v: string, all: string[]) => [...all, v], [] as string[])
      .option('--boot <json>', 'a boot entry or menu as JSON'),
  ).action(async (ref: string, flags: ApiFlags & { mac?: string; name?: string; group?: string; initiator?: string; disk: string[]; boot?: string }) => {
    const patch: Record<string, unknown> = {};
    if (flags.mac !== undefined) patch.mac = flags.mac;
    if (flags.name !== undefined) patch.name = flags.name;
    if (flags.group !== undefined) patch.group = flags.group === '' ? null : flags.group;
    if (flags.initiator !== undefined) patch.initiatorIqn = flags.initiator;
    if (flags.boot !== undefined) patch.boot = parseBootJson(flags.boot);
    else if (flags.disk.length > 0) {
      if (!flags.disk.every(isTargetRef)) throw new Error('machine set --disk takes target IQNs; to give a machine new disks of its own, rm it and add it again with --disk DISK');
      patch.boot = { kind: 'sanboot', disks: flags.disk.map(parseDiskRef) };
    }
    if (Object.keys(patch).length === 0) throw new Error('nothing to change: give --mac, --name, --group, --initiator, --disk or --boot');
    const row = (await call(flags, 'PATCH', `/api/machines/${encodeURIComponent(ref)}`, patch)) as MachineRow;
    process.stdout.write(flags.json === true ? JSON.stringify(row, null, 2) + '\n' : `changed ${describe(row)}\n`);
  });
  withApiOptions(machine.command('list').description('List machines')).action(async (flags: ApiFlags) => {
    const rows = (await call(flags, 'GET', '/api/machines')) as MachineRow[];
    if (flags.json === true) process.stdout.write(JSON.stringify(rows, null, 2) + '\n');
    else process.stdout.write(rows.length === 0 ? 'no machines\n' : rows.map(describe).join('\n') + '\n');
  });
  withApiOptions(machine.command('show').description('Show one machine').argument('<mac-or-name>')).action(async (ref: string, flags: ApiFlags) => {
    const row = (await call(flags, 'GET', `/api/machines/${encodeURIComponent(ref)}`)) as MachineRow;
    process.stdout.write(flags.json === true ? JSON.stringify(row, null, 2) + '\n' : `${describe(row)}\n  initiator ${row.initiatorIqn ?? '(default)'}\n`);
  });
  withApiOptions(machine.command('rm').description('Remove a machine').argument('<mac-or-name>')).action(async (ref: string, flags: ApiFlags) => {
    const row = (await call(flags, 'DELETE', `/api/machines/${encodeURIComponent(ref)}`)) as MachineRow;
    process.stdout.write(flags.json === true ? JSON.stringify(row, null, 2) + '\n' : `removed ${describe(row)}\n`);
  });
}
