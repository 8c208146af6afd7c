// What `diskless import` builds from an existing setup (IET, tgt, dnsmasq, pxelinux): disks,
// targets and machines in the API's own shapes, plus one note per thing that was skipped or
// approximated. Parsers are pure (text in, plan out); the CLI applies the plan through the API.
import { z } from 'zod';
import { bootEntryConfig, iqn as iqnSchema, menuConfig, type BootEntryConfig, type MenuConfig } from '../config/schema.ts';
import { DisklessError } from '../lib/errors.ts';
import { defaultInitiatorIqn } from '../store/repositories/machines.ts';

/** Where a plan item came from, so notes and conflicts can point at the line. */
export interface Origin {
  readonly file: string;
  readonly line: number;
}

export interface ChapPair {
  readonly user: string;
  readonly secret: string;
}

export interface ImportDisk {
  /** Letters, digits, '.', '-', '_'; at most 63; unique within the plan. */
  readonly name: string;
  readonly path: string;
  readonly readOnly: boolean;
  readonly origin: Origin;
}

export interface ImportLun {
  readonly lun: number;
  /** The disk's name in the same plan. */
  readonly disk: string;
  readonly readOnly?: boolean;
  /** The number the old target used, when diskless numbers it differently (tgt's LUN 1 is our 0). */
  readonly sourceLun?: number;
}

export interface ImportTarget {
  readonly iqn: string;
  readonly alias?: string;
  readonly chap?: ChapPair;
  readonly mutualChap?: ChapPair;
  readonly allowedInitiators?: readonly string[];
  readonly luns: readonly ImportLun[];
  readonly origin: Origin;
}

/** A boot entry or menu in the configuration schema's shape (src/config/schema.ts). */
export type BootConfig = BootEntryConfig | MenuConfig;

export interface ImportMachine {
  /** Lower-case, colon-separated. */
  readonly mac: string;
  readonly name: string;
  readonly group?: string;
  /** Set when the old setup named the initiator (dnsmasq option 203, IET/tgt allow lists). */
  readonly initiatorIqn?: string;
  readonly boot: BootConfig;
  readonly origin: Origin;
}

/**
 * What machines without an entry of their own booted (dnsmasq's untagged options, the
 * pxelinux.cfg/default file). In diskless that is the `unknownMachines` setting of its config
 * file, which the API does not change: the CLI shows it for the user to copy.
 */
export interface ImportFallback {
  readonly boot: BootConfig;
  readonly origin: Origin;
}

export interface ImportPlan {
  readonly disks: ImportDisk[];
  readonly targets: ImportTarget[];
  readonly machines: ImportMachine[];
  /** One sentence each: what was skipped or approximated, why, with file and line. */
  readonly notes: string[];
  readonly unknownMachines?: ImportFallback;
}

export const ImportErrorCode = {
  /** The file has NUL bytes: not a configuration file. */
  NotText: 'IMPORT_NOT_TEXT',
  /** A tgt <block> that is never closed, or closed without being opened. */
  UnbalancedBlock: 'IMPORT_UNBALANCED_BLOCK',
  /** A dnsmasq value with an opening quote and no closing one (dnsmasq refuses it too). */
  UnterminatedQuote: 'IMPORT_UNTERMINATED_QUOTE',
  /** The same target twice in one file (IET and tgt-admin refuse it too). */
  DuplicateTarget: 'IMPORT_DUPLICATE_TARGET',
  /** The same LUN number twice in one target. */
  DuplicateLun: 'IMPORT_DUPLICATE_LUN',
  /** Two files define the same target differently. */
  MergeConflict: 'IMPORT_MERGE_CONFLICT',
  /** A file none of the parsers recognises (pass --format). */
  UnknownFormat: 'IMPORT_UNKNOWN_FORMAT',
} as const;
export type ImportErrorCode = (typeof ImportErrorCode)[keyof typeof ImportErrorCode];

