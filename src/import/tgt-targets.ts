// tgt's targets.conf(5), as tgt-admin reads it (Perl Config::General): <target IQN> blocks with
// backing-store/direct-store lines or <backing-store PATH> blocks, incominguser, outgoinguser,
// initiator-address, initiator-name, and LUN-level directives (target-wide or per store).
// tgt numbers LUNs from 1 (LUN 0 is its controller); diskless puts the first disk at LUN 0, so
// that it is what a machine boots, and remembers the old number (sourceLun) for root paths.
import {
  DiskNamer,
  emptyPlan,
  ImportError,
  ImportErrorCode,
  isValidIqn,
  NoteLog,
  splitLines,
  type ChapPair,
  type ImportLun,
  type ImportPlan,
  type ImportTarget,
} from './plan.ts';

interface Setting {
  readonly value: string;
  readonly line: number;
}

interface Store {
  readonly line: number;
  readonly path: string;
  readonly direct: boolean;
  readonly settings: Map<string, Setting>;
}

interface Draft {
  readonly line: number;
  readonly iqn: string;
  readonly stores: Store[];
  readonly incoming: Setting[];
  readonly outgoing: Setting[];
  readonly addresses: Setting[];
  readonly names: string[];
  readonly settings: Map<string, Setting>;
}

type Scope = { readonly kind: 'target'; readonly draft: Draft } | { readonly kind: 'store'; readonly store: Store } | { readonly kind: 'skip' };

interface Frame {
  readonly name: string;
  readonly line: number;
  readonly scope: Scope;
}

/** LUN-level directives (targets.conf(5)) that diskless does not reproduce, and why. */
const LUN_SETTINGS: Readonly<Record<string, string>> = {
  'write-cache': 'diskless reports its own caching and flushes on SYNCHRONIZE CACHE',
  scsi_id: 'diskless derives its own; Windows may see a new disk',
  scsi_sn: 'diskless derives its own; Windows may see a new disk',
  vendor_id: 'diskless reports its own INQUIRY data',
  product_id: 'diskless reports the target alias as product',
  product_rev: 'diskless reports its own INQUIRY data',
  sense_format: 'diskless uses fixed-format sense',
  removable: 'diskless exports fixed disks',
  online: 'diskless LUNs are always online',
  path: 'a tgtadm parameter with no diskless equivalent',
  mode_page: 'diskless reports its own mode pages',
  'block-size': 'diskless chooses the block size itself',
  params: 'extra tgtadm parameters cannot be translated',
  'allow-in-use': 'diskless does not check whether a device is in use',
};
const SESSION_KEYS = /^(MaxRecvDataSegmentLength|MaxXmitDataSegmentLength|HeaderDigest|DataDigest|InitialR2T|MaxOutstandingR2T|ImmediateData|FirstBurstLength|MaxBurstLength|DataPDUInOrder|DataSequenceInOrder|ErrorRecoveryLevel|IFMarker|OFMarker|DefaultTime2Wait|DefaultTime2Retain|OFMarkInt|IFMarkInt|MaxConnections)$/;

export function looksLikeTgt(fileName: string, text: string): boolean {
  return /(^|[/\\])targets\.conf$|(^|[/\\])tgt[/\\]/i.test(fileName) || /^\s*<\s*target\s+\S+\s*>/im.test(text);
}

