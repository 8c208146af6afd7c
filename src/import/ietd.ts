// IET (iSCSI Enterprise Target) ietd.conf(5): "Target <iqn>" starts a target; the lines after
// it (indented or not) belong to it: Lun N Path=...,Type=fileio|blockio|nullio,IOMode=wb|wt|ro,
// IncomingUser, OutgoingUser, Alias, and session parameters. Keywords are case-insensitive and a
// line whose first word starts with '#' is a comment (IET's plain.c). initiators.allow(5) lists
// who may log in to which target: names become allowedInitiators, addresses cannot be kept.
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

export interface IetdOptions {
  /** The matching initiators.allow, to restrict targets to the initiators it names. */
  readonly initiatorsAllow?: { readonly text: string; readonly file: string };
}

interface Draft {
  readonly line: number;
  readonly iqn: string;
  readonly luns: ImportLun[];
  readonly incoming: { readonly pair: ChapPair; readonly line: number }[];
  outgoing?: ChapPair;
  alias?: string;
}

/** iSCSI session keys (RFC 7143 section 13) and IET's own knobs: diskless decides these itself. */
const SESSION_KEYS = new Set(
  [
    'HeaderDigest', 'DataDigest', 'MaxConnections', 'InitialR2T', 'ImmediateData', 'MaxRecvDataSegmentLength', 'MaxXmitDataSegmentLength',
    'MaxBurstLength', 'FirstBurstLength', 'DefaultTime2Wait', 'DefaultTime2Retain', 'MaxOutstandingR2T', 'DataPDUInOrder', 'DataSequenceInOrder',
    'ErrorRecoveryLevel', 'IFMarker', 'OFMarker', 'IFMarkInt', 'OFMarkInt',
  ].map((k) => k.toLowerCase()),
);
const IET_KNOBS: Readonly<Record<string, string>> = {
  maxsessions: 'diskless does not limit sessions per target',
  wthreads: 'a tuning knob of IET itself',
  queuedcommands: 'diskless sizes its command window per session',
  nopinterval: 'set iscsi.nopIntervalMs in diskless\'s config',
  noptimeout: 'set iscsi.nopTimeoutMs in diskless\'s config',
  rsptimeout: 'a tuning knob of IET itself',
};

export function looksLikeIetd(fileName: string, text: string): boolean {
  return /(^|[/\\])ietd\.conf$/i.test(fileName) || (/^\s*Target\s+\S+/im.test(text) && /^\s*Lun\s+\d+\s+\S*Path=/im.test(text));
}

export function isIetInitiatorsAllow(fileName: string): boolean {
  return /(^|[/\\])initiators\.allow$/i.test(fileName);
}

export function parseIetd(text: string, file: string, options: IetdOptions = {}): ImportPlan {
  const log = new NoteLog(file);
  const disks = new DiskNamer();
  const drafts: Draft[] = [];
  let current: Draft | null = null;
  let skipping = false;
  splitLines(text, file).forEach((raw, i) => {
    const line = i + 1;
    const words = raw.trim().split(/\s+/);
    const [word = '', ...args] = words;
    if (word === '' || word.startsWith('#')) return;
    const keyword = word.toLowerCase();
    if (keyword === 'target') {
      const iqn = args[0] ?? '';
      const earlier = drafts.find((d) => d.iqn.toLowerCase() === iqn.toLowerCase());
      if (earlier !== undefined) throw new ImportError(ImportErrorCode.DuplicateTarget, file, line, `target ${iqn} is already defined on line ${earlier.line}`);
      skipping = !isValidIqn(iqn);
      current = skipping ? null : { line, iqn, luns: [], incoming: [] };
      if (current !== null) drafts.push(current);
      else log.add(line, `Target ${iqn} skipped, with its LUNs: ${iqn === '' ? 'it has no name' : 'not an iSCSI name (RFC 7143 section 4.2.7)'}`);
      return;
    }
    if (skipping) return;
    if (current === null) return readGlobal(word, args, line, log);
    readTargetLine(current, word, args, raw, line, file, disks, log);
  });
  const allow = options.initiatorsAllow === undefined ? null : readInitiatorsAllow(drafts, options.initiatorsAllow.text, options.initiatorsAllow.file);
  const plan = emptyPlan();
  plan.disks.push(...disks.disks);
  for (const d of drafts) plan.targets.push(finish(d, allow?.allowed.get(d.iqn), file, log));
  plan.notes.push(...log.notes, ...(allow?.notes ?? []));
  return plan;
}

