// `diskless import <files...>`: an existing IET, tgt, dnsmasq or pxelinux setup in one command.
// Each file goes to its parser (by --format, else by name, else by content), the plans merge,
// the plan is printed in words with its notes, and unless --dry-run it is applied through the
// running server's REST API: disks, then targets, then machines. What already exists is kept
// (so the same import can run again after a fix); any other refusal stops the import.
import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { callApi, print, withApiOptions, type ApiFlags } from './api-client.ts';
import { isIetInitiatorsAllow, looksLikeIetd, parseIetd } from '../import/ietd.ts';
import { looksLikeDnsmasq, looksLikeDnsmasqHostsFile, parseDnsmasq } from '../import/dnsmasq.ts';
import { looksLikePxelinux, parsePxelinux } from '../import/pxelinux.ts';
import { looksLikeTgt, parseTgtTargets } from '../import/tgt-targets.ts';
import { ImportError, ImportErrorCode, mergePlans, type BootConfig, type ImportDisk, type ImportMachine, type ImportPlan, type ImportTarget } from '../import/plan.ts';

export const IMPORT_FORMATS = ['ietd', 'tgt', 'dnsmasq', 'pxelinux'] as const;
export type ImportFormat = (typeof IMPORT_FORMATS)[number];

interface ImportFlags extends ApiFlags {
  dryRun?: boolean;
  format?: string;
}

interface SourceFile {
  readonly path: string;
  readonly text: string;
}

type Detected = ImportFormat | 'dnsmasq-hosts' | 'initiators-allow';

/** The parser for a file: by name first, then by what is in it; null when nothing fits. */
export function detectFormat(path: string, text: string): Detected | null {
  if (isIetInitiatorsAllow(path)) return 'initiators-allow';
  if (looksLikeIetd(path, text)) return 'ietd';
  if (looksLikeTgt(path, text)) return 'tgt';
  if (looksLikeDnsmasqHostsFile(path, text)) return 'dnsmasq-hosts';
  if (looksLikeDnsmasq(path, text)) return 'dnsmasq';
  if (looksLikePxelinux(path, text)) return 'pxelinux';
  return null;
}

/** Reads every file into one merged plan (pure apart from the reading, done by the caller). */
export function planFromFiles(files: readonly SourceFile[], forced?: ImportFormat): ImportPlan {
  const formats = files.map((f) => forced ?? detectFormat(f.path, f.text));
  const allow = files.filter((_f, i) => formats[i] === 'initiators-allow');
  const ietd = files.filter((_f, i) => formats[i] === 'ietd');
  const firstAllow = allow[0];
  if (firstAllow !== undefined && (ietd.length !== 1 || allow.length > 1)) {
    throw new Error(`${firstAllow.path}: initiators.allow only means something beside its ietd.conf; pass exactly one of each`);
  }
  const plans = files.flatMap((file, i): ImportPlan[] => {
    const format = formats[i] ?? null;
    switch (format) {
      case 'ietd':
        return [parseIetd(file.text, file.path, firstAllow === undefined ? {} : { initiatorsAllow: { text: firstAllow.text, file: firstAllow.path } })];
      case 'tgt':
        return [parseTgtTargets(file.text, file.path)];
      case 'dnsmasq':
        return [parseDnsmasq(file.text, file.path)];
      case 'dnsmasq-hosts':
        return [parseDnsmasq(file.text, file.path, { hostsFile: true })];
      case 'pxelinux':
        return [parsePxelinux(file.text, file.path)];
      case 'initiators-allow':
        return [];
      case null:
        throw new ImportError(ImportErrorCode.UnknownFormat, file.path, 0, `cannot tell which kind of file this is; pass --format ${IMPORT_FORMATS.join('|')}`);
    }
  });
  return mergePlans(...plans);
}