/** The only error a parser throws: the file as a whole cannot be imported. */
export class ImportError extends DisklessError {
  constructor(
    override readonly code: ImportErrorCode,
    readonly file: string,
    /** 1-based; 0 when the problem is the whole file. */
    readonly line: number,
    what: string,
  ) {
    super(code, `${where(file, line)}${what}`);
    this.name = 'ImportError';
  }
}

export function where(file: string, line: number): string {
  return line > 0 ? `${file}:${line}: ` : `${file}: `;
}

export function emptyPlan(): ImportPlan {
  return { disks: [], targets: [], machines: [], notes: [] };
}

/** The lines of a text file; binary input is refused rather than parsed as garbage. */
export function splitLines(text: string, file: string): string[] {
  const nul = text.indexOf('\0');
  if (nul >= 0) throw new ImportError(ImportErrorCode.NotText, file, text.slice(0, nul).split('\n').length, 'has NUL bytes: this is not a configuration file');
  return text.split(/\r?\n|\r/);
}

/** Collects notes for one file, each at most once, in line order (whole-file notes last). */
export class NoteLog {
  readonly #notes: { readonly line: number; readonly text: string }[] = [];
  readonly #seen = new Set<string>();

  constructor(readonly file: string) {}

  add(line: number, sentence: string): void {
    const text = `${where(this.file, line)}${sentence}`;
    if (this.#seen.has(text)) return;
    this.#seen.add(text);
    this.#notes.push({ line: line > 0 ? line : Number.MAX_SAFE_INTEGER, text });
  }

  get notes(): string[] {
    return [...this.#notes].sort((a, b) => a.line - b.line).map((n) => n.text);
  }
}

/** Lower-case colon form, or null: 6 groups of 1-2 hex digits split by ':' or '-'. */
export function normalizeMac(value: string): string | null {
  const groups = value.trim().split(/[:-]/);
  if (groups.length !== 6 || !groups.every((g) => /^[0-9a-f]{1,2}$/i.test(g))) return null;
  return groups.map((g) => g.toLowerCase().padStart(2, '0')).join(':');
}

/** The name a machine gets when the old setup gave it none. */
export function machineNameFromMac(mac: string): string {
  return `machine-${mac.replace(/:/g, '')}`;
}

export function isValidIqn(value: string): boolean {
  return iqnSchema.safeParse(value).success;
}

const namePattern = /^[A-Za-z0-9._-]+$/;

/** A name the API accepts (disks, machines, groups, menu ids): bad characters become '-'. */
export function safeName(value: string, maxLength = 63): string {
  return value
    .replace(/[^A-Za-z0-9._-]+/g, '-')
    .replace(/^[-.]+|-+$/g, '')
    .slice(0, maxLength);
}

/** `base`, else `base-2`, `base-3`, ... not in `taken` (which it then joins). */
export function uniqueName(base: string, taken: Set<string>, maxLength = 63): string {
  let name = base;
  for (let i = 2; taken.has(name); i++) name = `${base.slice(0, maxLength - String(i).length - 1)}-${i}`;
  taken.add(name);
  return name;
}

/** Disks of one file: one per path, named after the file, unique names. */
export class DiskNamer {
  readonly disks: ImportDisk[] = [];
  readonly #byPath = new Map<string, number>();
  readonly #names = new Set<string>();

  /** The disk's name; a path seen before keeps its disk (read-only only if every use is). */
  add(path: string, readOnly: boolean, origin: Origin, fallback: string): string {
    const index = this.#byPath.get(path);
    const known = index === undefined ? undefined : this.disks[index];
    if (index !== undefined && known !== undefined) {
      if (known.readOnly && !readOnly) this.disks[index] = { ...known, readOnly: false };
      return known.name;
    }
    const base = path.split('/').filter((part) => part !== '').pop() ?? '';
    const name = uniqueName(safeName(base) || safeName(fallback) || 'disk', this.#names);
    this.#byPath.set(path, this.disks.length);
    this.disks.push({ name, path, readOnly, origin });
    return name;
  }
}

const bootSchema = z.union([bootEntryConfig, menuConfig]);

/** Why the API would refuse this boot entry, or null when it accepts it. */
export function bootProblem(boot: BootConfig): string | null {
  const result = bootSchema.safeParse(boot);
  if (result.success) return null;
  const issue = result.error.issues[0];
  return issue === undefined ? 'invalid boot entry' : `${issue.path.join('.')}${issue.path.length > 0 ? ': ' : ''}${issue.message}`;
}

export function isMachineName(value: string): boolean {
  return namePattern.test(value) && value.length <= 63;
}

/**
 * A TFTP file name as a URL diskless accepts: http(s) and tftp URLs stay, anything else is a
 * path under its own boot folder (served as /files/...). Null for schemes iPXE cannot fetch here.
 */
export function bootFileUrl(name: string): string | null {
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(name)) return /^(https?|tftp):\/\/\S+$/i.test(name) ? name : null;
  const path = name.replace(/\\/g, '/').replace(/^(::)?\/*/, '');
  if (path === '' || /\s/.test(path)) return null;
  return `/files/${path}`;
}

/** A disk reference in a boot entry. */
export interface DiskRef {
  readonly target: string;
  readonly lun: number;
}

/** The boot entry with every disk reference passed through `map` (menus included). */
export function mapDiskRefs(boot: BootConfig, map: (ref: DiskRef) => DiskRef): BootConfig {
  switch (boot.kind) {
    case 'sanboot':
      return { ...boot, disks: boot.disks.map(map) };
    case 'install':
      return { ...boot, disk: map(boot.disk) };
    case 'menu':
      return { ...boot, items: boot.items.map((item) => ({ ...item, entry: mapDiskRefs(item.entry, map) as BootEntryConfig })) };
    case 'kernel':
    case 'memdisk':
    case 'chain':
    case 'pxelinux':
    case 'local':
    case 'shell':
      return boot;
  }
}

function at(origin: Origin): string {
  return where(origin.file, origin.line);
}

function place(origin: Origin): string {
  return origin.line > 0 ? `${origin.file}:${origin.line}` : origin.file;
}

function sameIqn(a: string, b: string): boolean {
  return a.toLowerCase() === b.toLowerCase();
}

/** What makes two definitions of a target the same: settings and the files behind the LUNs. */
function targetKey(t: ImportTarget, disks: readonly ImportDisk[]): string {
  const path = (name: string): string => disks.find((d) => d.name === name)?.path ?? name;
  return JSON.stringify({
    iqn: t.iqn.toLowerCase(),
    alias: t.alias ?? null,
    chap: t.chap ?? null,
    mutualChap: t.mutualChap ?? null,
    allowed: [...(t.allowedInitiators ?? [])].sort(),
    luns: [...t.luns].sort((a, b) => a.lun - b.lun).map((l) => [l.lun, path(l.disk), l.readOnly === true, l.sourceLun ?? null]),
  });
}

/**
 * Combines the plans of several files (dnsmasq machines booting targets from ietd.conf, a
 * pxelinux.cfg file completing a dnsmasq host). Disks with the same path become one; a target
 * defined twice must be defined the same way (else ImportError); a machine seen twice is
 * completed from both, keeping the first on disagreement (noted). Then machines' disk
 * references follow tgt's renumbered LUNs, and allow-lists are checked against initiators.
 */
export function mergePlans(...plans: readonly ImportPlan[]): ImportPlan {
  const out = emptyPlan();
  let fallback: ImportFallback | undefined;
  const diskIndex = new Map<string, number>();
  const diskNames = new Set<string>();
  const machineNames = new Set<string>();
  for (const plan of plans) {
    out.notes.push(...plan.notes);
    const renamed = new Map<string, string>();
    for (const disk of plan.disks) {
      const index = diskIndex.get(disk.path);
      const known = index === undefined ? undefined : out.disks[index];
      if (index !== undefined && known !== undefined) {
        renamed.set(disk.name, known.name);
        if (known.readOnly && !disk.readOnly) out.disks[index] = { ...known, readOnly: false };
        continue;
      }
      const name = uniqueName(disk.name, diskNames);
      if (name !== disk.name) out.notes.push(`${at(disk.origin)}disk ${disk.name} renamed ${name}, because another file already has a disk of that name for another path`);
      renamed.set(disk.name, name);
      diskIndex.set(disk.path, out.disks.length);
      out.disks.push({ ...disk, name });
    }
    for (const target of plan.targets) {
      const t: ImportTarget = { ...target, luns: target.luns.map((l) => ({ ...l, disk: renamed.get(l.disk) ?? l.disk })) };
      const known = out.targets.find((k) => sameIqn(k.iqn, t.iqn));
      if (known === undefined) {
        out.targets.push(t);
      } else if (targetKey(known, out.disks) !== targetKey(t, out.disks)) {
        throw new ImportError(
          ImportErrorCode.MergeConflict,
          t.origin.file,
          t.origin.line,
          `target ${t.iqn} is also defined at ${place(known.origin)} with other settings; import only one of the two, or make them agree`,
        );
      } else {
        out.notes.push(`${at(t.origin)}target ${t.iqn} is defined the same way at ${place(known.origin)}; imported once`);
      }
    }
    for (const machine of plan.machines) mergeMachine(out, machine, machineNames);
    const other = plan.unknownMachines;
    if (other !== undefined && fallback === undefined) fallback = other;
    else if (other !== undefined && fallback !== undefined && JSON.stringify(other.boot) !== JSON.stringify(fallback.boot)) {
      out.notes.push(`${at(other.origin)}what unregistered machines booted differs from ${place(fallback.origin)}; kept that one`);
    }
  }
  const refNotes = new Set<string>();
  const note = (text: string): void => {
    if (!refNotes.has(text)) out.notes.push(text);
    refNotes.add(text);
  };
  for (let i = 0; i < out.machines.length; i++) {
    const machine = out.machines[i];
    if (machine === undefined) continue;
    const resolved = { ...machine, boot: mapDiskRefs(machine.boot, (ref) => resolveRef(out.targets, `machine ${machine.name}`, machine.origin, ref, note)) };
    out.machines[i] = checkInitiator(out, resolved, note);
  }
  if (fallback === undefined) return out;
  const origin = fallback.origin;
  return { ...out, unknownMachines: { origin, boot: mapDiskRefs(fallback.boot, (ref) => resolveRef(out.targets, 'an unregistered machine', origin, ref, note)) } };
}

function mergeMachine(out: ImportPlan, machine: ImportMachine, names: Set<string>): void {
  const index = out.machines.findIndex((m) => m.mac === machine.mac);
  const known = out.machines[index];
  if (known === undefined) {
    const name = uniqueName(machine.name, names);
    if (name !== machine.name) out.notes.push(`${at(machine.origin)}machine ${machine.mac} renamed ${name}: another machine is already called ${machine.name}`);
    out.machines.push({ ...machine, name });
    return;
  }
  let merged: ImportMachine = known;
  const derived = known.name === machineNameFromMac(known.mac);
  if (derived && machine.name !== machineNameFromMac(machine.mac)) {
    names.delete(known.name);
    merged = { ...merged, name: uniqueName(machine.name, names) };
  } else if (!derived && machine.name !== known.name && machine.name !== machineNameFromMac(machine.mac)) {
    out.notes.push(`${at(machine.origin)}machine ${machine.mac} is called ${machine.name} here and ${known.name} at ${place(known.origin)}; kept ${known.name}`);
  }
  if (known.boot.kind === 'pxelinux' && machine.boot.kind !== 'pxelinux') {
    merged = { ...merged, boot: machine.boot };
    out.notes.push(`${at(machine.origin)}machine ${merged.name} boots pxelinux (${place(known.origin)}); its entries come from this file instead`);
  } else if (machine.boot.kind !== 'pxelinux' && JSON.stringify(machine.boot) !== JSON.stringify(known.boot)) {
    out.notes.push(`${at(machine.origin)}machine ${merged.name} boots something else at ${place(known.origin)}; kept that one and dropped this one`);
  }
  if (merged.group === undefined && machine.group !== undefined) merged = { ...merged, group: machine.group };
  if (merged.initiatorIqn === undefined && machine.initiatorIqn !== undefined) merged = { ...merged, initiatorIqn: machine.initiatorIqn };
  out.machines[index] = merged;
}

/** Follows tgt's renumbering (its LUN 1 is our LUN 0) and notes references to nothing. */
function resolveRef(targets: readonly ImportTarget[], who: string, origin: Origin, ref: DiskRef, note: (text: string) => void): DiskRef {
  const here = at(origin);
  const target = targets.find((t) => sameIqn(t.iqn, ref.target));
  if (target === undefined) {
    note(`${here}${who} boots target ${ref.target}, which no imported file defines: it must already exist on this server`);
    return ref;
  }
  if (target.luns.some((l) => l.sourceLun !== undefined)) {
    const lun = target.luns.find((l) => l.sourceLun === ref.lun);
    if (lun !== undefined) {
      note(`${here}${who} booted LUN ${ref.lun} of ${target.iqn}, which diskless numbers ${lun.lun} (tgt keeps LUN 0 for its controller)`);
      return { target: target.iqn, lun: lun.lun };
    }
    if (ref.lun === 0) {
      note(`${here}${who} pointed at LUN 0 of ${target.iqn}, tgt's controller rather than a disk, so it never booted; it now boots the target's first disk`);
      return { target: target.iqn, lun: 0 };
    }
  }
  if (!target.luns.some((l) => l.lun === ref.lun)) note(`${here}${who} boots LUN ${ref.lun} of ${target.iqn}, which has no such LUN`);
  return { target: target.iqn, lun: ref.lun };
}

function bootTargets(boot: BootConfig): string[] {
  const found: string[] = [];
  mapDiskRefs(boot, (ref) => {
    found.push(ref.target);
    return ref;
  });
  return found;
}

/**
 * A target that lists its initiators refuses a machine logging in under another name. When it
 * allows exactly one, that is who the machine was: it keeps that initiator name.
 */
function checkInitiator(out: ImportPlan, machine: ImportMachine, note: (text: string) => void): ImportMachine {
  let result = machine;
  for (const iqn of bootTargets(machine.boot)) {
    const allowed = out.targets.find((t) => sameIqn(t.iqn, iqn))?.allowedInitiators;
    if (allowed === undefined || allowed.length === 0) continue;
    const initiator = result.initiatorIqn ?? defaultInitiatorIqn(result.name);
    if (allowed.some((a) => sameIqn(a, initiator))) continue;
    const only = allowed[0];
    const taken = out.machines.some((m) => m.mac !== result.mac && m.initiatorIqn !== undefined && only !== undefined && sameIqn(m.initiatorIqn, only));
    if (allowed.length === 1 && only !== undefined && result.initiatorIqn === undefined && !taken) {
      result = { ...result, initiatorIqn: only };
      note(`${at(machine.origin)}machine ${machine.name} logs in as ${only}, the only initiator ${iqn} allows`);
    } else {
      note(`${at(machine.origin)}machine ${machine.name} logs in as ${initiator}, which ${iqn} does not allow (${allowed.join(', ')}): it will be refused until one of them matches`);
    }
  }
  return result;
}
