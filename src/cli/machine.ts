// `diskless machine add|list|show|rm`: the machines of a running server, through its REST API.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Command } from 'commander';

interface ApiFlags {
  server: string;
  token?: string;
  dataDir: string;
  json?: boolean;
}

interface MachineRow {
  mac: string;
  name: string;
  group: string | null;
  initiatorIqn: string | null;
  boot: { kind: string; disks?: Array<{ target: string; lun: number }> };
}

function token(flags: ApiFlags): string {
  if (flags.token !== undefined) return flags.token;
  const path = join(flags.dataDir, 'api-token');
  try {
    return readFileSync(path, 'utf8').trim();
  } catch {
    throw new Error(`no API token: pass --token, or --data-dir pointing at the server's data directory (looked for ${path})`);
  }
}

async function call(flags: ApiFlags, method: string, path: string, body?: unknown): Promise<unknown> {
  let response: Response;
  try {
    response = await fetch(new URL(path, flags.server), {
      method,
      headers: { ...(method !== 'GET' ? { authorization: `Bearer ${token(flags)}` } : {}), ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    });
  } catch (err) {
    throw new Error(`cannot reach the server at ${flags.server} (${(err as Error).message}); is 'diskless serve' running? Pass --server URL if it listens elsewhere`, { cause: err });
  }
  const answer = (await response.json()) as { error?: string };
  if (!response.ok) throw new Error(answer.error ?? `server answered ${response.status}`);
  return answer;
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

function withApiOptions(command: Command): Command {
  return command
    .option('--server <url>', 'URL of the running server', 'http://127.0.0.1:8080')
    .option('--token <token>', 'API token (default: read from DATA_DIR/api-token)')
    .option('--data-dir <dir>', "the server's data directory", './data')
    .option('--json', 'print JSON');
}

export function registerMachineCommand(program: Command): void {
  const machine = program.command('machine').description('Machines that boot from this server (by MAC)');
  withApiOptions(
    machine
      .command('add')
      .description('Register a machine and what it boots')
      .requiredOption('--mac <mac>', 'its MAC address, e.g. 52:54:00:12:34:56')
      .requiredOption('--name <name>', 'a name (its initiator IQN is derived from it)')
      .option('--disk <iqn[@lun]>', 'boot from this target (repeat for more disks: 0x80, 0x81, ...)', (v: string, all: string[]) => [...all, v], [] as string[])
      .option('--boot <json>', 'a boot entry or menu as JSON, instead of --disk'),
  ).action(async (flags: ApiFlags & { mac: string; name: string; disk: string[]; boot?: string }) => {
    let boot: unknown;
    if (flags.boot !== undefined) {
      try {
        boot = JSON.parse(flags.boot);
      } catch (err) {
        throw new Error(`--boot is not JSON: ${(err as Error).message}`, { cause: err });
      }
    } else if (flags.disk.length > 0) {
      boot = { kind: 'sanboot', disks: flags.disk.map(parseDiskRef) };
    } else {
      throw new Error('say what the machine boots: --disk IQN[@LUN] (repeatable) or --boot JSON');
    }
    const added = (await call(flags, 'POST', '/api/machines', { mac: flags.mac, name: flags.name, boot })) as MachineRow;
    process.stdout.write(flags.json === true ? JSON.stringify(added, null, 2) + '\n' : `added ${describe(added)}\n`);
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