/** Config::General comments: '#' to the end of the line unless escaped; C comments from a line start. */
function logicalLines(text: string, file: string): { readonly line: number; readonly content: string }[] {
  const out: { line: number; content: string }[] = [];
  let inComment = false;
  let pending: { line: number; content: string } | null = null;
  splitLines(text, file).forEach((raw, i) => {
    let content = raw;
    if (inComment || /^\s*\/\*/.test(content)) {
      const end = content.indexOf('*/');
      inComment = end < 0;
      if (inComment) return;
      content = content.slice(end + 2);
    }
    content = content.replace(/(?<!\\)#.*$/, '').replace(/\\#/g, '#');
    const continued = /\\\s*$/.test(content);
    if (continued) content = content.replace(/\\\s*$/, '');
    pending = pending === null ? { line: i + 1, content } : { line: pending.line, content: `${pending.content} ${content.trim()}` };
    if (!continued) {
      out.push(pending);
      pending = null;
    }
  });
  if (pending !== null) out.push(pending);
  return out;
}

export function parseTgtTargets(text: string, file: string): ImportPlan {
  const log = new NoteLog(file);
  const drafts: Draft[] = [];
  const stack: Frame[] = [];
  for (const { line, content } of logicalLines(text, file)) {
    const trimmed = content.trim();
    if (trimmed === '') continue;
    const close = /^<\s*\/\s*([^\s>]+)\s*>$/.exec(trimmed);
    const open = /^<\s*([^\s>/]+)\s*([^>]*?)\s*>$/.exec(trimmed);
    if (close !== null) {
      const name = (close[1] ?? '').toLowerCase();
      const top = stack.pop();
      if (top === undefined || top.name !== name) {
        throw new ImportError(ImportErrorCode.UnbalancedBlock, file, line, `</${name}> ${top === undefined ? 'closes nothing' : `does not close <${top.name}> from line ${top.line}`}`);
      }
    } else if (open !== null) {
      stack.push(openBlock((open[1] ?? '').toLowerCase(), open[2] ?? '', line, stack[stack.length - 1], drafts, file, log));
    } else {
      const match = /^(\S+?)(?:\s*=\s*|\s+)(.*)$/.exec(trimmed);
      const key = match?.[1] ?? trimmed;
      const value = (match?.[2] ?? '').trim().replace(/^"(.*)"$/, '$1');
      readDirective(key, value, line, stack[stack.length - 1]?.scope ?? null, log);
    }
  }
  const unclosed = stack[stack.length - 1];
  if (unclosed !== undefined) throw new ImportError(ImportErrorCode.UnbalancedBlock, file, unclosed.line, `<${unclosed.name}> is never closed`);
  const plan = emptyPlan();
  const disks = new DiskNamer();
  for (const draft of drafts) plan.targets.push(finish(draft, disks, file, log));
  plan.disks.push(...disks.disks);
  plan.notes.push(...log.notes);
  return plan;
}

function openBlock(name: string, arg: string, line: number, parent: Frame | undefined, drafts: Draft[], file: string, log: NoteLog): Frame {
  const skip = (why: string): Frame => {
    log.add(line, `<${name} ${arg}> skipped: ${why}`);
    return { name, line, scope: { kind: 'skip' } };
  };
  if (parent?.scope.kind === 'skip') return { name, line, scope: { kind: 'skip' } };
  if (name === 'target' && parent === undefined) {
    const earlier = drafts.find((d) => d.iqn.toLowerCase() === arg.toLowerCase());
    if (earlier !== undefined) throw new ImportError(ImportErrorCode.DuplicateTarget, file, line, `target ${arg} is already defined on line ${earlier.line}`);
    if (!isValidIqn(arg)) return skip('not an iSCSI name (RFC 7143 section 4.2.7)');
    const draft: Draft = { line, iqn: arg, stores: [], incoming: [], outgoing: [], addresses: [], names: [], settings: new Map() };
    drafts.push(draft);
    return { name, line, scope: { kind: 'target', draft } };
  }
  if ((name === 'backing-store' || name === 'direct-store') && parent?.scope.kind === 'target') {
    const store = addStore(parent.scope.draft, arg, name === 'direct-store', line, log);
    return store === null ? { name, line, scope: { kind: 'skip' } } : { name, line, scope: { kind: 'store', store } };
  }
  return skip('not a block tgt-admin knows in this place');
}

function addStore(draft: Draft, path: string, direct: boolean, line: number, log: NoteLog): Store | null {
  if (path === '') {
    log.add(line, `${direct ? 'direct' : 'backing'}-store without a path ignored`);
    return null;
  }
  // Config::General keys stores by path: the same path twice is one LUN.
  const same = draft.stores.find((s) => s.path === path);
  if (same !== undefined) {
    log.add(line, `${path} is already a store of ${draft.iqn} (line ${same.line}); tgt-admin exports it once`);
    return same;
  }
  const store: Store = { line, path, direct, settings: new Map() };
  draft.stores.push(store);
  return store;
}

function readDirective(key: string, value: string, line: number, scope: Scope | null, log: NoteLog): void {
  const lower = key.toLowerCase();
  if (scope === null) {
    if (lower === 'include') return log.add(line, `include ${value} not followed: pass those files to diskless import as well`);
    if (lower === 'default-driver' && value.toLowerCase() === 'iscsi') return;
    return log.add(line, `${key} ${value} ignored (a setting of tgtd or tgt-admin itself)`);
  }
  if (scope.kind === 'skip') return;
  if (scope.kind === 'store') {
    if (lower === 'backing-store' || lower === 'direct-store') return log.add(line, `${key} inside a store block ignored`);
    scope.store.settings.set(lower, { value, line });
    return;
  }
  const t = scope.draft;
  switch (lower) {
    case 'backing-store':
    case 'direct-store':
      addStore(t, value, lower === 'direct-store', line, log);
      return;
    case 'incominguser':
      t.incoming.push({ value, line });
      return;
    case 'outgoinguser':
      t.outgoing.push({ value, line });
      return;
    case 'initiator-address':
      if (value.toUpperCase() !== 'ALL') t.addresses.push({ value, line });
      return;
    case 'initiator-name':
      t.names.push(value);
      return;
    case 'driver':
      if (value.toLowerCase() !== 'iscsi') log.add(line, `driver ${value} ignored: diskless speaks iSCSI over TCP`);
      return;
    case 'controller_tid':
      return log.add(line, `controller_tid ${value} ignored (diskless has no controller LUN)`);
    default:
      if (SESSION_KEYS.test(key)) return log.add(line, `${key} ${value} ignored (diskless negotiates it per session)`);
      t.settings.set(lower, { value, line });
  }
}

function chapOf(setting: Setting, log: NoteLog, key: string): ChapPair | undefined {
  const [user = '', secret, ...extra] = setting.value.split(/\s+/);
  if (secret === undefined || extra.length > 0) {
    log.add(setting.line, `${key} ${user} ignored: expected a user name and a secret`);
    return undefined;
  }
  return { user, secret };
}

const byPath = (a: Store, b: Store): number => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0);