function describeBoot(boot: BootConfig): string {
  switch (boot.kind) {
    case 'sanboot':
      return `sanboot ${boot.disks.map((d) => `${d.target} LUN ${d.lun}`).join(', ')}${boot.keepSan === true ? ' (keep-san)' : ''}`;
    case 'install':
      return `install onto ${boot.disk.target} LUN ${boot.disk.lun} with ${boot.installer.kind} ${'url' in boot.installer ? boot.installer.url : 'kernel' in boot.installer ? boot.installer.kernel : boot.installer.image}`;
    case 'kernel':
      return `kernel ${boot.kernel}${boot.initrds.length > 0 ? ` + ${boot.initrds.join(', ')}` : ''}${boot.cmdline !== undefined ? ` "${boot.cmdline}"` : ''}`;
    case 'memdisk':
      return `memdisk ${boot.image}${boot.iso ? ' (ISO)' : ''}`;
    case 'chain':
      return `chain ${boot.url}`;
    case 'menu':
      return `menu: ${boot.items.map((i) => `${i.id}${i.id === boot.default ? '*' : ''} (${describeBoot(i.entry)})`).join('; ')}`;
    case 'pxelinux':
    case 'local':
    case 'shell':
      return boot.kind;
  }
}

export function describePlan(plan: ImportPlan, files: readonly string[]): string {
  const lines = [`Import plan from ${files.join(', ')}:`];
  for (const d of plan.disks) lines.push(`  disk    ${d.name}  ${d.path}${d.readOnly ? ' (read-only)' : ''}`);
  for (const t of plan.targets) {
    const luns = t.luns.map((l) => `LUN ${l.lun} = ${l.disk}${l.readOnly === true ? ' (read-only)' : ''}${l.sourceLun !== undefined ? ` (was ${l.sourceLun})` : ''}`).join(', ');
    const chap = t.chap !== undefined ? `; CHAP user ${t.chap.user}${t.mutualChap !== undefined ? `, mutual ${t.mutualChap.user}` : ''}` : '';
    const who = t.allowedInitiators !== undefined ? `; only ${t.allowedInitiators.join(', ')}` : '';
    lines.push(`  target  ${t.iqn}${t.alias !== undefined ? ` (${t.alias})` : ''}: ${luns || 'no LUNs'}${chap}${who}`);
  }
  for (const m of plan.machines) {
    lines.push(`  machine ${m.name}  ${m.mac}${m.group !== undefined ? `  group ${m.group}` : ''}${m.initiatorIqn !== undefined ? `  as ${m.initiatorIqn}` : ''}: ${describeBoot(m.boot)}`);
  }
  if (plan.disks.length + plan.targets.length + plan.machines.length === 0) lines.push('  nothing to import');
  const fallback = plan.unknownMachines;
  if (fallback !== undefined) {
    lines.push(
      `Machines without an entry of their own booted: ${describeBoot(fallback.boot)} (${fallback.origin.file}).`,
      "  The API cannot set that; to keep it, put this in diskless's config file:",
      `  unknownMachines: ${JSON.stringify(fallback.boot)}`,
    );
  }
  if (plan.notes.length > 0) lines.push(`Notes (${plan.notes.length}):`, ...plan.notes.map((n) => `  ${n}`));
  return lines.join('\n') + '\n';
}

/** API bodies: the plan's own fields, never its bookkeeping (origin, sourceLun). */
function diskBody(d: ImportDisk): object {
  return { name: d.name, path: d.path, readOnly: d.readOnly };
}
function targetBody(t: ImportTarget): object {
  const { origin: _origin, luns, ...rest } = t;
  return { ...rest, luns: luns.map(({ lun, disk, readOnly }) => ({ lun, disk, ...(readOnly !== undefined ? { readOnly } : {}) })) };
}
function machineBody(m: ImportMachine): object {
  const { origin: _origin, ...rest } = m;
  return rest;
}

export interface Outcome {
  readonly kind: 'disk' | 'target' | 'machine';
  readonly id: string;
  readonly result: 'added' | 'kept' | 'skipped';
  readonly detail?: string;
}

/** A 409 from the API: the entity is there already. callApi keeps the status when it can. */
function isConflict(err: unknown): boolean {
  if (typeof err !== 'object' || err === null) return false;
  const { status, code } = err as { status?: unknown; code?: unknown };
  return status === 409 || (typeof code === 'string' && code.startsWith('STORE_DUPLICATE'));
}

async function list<T>(flags: ApiFlags, path: string): Promise<T[]> {
  const rows = await callApi(flags, 'GET', path);
  return Array.isArray(rows) ? (rows as T[]) : [];
}

