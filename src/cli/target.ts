// `diskless target add|list|show|rm|lun`: targets and their LUNs, through the REST API. Most
// users never need this: `machine add --disk` makes a target per machine. It is for shared
// read-only disks, imported setups and hand-made layouts.
import type { Command } from 'commander';
import { callApi, print, withApiOptions, type ApiFlags } from './api-client.ts';

interface TargetRow {
  iqn: string;
  alias: string | null;
  chap: { user: string } | null;
  mutualChap: { user: string } | null;
  allowedInitiators: string[] | null;
  luns: Array<{ lun: number; disk: string; readOnly: boolean }>;
}

function describe(t: TargetRow): string {
  const luns = t.luns.map((l) => `LUN ${l.lun} = ${l.disk}${l.readOnly ? ' (read-only)' : ''}`).join(', ') || 'no LUNs';
  const access = t.allowedInitiators === null ? 'any initiator' : t.allowedInitiators.join(', ');
  return `${t.iqn}${t.alias !== null ? ` (${t.alias})` : ''}\n  ${luns}\n  CHAP ${t.chap === null ? 'off' : `user ${t.chap.user}`}${t.mutualChap !== null ? `, mutual user ${t.mutualChap.user}` : ''}; ${access}`;
}

function credentials(value: string | undefined, flag: string): { user: string; secret: string } | undefined {
  if (value === undefined) return undefined;
  const colon = value.indexOf(':');
  if (colon <= 0) throw new Error(`${flag} takes USER:SECRET`);
  return { user: value.slice(0, colon), secret: value.slice(colon + 1) };
}

const collect = (v: string, all: string[]): string[] => [...all, v];

export function registerTargetCommand(program: Command): void {
  const target = program.command('target').description('iSCSI targets and their LUNs (machine add --disk makes one per machine for you)');
  withApiOptions(
    target
      .command('add')
      .description('Add a target')
      .argument('<iqn>')
      .option('--lun <disk[@lun]>', 'export this disk (repeat: LUN 0, 1, ... in order, or give @N)', collect, [] as string[])
      .option('--alias <alias>')
      .option('--chap <user:secret>', 'initiators must log in with this')
      .option('--mutual-chap <user:secret>', 'the target proves itself with this')
      .option('--initiator <iqn>', 'only this initiator may log in (repeatable)', collect, [] as string[])
      .option('--read-only', 'export every LUN read-only'),
  ).action(async (iqn: string, flags: ApiFlags & { lun: string[]; alias?: string; chap?: string; mutualChap?: string; initiator: string[]; readOnly?: boolean }) => {
    const luns = flags.lun.map((spec, index) => {
      const at = spec.lastIndexOf('@');
      const lun = at < 0 ? index : Number(spec.slice(at + 1));
      if (!Number.isInteger(lun) || lun < 0) throw new Error(`--lun ${spec}: the LUN after @ must be a number`);
      return { lun, disk: at < 0 ? spec : spec.slice(0, at), readOnly: flags.readOnly === true };
    });
    const chap = credentials(flags.chap, '--chap');
    const mutualChap = credentials(flags.mutualChap, '--mutual-chap');
    const body = {
      iqn,
      luns,
      ...(flags.alias !== undefined ? { alias: flags.alias } : {}),
      ...(chap !== undefined ? { chap } : {}),
      ...(mutualChap !== undefined ? { mutualChap } : {}),
      ...(flags.initiator.length > 0 ? { allowedInitiators: flags.initiator } : {}),
    };
    const row = (await callApi(flags, 'POST', '/api/targets', body)) as TargetRow;
    print(flags, row, `added ${describe(row)}`);
  });
  withApiOptions(target.command('list').description('List targets')).action(async (flags: ApiFlags) => {
    const rows = (await callApi(flags, 'GET', '/api/targets')) as TargetRow[];
    print(flags, rows, rows.length === 0 ? 'no targets in the store (targets of the configuration file are not listed here)' : rows.map(describe).join('\n'));
  });
  withApiOptions(target.command('show').description('Show one target').argument('<iqn>')).action(async (iqn: string, flags: ApiFlags) => {
    const row = (await callApi(flags, 'GET', `/api/targets/${encodeURIComponent(iqn)}`)) as TargetRow;
    print(flags, row, describe(row));
  });
  withApiOptions(target.command('rm').description('Remove a target (its disks stay); its sessions end').argument('<iqn>')).action(async (iqn: string, flags: ApiFlags) => {
    const row = (await callApi(flags, 'DELETE', `/api/targets/${encodeURIComponent(iqn)}`)) as TargetRow;
    print(flags, row, `removed ${row.iqn}`);
  });
  const lun = target.command('lun').description("Change a target's LUNs");
  withApiOptions(lun.command('set').description('Point LUN N at a disk').argument('<iqn>').argument('<lun>').argument('<disk>').option('--read-only')).action(
    async (iqn: string, n: string, disk: string, flags: ApiFlags & { readOnly?: boolean }) => {
      const row = (await callApi(flags, 'PUT', `/api/targets/${encodeURIComponent(iqn)}/luns/${encodeURIComponent(n)}`, { disk, readOnly: flags.readOnly === true })) as TargetRow;
      print(flags, row, describe(row));
    },
  );
  withApiOptions(lun.command('rm').description('Remove LUN N').argument('<iqn>').argument('<lun>')).action(async (iqn: string, n: string, flags: ApiFlags) => {
    const row = (await callApi(flags, 'DELETE', `/api/targets/${encodeURIComponent(iqn)}/luns/${encodeURIComponent(n)}`)) as TargetRow;
    print(flags, row, describe(row));
  });
}