function readGlobal(word: string, args: readonly string[], line: number, log: NoteLog): void {
  const keyword = word.toLowerCase();
  if ((keyword === 'incominguser' || keyword === 'outgoinguser') && args.length === 0) return;
  if (keyword === 'incominguser') return log.add(line, `${word} ${args[0] ?? ''} before any Target is discovery CHAP: not imported, set iscsi.discoveryAuth in diskless's config`);
  if (keyword === 'outgoinguser') return log.add(line, `${word} ${args[0] ?? ''} before any Target (mutual discovery CHAP) not imported: diskless has no mutual CHAP for discovery`);
  if (keyword.startsWith('isns')) return log.add(line, `${word} not imported: diskless does not register with iSNS`);
  log.add(line, `${[word, ...args].join(' ')} outside any Target ignored`);
}

function readTargetLine(t: Draft, word: string, args: readonly string[], raw: string, line: number, file: string, disks: DiskNamer, log: NoteLog): void {
  const keyword = word.toLowerCase();
  const value = args.join(' ');
  if (keyword === 'lun') return readLun(t, args, raw, line, file, disks, log);
  if (keyword === 'incominguser' || keyword === 'outgoinguser') {
    // The sample ietd.conf ships "IncomingUser" with no value: it means none.
    if (args.length === 0) return;
    const [user = '', secret] = args;
    if (secret === undefined) return log.add(line, `${word} ${user} has no secret; ignored`);
    if (keyword === 'incominguser') t.incoming.push({ pair: { user, secret }, line });
    else if (t.outgoing === undefined) t.outgoing = { user, secret };
    else log.add(line, `${word} ${user} ignored: a target has one OutgoingUser (kept ${t.outgoing.user})`);
    return;
  }
  if (keyword === 'alias') {
    t.alias = value;
    return;
  }
  if (SESSION_KEYS.has(keyword)) return log.add(line, `${word} ${value} ignored (diskless negotiates it per session)`);
  const why = IET_KNOBS[keyword];
  log.add(line, why !== undefined ? `${word} ${value} ignored (${why})` : `${word} ${value} not understood; ignored`);
}

/** Lun <N> Path=<path>,Type=fileio|blockio|nullio,IOMode=wb|wt|ro,ScsiId=..,ScsiSN=..,BlockSize=.. */
function readLun(t: Draft, args: readonly string[], raw: string, line: number, file: string, disks: DiskNamer, log: NoteLog): void {
  const numberText = args[0] ?? '';
  const lun = /^\d+$/.test(numberText) ? Number(numberText) : NaN;
  if (!(lun <= 16383)) return log.add(line, `Lun ${numberText} skipped: not a LUN number (0 to 16383)`);
  if (t.luns.some((l) => l.lun === lun)) throw new ImportError(ImportErrorCode.DuplicateLun, file, line, `target ${t.iqn} already has LUN ${lun}`);
  // The parameters are the rest of the line, split at commas (a path may hold spaces).
  const params = raw.slice(raw.indexOf(numberText, raw.search(/lun/i) + 3) + numberText.length).trim();
  const settings = new Map<string, string>();
  for (const part of params.split(',')) {
    const eq = part.indexOf('=');
    if (part.trim() === '') continue;
    if (eq < 0) log.add(line, `Lun ${lun}: ${part.trim()} not understood; ignored`);
    else settings.set(part.slice(0, eq).trim().toLowerCase(), part.slice(eq + 1).trim());
  }
  const type = (settings.get('type') ?? 'fileio').toLowerCase();
  const path = settings.get('path');
  if (type === 'nullio') return log.add(line, `Lun ${lun} skipped: Type=nullio is a disk of nothing, which diskless does not have`);
  if (path === undefined || path === '') return log.add(line, `Lun ${lun} skipped: it has no Path`);
  if (type === 'blockio') log.add(line, `Lun ${lun}: Type=blockio imported as a plain path; diskless opens ${path} like a file`);
  else if (type !== 'fileio') log.add(line, `Lun ${lun}: Type=${type} not understood; imported as fileio`);
  const mode = settings.get('iomode');
  const readOnly = mode?.toLowerCase() === 'ro';
  if (mode !== undefined && !readOnly) log.add(line, `Lun ${lun}: IOMode=${mode} ignored (diskless caches writes in the host's page cache and flushes when the initiator asks)`);
  for (const [key, value] of settings) {
    if (key === 'scsiid' || key === 'scsisn') log.add(line, `Lun ${lun}: ${key === 'scsiid' ? 'ScsiId' : 'ScsiSN'}=${value} not kept: diskless derives its own; Windows may see a new disk`);
    else if (key === 'blocksize' && value !== '512') log.add(line, `Lun ${lun}: BlockSize=${value} ignored (diskless chooses the block size itself)`);
    else if (!['path', 'type', 'iomode', 'blocksize'].includes(key)) log.add(line, `Lun ${lun}: ${key}=${value} not understood; ignored`);
  }
  const disk = disks.add(path, readOnly, { file, line }, `${t.iqn.split(':').pop() ?? 'disk'}-lun${lun}`);
  t.luns.push({ lun, disk, ...(readOnly ? { readOnly: true } : {}) });
}