/**
 * LUN numbers as tgt-admin assigns them: explicit "lun N" first; then backing stores, then
 * direct stores, each in sorted path order (tgt-admin walks Perl hash keys with sort), every
 * one taking the lowest free number from 1.
 */
function tgtLunNumbers(t: Draft, file: string, log: NoteLog): Map<Store, number> {
  const numbers = new Map<Store, number>();
  const taken = new Set<number>();
  for (const store of t.stores) {
    const explicit = store.settings.get('lun');
    if (explicit === undefined) continue;
    const n = /^\d+$/.test(explicit.value) ? Number(explicit.value) : NaN;
    if (!(n >= 1 && n <= 16384)) {
      log.add(explicit.line, `lun ${explicit.value} ignored: tgt numbers disks from 1 (LUN 0 is its controller)`);
      continue;
    }
    if (taken.has(n)) throw new ImportError(ImportErrorCode.DuplicateLun, file, explicit.line, `target ${t.iqn} already has LUN ${n}`);
    taken.add(n);
    numbers.set(store, n);
  }
  const ordered = [...t.stores.filter((s) => !s.direct).sort(byPath), ...t.stores.filter((s) => s.direct).sort(byPath)].filter((s) => !numbers.has(s));
  let next = 1;
  for (const store of ordered) {
    while (taken.has(next)) next++;
    taken.add(next);
    numbers.set(store, next);
  }
  const inFileOrder = t.stores.filter((s) => ordered.includes(s));
  if (inFileOrder.some((s, i) => s !== ordered[i])) {
    log.add(t.line, `tgt-admin numbered the stores of ${t.iqn} by path, not in file order: ${ordered.map((s) => `${s.path} was LUN ${numbers.get(s) ?? '?'}`).join(', ')}`);
  }
  return numbers;
}