/** Applies the plan in dependency order; throws with what was done when the server refuses. */
export async function applyPlan(flags: ApiFlags, plan: ImportPlan, report: (o: Outcome) => void): Promise<Outcome[]> {
  const done: Outcome[] = [];
  const record = (o: Outcome): void => {
    done.push(o);
    report(o);
  };
  const [disks, targets, machines] = await Promise.all([
    list<{ name: string; path: string }>(flags, '/api/disks'),
    list<{ iqn: string }>(flags, '/api/targets'),
    list<{ mac: string; name: string }>(flags, '/api/machines'),
  ]);
  const attempt = async (kind: Outcome['kind'], id: string, path: string, body: object): Promise<void> => {
    try {
      await callApi(flags, 'POST', path, body);
      record({ kind, id, result: 'added' });
    } catch (err) {
      if (isConflict(err)) return record({ kind, id, result: 'kept', detail: 'already there' });
      const added = done.filter((o) => o.result === 'added').length;
      const kept = done.filter((o) => o.result !== 'added').length;
      throw new Error(
        `import stopped at ${kind} ${id}: ${(err as Error).message}\n` +
          `Before it: ${added} added, ${kept} kept or skipped${done.length > 0 ? ' (listed above)' : ''}. Fix the cause, then run the same import again: what is already there is kept.`,
        { cause: err },
      );
    }
  };
  for (const d of plan.disks) {
    const existing = disks.find((e) => e.name === d.name);
    if (existing === undefined) await attempt('disk', d.name, '/api/disks', diskBody(d));
    else record({ kind: 'disk', id: d.name, result: 'kept', detail: existing.path === d.path ? 'already there' : `already there, for ${existing.path} (not ${d.path})` });
  }
  for (const t of plan.targets) {
    if (targets.some((e) => e.iqn.toLowerCase() === t.iqn.toLowerCase())) record({ kind: 'target', id: t.iqn, result: 'kept', detail: 'already there' });
    else await attempt('target', t.iqn, '/api/targets', targetBody(t));
  }
  for (const m of plan.machines) {
    const id = `${m.name} (${m.mac})`;
    const sameMac = machines.find((e) => e.mac === m.mac);
    const sameName = machines.find((e) => e.name === m.name && e.mac !== m.mac);
    if (sameMac !== undefined) record({ kind: 'machine', id, result: 'kept', detail: sameMac.name === m.name ? 'already there' : `already there, as ${sameMac.name}` });
    else if (sameName !== undefined) record({ kind: 'machine', id, result: 'skipped', detail: `the name is taken by ${sameName.mac}; rename one of them and import again` });
    else await attempt('machine', id, '/api/machines', machineBody(m));
  }
  return done;
}

function readSources(paths: readonly string[]): SourceFile[] {
  return paths.map((path) => {
    try {
      return { path, text: readFileSync(path, 'utf8') };
    } catch (err) {
      throw new Error(`cannot read ${path}: ${(err as Error).message}`, { cause: err });
    }
  });
}

export function registerImportCommand(program: Command): void {
  withApiOptions(
    program
      .command('import')
      .description('Import an existing setup: IET ietd.conf (+ initiators.allow), tgt targets.conf, dnsmasq configs, pxelinux.cfg files')
      .argument('<files...>', 'configuration files, read together (dnsmasq machines may boot targets from ietd.conf)')
      .option('--dry-run', 'only show what would be imported')
      .option('--format <format>', `read every file as this format: ${IMPORT_FORMATS.join(', ')}`),
  ).action(async (paths: string[], flags: ImportFlags) => {
    const format = flags.format;
    if (format !== undefined && !(IMPORT_FORMATS as readonly string[]).includes(format)) throw new Error(`--format ${format}: use one of ${IMPORT_FORMATS.join(', ')}`);
    const plan = planFromFiles(readSources(paths), format as ImportFormat | undefined);
    const json = flags.json === true;
    if (!json) process.stdout.write(describePlan(plan, paths));
    if (flags.dryRun === true) return print(flags, { plan }, 'Dry run: nothing was changed.');
    if (!json) process.stdout.write(`Applying to ${flags.server}:\n`);
    const report = (o: Outcome): void => {
      if (!json) process.stdout.write(`  ${o.kind} ${o.id}: ${o.result}${o.detail !== undefined ? ` (${o.detail})` : ''}\n`);
    };
    const outcomes = await applyPlan(flags, plan, report);
    const count = (r: Outcome['result']): number => outcomes.filter((o) => o.result === r).length;
    print(flags, { plan, outcomes }, `Done: ${count('added')} added, ${count('kept')} already there and kept, ${count('skipped')} skipped.`);
  });
}