function finish(d: Draft, allowed: readonly string[] | undefined, file: string, log: NoteLog): ImportTarget {
  const [first, ...others] = d.incoming;
  const chap = first?.pair;
  for (const extra of others) log.add(extra.line, `IncomingUser ${extra.pair.user} not imported: diskless takes one CHAP user per target (kept ${chap?.user ?? ''})`);
  if (d.luns.length === 0) log.add(d.line, `target ${d.iqn} has no LUN it could import; it is created without disks`);
  return {
    iqn: d.iqn,
    ...(d.alias !== undefined && d.alias !== '' ? { alias: d.alias } : {}),
    ...(chap !== undefined ? { chap } : {}),
    ...(d.outgoing !== undefined ? { mutualChap: d.outgoing } : {}),
    ...(allowed !== undefined ? { allowedInitiators: allowed } : {}),
    luns: [...d.luns].sort((a, b) => a.lun - b.lun),
    origin: { file, line: d.line },
  };
}

/**
 * initiators.allow(5): "<target name|ALL> <initiator>[, <initiator>...]"; an initiator is ALL,
 * an address or subnet, or (IET 1.4.20 and later) an initiator name. Targets without a line are
 * open. diskless allows by initiator name only, so addresses are dropped, with a note.
 */
function readInitiatorsAllow(drafts: readonly Draft[], text: string, file: string): { allowed: Map<string, string[]>; notes: string[] } {
  const log = new NoteLog(file);
  const names = new Map<string, Set<string>>();
  const byAddress = new Map<string, number>();
  splitLines(text, file).forEach((raw, i) => {
    const line = i + 1;
    const content = raw.trim();
    if (content === '' || content.startsWith('#')) return;
    const [target = '', ...rest] = content.split(/\s+/);
    const entries = rest.join(' ').split(',').map((e) => e.trim()).filter((e) => e !== '');
    const applies = target === 'ALL' ? drafts : drafts.filter((d) => d.iqn.toLowerCase() === target.toLowerCase());
    if (applies.length === 0) return log.add(line, `${target} is not a target of the imported ietd.conf; line ignored`);
    for (const entry of entries) {
      if (entry === 'ALL') continue;
      if (/^(iqn|eui|naa)\./i.test(entry)) {
        for (const d of applies) names.set(d.iqn, (names.get(d.iqn) ?? new Set<string>()).add(entry));
        continue;
      }
      log.add(line, `${entry} not imported: diskless allows initiators by name, not by address`);
      for (const d of applies) if (!byAddress.has(d.iqn)) byAddress.set(d.iqn, line);
    }
  });
  for (const [iqn, line] of byAddress) {
    if (!names.has(iqn)) log.add(line, `${iqn} was limited by address only: it is now open to every initiator that passes its CHAP`);
  }
  return { allowed: new Map([...names].map(([iqn, set]) => [iqn, [...set]])), notes: log.notes };
}