function finish(t: Draft, disks: DiskNamer, file: string, log: NoteLog): ImportTarget {
  const numbers = tgtLunNumbers(t, file, log);
  const luns: ImportLun[] = [];
  for (const store of t.stores) {
    const tgtLun = numbers.get(store);
    if (tgtLun === undefined) continue;
    const setting = (key: string): Setting | undefined => store.settings.get(key) ?? t.settings.get(key);
    const deviceType = setting('device-type');
    if (deviceType !== undefined && deviceType.value.toLowerCase() !== 'disk') {
      log.add(deviceType.line, `${store.path} skipped: device-type ${deviceType.value}, and diskless exports disks only`);
      continue;
    }
    const bsType = setting('bs-type');
    if (bsType !== undefined && !/^(rdwr|aio|mmap)$/i.test(bsType.value)) {
      log.add(bsType.line, `${store.path} skipped: bs-type ${bsType.value} is not a file or block device diskless can open`);
      continue;
    }
    if (store.direct) log.add(store.line, `direct-store ${store.path} imported as a plain disk: diskless does not pass the device's own identity through`);
    const readOnly = /^(1|yes|on|true)$/i.test(setting('readonly')?.value ?? '');
    for (const [key, s] of [...t.settings, ...store.settings]) {
      if (['lun', 'readonly', 'device-type', 'bs-type'].includes(key)) continue;
      const why = LUN_SETTINGS[key];
      log.add(s.line, why !== undefined ? `${key} ${s.value} ignored (${why})` : `${key} ${s.value} not understood; ignored`);
    }
    const disk = disks.add(store.path, readOnly, { file, line: store.line }, `${t.iqn.split(':').pop() ?? 'disk'}-lun${tgtLun}`);
    luns.push({ lun: tgtLun - 1, disk, ...(readOnly ? { readOnly: true } : {}), sourceLun: tgtLun });
  }
  if (luns.length > 0) log.add(t.line, `LUNs of ${t.iqn} renumbered from tgt's 1, 2, ... to 0, 1, ...: tgt keeps LUN 0 for its controller, diskless puts the first disk there so that it is what machines boot`);
  else log.add(t.line, `target ${t.iqn} has no store it could import; it is created without disks`);
  const [chapSetting, ...moreIncoming] = t.incoming;
  const [outSetting, ...moreOutgoing] = t.outgoing;
  const chap = chapSetting === undefined ? undefined : chapOf(chapSetting, log, 'incominguser');
  const mutualChap = outSetting === undefined ? undefined : chapOf(outSetting, log, 'outgoinguser');
  for (const s of moreIncoming) log.add(s.line, `incominguser ${s.value.split(/\s+/)[0] ?? ''} not imported: diskless takes one CHAP user per target (kept ${chap?.user ?? 'none'})`);
  for (const s of moreOutgoing) log.add(s.line, `outgoinguser ${s.value.split(/\s+/)[0] ?? ''} not imported: tgt-admin uses only the first one too`);
  for (const a of t.addresses) {
    log.add(a.line, `initiator-address ${a.value} cannot be expressed (diskless allows initiators by name)${t.names.length === 0 ? `: ${t.iqn} is now open to every initiator that passes its CHAP` : ''}`);
  }
  return {
    iqn: t.iqn,
    ...(chap !== undefined ? { chap } : {}),
    ...(mutualChap !== undefined ? { mutualChap } : {}),
    ...(t.names.length > 0 ? { allowedInitiators: [...t.names] } : {}),
    luns: luns.sort((a, b) => a.lun - b.lun),
    origin: { file, line: t.line },
  };
}
