// dnsmasq configuration (dnsmasq(8), the config file is long options without "--"): each
// dhcp-host MAC becomes a machine; what it boots is what dnsmasq answered its *iPXE* request
// (tags from dhcp-host set:, plus the tags the user-class/option-175 tricks set for iPXE), from
// dhcp-boot and the root path (option 17, RFC 4173). Those tricks themselves are no longer
// needed: diskless tells the PXE ROM from iPXE and chainloads on its own.
import {
  bootFileUrl,
  bootProblem,
  emptyPlan,
  ImportError,
  ImportErrorCode,
  isMachineName,
  isValidIqn,
  machineNameFromMac,
  normalizeMac,
  NoteLog,
  safeName,
  splitLines,
  uniqueName,
  type BootConfig,
  type DiskRef,
  type ImportMachine,
  type ImportPlan,
} from './plan.ts';

export interface DnsmasqOptions {
  /** A dhcp-hostsfile: every line is the value of a dhcp-host option. */
  readonly hostsFile?: boolean;
}

interface Conditions {
  readonly tags: readonly string[];
  readonly notTags: readonly string[];
}

interface Tagged<T> {
  readonly line: number;
  readonly when: Conditions;
  readonly value: T;
}

interface Host {
  readonly line: number;
  readonly macs: readonly string[];
  readonly name: string | undefined;
  readonly setTags: readonly string[];
}

interface Rules {
  readonly hosts: Host[];
  readonly boots: Tagged<BootFile>[];
  readonly rootPaths: Tagged<string>[];
  readonly keepSan: Tagged<boolean>[];
  readonly initiators: Tagged<string>[];
  readonly tagIfs: Tagged<readonly string[]>[];
  /** Tags dnsmasq set on iPXE's request (dhcp-match 175, dhcp-userclass iPXE, PXEClient). */
  readonly ipxeTags: Set<string>;
}

type BootFile =
  | { readonly kind: 'ipxe'; readonly file: string }
  | { readonly kind: 'pxelinux'; readonly file: string }
  | { readonly kind: 'chain'; readonly file: string; readonly url: string };

/** iPXE and gPXE builds that PXE ROMs were given: diskless serves these itself now. */
const IPXE_PROGRAM = /(^|[/\\])((undionly|ipxe|gpxe|snponly|snp)\.(k?k?pxe|efi|0|lkrn)|[^/\\]+\.k?kpxe)$/i;
const PXELINUX_PROGRAM = /(^|[/\\])([gl]?pxelinux\.0|syslinux\.efi)$/i;

/** The option names dnsmasq accepts for the options that matter here (dnsmasq --help dhcp). */
const OPTION_NAMES: Readonly<Record<string, number>> = { 'root-path': 17, 'bootfile-name': 67, 'tftp-server': 66, 'user-class': 77, 'client-arch': 93, 'vendor-class': 60 };

export function looksLikeDnsmasq(fileName: string, text: string): boolean {
  return /dnsmasq/i.test(fileName) || /^\s*(dhcp-(host|boot|option|range|match|userclass)|enable-tftp|tftp-root)\b/m.test(text);
}

/** dhcp-hostsfile contents: lines that start with a MAC address. */
export function looksLikeDnsmasqHostsFile(fileName: string, text: string): boolean {
  const lines = text.split('\n').filter((l) => l.trim() !== '' && !l.trim().startsWith('#'));
  return lines.length > 0 && lines.every((l) => /^\s*([0-9a-f]{1,2}[:-]){5}[0-9a-f]{1,2}\s*,/i.test(l)) && !/\.(conf|cfg)$/.test(fileName);
}

export function parseDnsmasq(text: string, file: string, options: DnsmasqOptions = {}): ImportPlan {
  const log = new NoteLog(file);
  const rules: Rules = { hosts: [], boots: [], rootPaths: [], keepSan: [], initiators: [], tagIfs: [], ipxeTags: new Set(['PXEClient']) };
  splitLines(text, file).forEach((raw, i) => {
    const line = i + 1;
    const content = stripComment(raw, file, line).trim();
    if (content === '') return;
    if (options.hostsFile === true) return readHost(splitFields(content, file, line), line, rules, log);
    const eq = content.indexOf('=');
    const key = (eq < 0 ? content : content.slice(0, eq)).trim().toLowerCase();
    const fields = eq < 0 ? [] : splitFields(content.slice(eq + 1), file, line);
    readOption(key, content, fields, line, rules, log);
  });
  return buildPlan(rules, file, log);
}

/** dnsmasq's rule: '#' starts a comment at the line start or after white space, outside quotes. */
function stripComment(raw: string, file: string, line: number): string {
  let quoted = false;
  for (let i = 0; i < raw.length; i++) {
    const c = raw[i];
    if (c === '\\' && quoted) i++;
    else if (c === '"') quoted = !quoted;
    else if (c === '#' && !quoted && (i === 0 || /\s/.test(raw[i - 1] ?? ''))) return raw.slice(0, i);
  }
  if (quoted) throw new ImportError(ImportErrorCode.UnterminatedQuote, file, line, 'a quoted value has no closing quote');
  return raw;
}

const ESCAPES: Readonly<Record<string, string>> = { n: '\n', r: '\r', t: '\t', e: '\x1b', b: '\b' };

/** Comma-separated fields, trimmed; quotes removed, commas inside quotes kept (dnsmasq hides them). */
function splitFields(value: string, file: string, line: number): string[] {
  const fields: string[] = [];
  let current = '';
  let quoted = false;
  for (let i = 0; i < value.length; i++) {
    const c = value[i] ?? '';
    if (quoted && c === '\\' && i + 1 < value.length) {
      const next = value[++i] ?? '';
      current += ESCAPES[next] ?? next;
    } else if (c === '"') {
      quoted = !quoted;
    } else if (c === ',' && !quoted) {
      fields.push(current.trim());
      current = '';
    } else {
      current += c;
    }
  }
  if (quoted) throw new ImportError(ImportErrorCode.UnterminatedQuote, file, line, 'a quoted value has no closing quote');
  fields.push(current.trim());
  return fields;
}

/** Leading tag:/net: fields (net: is the old spelling; '!' and the old '#' negate). */
function takeConditions(fields: string[]): Conditions {
  const tags: string[] = [];
  const notTags: string[] = [];
  while (fields.length > 0 && /^(tag|net):/i.test(fields[0] ?? '')) {
    const tag = (fields.shift() ?? '').slice(4);
    if (tag.startsWith('!') || tag.startsWith('#')) notTags.push(tag.slice(1));
    else tags.push(tag);
  }
  return { tags, notTags };
}

/** The tag a dhcp-match/userclass/vendorclass line sets: "set:x", old "net:x", or bare "x". */
function takeSetTag(fields: string[]): string {
  return (fields.shift() ?? '').replace(/^(set|net):/i, '');
}

function readOption(key: string, content: string, fields: string[], line: number, rules: Rules, log: NoteLog): void {
  switch (key) {
    case 'dhcp-host':
      return readHost(fields, line, rules, log);
    case 'dhcp-boot': {
      const when = takeConditions(fields);
      const [name = '', , address] = fields;
      const boot = classifyBootFile(name, address);
      if (boot === null) return log.add(line, `dhcp-boot ${name} skipped: iPXE cannot fetch it from diskless (only http, https and tftp)`);
      if (boot.kind === 'ipxe') log.add(line, `dhcp-boot ${name} no longer needed: diskless hands iPXE to PXE ROMs itself`);
      rules.boots.push({ line, when, value: boot });
      return;
    }
    case 'dhcp-option':
    case 'dhcp-option-force':
      return readDhcpOption(fields, line, rules, log);
    case 'dhcp-match': {
      const tag = takeSetTag(fields);
      const [option = '', ...values] = fields;
      const value = values.join(',');
      // iPXE sends its own option 175 (gPXE did too) and user class "iPXE" (option 77).
      const ipxe = /^(175|option:175)$/i.test(option) || (/^(77|option:user-class)$/i.test(option) && /[ig]pxe/i.test(value));
      if (ipxe) rules.ipxeTags.add(tag);
      if (ipxe) return log.add(line, `dhcp-match tag ${tag} no longer needed: diskless tells iPXE apart and chainloads it itself`);
      if (/^(93|option:client-arch)$/i.test(option)) return log.add(line, `dhcp-match tag ${tag} no longer needed: diskless picks BIOS or UEFI programs itself (the tag is taken as unset)`);
      return log.add(line, `dhcp-match tag ${tag} not imported, and taken as unset when choosing what machines boot`);
    }
    case 'dhcp-userclass':
    case 'dhcp-vendorclass': {
      const tag = takeSetTag(fields);
      const value = fields.filter((f) => !/^enterprise:/i.test(f)).join(',');
      const ipxe = key === 'dhcp-userclass' ? /[ig]pxe/i.test(value) : /pxeclient/i.test(value);
      if (ipxe) rules.ipxeTags.add(tag);
      return log.add(line, ipxe ? `${key} tag ${tag} no longer needed: diskless tells iPXE apart and chainloads it itself` : `${key} tag ${tag} not imported, and taken as unset`);
    }
    case 'tag-if': {
      const set = fields.filter((f) => /^set:/i.test(f)).map((f) => f.slice(4));
      const when = takeConditions(fields.filter((f) => !/^set:/i.test(f)));
      rules.tagIfs.push({ line, when, value: set });
      return;
    }
    case 'dhcp-hostsfile':
      return log.add(line, `${content} not followed: pass that file to diskless import as well`);
    case 'conf-file':
    case 'conf-dir':
    case 'dhcp-optsfile':
      return log.add(line, `${content} not followed: pass those files to diskless import as well`);
    case 'enable-tftp':
    case 'tftp-root':
      return log.add(line, `${content} not imported: diskless serves TFTP and /files/ from its own boot folder; copy the boot files there`);
    case 'dhcp-range':
      return log.add(line, `${content} not imported: set dhcp.mode and dhcp.pool in diskless's config (or keep your router as the DHCP server with proxy mode)`);
    case 'pxe-service':
    case 'pxe-prompt':
      return log.add(line, `${content} not imported: diskless answers PXE clients itself`);
    default:
      return log.add(line, `${content} ignored (not about network boot)`);
  }
}

/** dhcp-host=[hwaddr][,id:client_id][,set:tag][,tag:tag][,ipaddr][,hostname][,lease_time][,ignore] */
function readHost(fields: string[], line: number, rules: Rules, log: NoteLog): void {
  const macs: string[] = [];
  const setTags: string[] = [];
  const unused: string[] = [];
  let name: string | undefined;
  let ignore = false;
  let clientId = false;
  for (const field of fields) {
    // A hardware type may lead the address: 06-00:20:e0:3b:13:af (dnsmasq(8), dhcp-host).
    const hwaddr = /^[0-9a-f]{1,2}-((?:[0-9a-f*]{1,2}:){5}[0-9a-f*]{1,2})$/i.exec(field)?.[1] ?? field;
    if (/^id:/i.test(field)) clientId ||= field !== 'id:*';
    else if (/^(set|net):/i.test(field)) setTags.push(field.slice(4));
    else if (/^tag:/i.test(field)) log.add(line, `dhcp-host condition ${field} dropped: the machine is imported as if it always applied`);
    else if (/^\[.*\]$/.test(field) || /^\d{1,3}(\.\d{1,3}){3}$/.test(field) || /^(infinite|\d+[smhdw]?)$/i.test(field)) unused.push(field);
    else if (field.toLowerCase() === 'ignore') ignore = true;
    else if (/^([0-9a-f*]{1,2}[:-]){5}[0-9a-f*]{1,2}$/i.test(hwaddr)) {
      const mac = normalizeMac(hwaddr);
      if (mac === null) log.add(line, `dhcp-host ${field} skipped: diskless registers whole MAC addresses, not wildcards`);
      else macs.push(mac);
    } else if (/^([0-9a-f*]{1,2}[:-]){2,}[0-9a-f*]{1,2}$/i.test(hwaddr)) log.add(line, `dhcp-host ${field} skipped: not an Ethernet MAC address`);
    else if (field !== '' && name === undefined) name = field;
    else if (field !== '') log.add(line, `dhcp-host field ${field} not understood; ignored`);
  }
  if (ignore) return log.add(line, `dhcp-host ${fields.join(',')} not imported: dnsmasq ignores that client`);
  if (macs.length === 0) return log.add(line, `dhcp-host ${fields.join(',')} not imported: ${clientId ? 'it matches a client ID, and diskless knows machines by MAC' : 'it has no MAC address'}`);
  if (unused.length > 0) log.add(line, `dhcp-host ${macs.join(',')}: ${unused.join(', ')} not imported (diskless does not reserve addresses or lease times per machine)`);
  if (name !== undefined && !isMachineName(name)) {
    log.add(line, `dhcp-host name ${name} is not a machine name (letters, digits, '.', '-', '_'); used ${safeName(name) || 'the MAC'} instead`);
    name = safeName(name) || undefined;
  }
  rules.hosts.push({ line, macs, name, setTags });
}

/** dhcp-option=[tag:<tag>,...][encap:<opt>,][vi-encap:<ent>,][vendor:<class>,]<opt>|option:<name>,[<value>,...] */
function readDhcpOption(fields: string[], line: number, rules: Rules, log: NoteLog): void {
  const when = takeConditions(fields);
  let encap: number | undefined;
  while (/^(encap|vi-encap|vendor|rfc3925-encap):/i.test(fields[0] ?? '')) {
    const field = fields.shift() ?? '';
    if (!/^encap:175$/i.test(field)) return log.add(line, `dhcp-option ${field},... not imported (diskless's DHCP options are generated, not configured)`);
    encap = 175;
  }
  const codeField = fields.shift() ?? '';
  if (/^option6:/i.test(codeField)) return log.add(line, `dhcp-option ${codeField} not imported: diskless boots over IPv4`);
  const named = /^option:(.+)$/i.exec(codeField);
  const code = named?.[1] !== undefined ? OPTION_NAMES[named[1].toLowerCase()] : /^\d+$/.test(codeField) ? Number(codeField) : undefined;
  const value = fields.join(',');
  if (code === undefined) return log.add(line, `dhcp-option ${codeField} not imported (an option diskless does not configure)`);
  if (encap === 175) return readIpxeSetting(code, value, when, line, rules, log);
  switch (code) {
    case 17:
      rules.rootPaths.push({ line, when, value });
      return;
    case 175:
      // iPXE's encapsulated options as raw bytes: code, length, data (dnsmasq hex "8:1:1").
      return readIpxeBytes(value, when, line, rules, log);
    case 203:
      rules.initiators.push({ line, when, value });
      return;
    case 209:
    case 210:
      return log.add(line, `dhcp-option ${code} (pxelinux config file/path) not imported: diskless generates pxelinux.cfg files itself`);
    default:
      return log.add(line, `dhcp-option ${code} not imported: diskless's DHCP settings (router, DNS, ...) live in its config`);
  }
}

/** iPXE settings in option 175 (ipxe.org/cfg): 8 is keep-san, the one a migration must keep. */
function readIpxeSetting(code: number, value: string, when: Conditions, line: number, rules: Rules, log: NoteLog): void {
  if (code === 8) rules.keepSan.push({ line, when, value: !/^0*$/.test(value.replace(/[^0-9a-f]/gi, '')) });
  else log.add(line, `iPXE option 175.${code} not imported: diskless sets iPXE's settings in its boot script`);
}

function readIpxeBytes(value: string, when: Conditions, line: number, rules: Rules, log: NoteLog): void {
  const bytes = value.split(':').map((b) => (/^[0-9a-f]{1,2}$/i.test(b) ? parseInt(b, 16) : NaN));
  if (bytes.some(Number.isNaN)) return log.add(line, `dhcp-option 175,${value} not understood (expected hex bytes such as 8:1:1); ignored`);
  for (let i = 0; i + 1 < bytes.length; ) {
    const code = bytes[i] ?? 0;
    const length = bytes[i + 1] ?? 0;
    const data = bytes.slice(i + 2, i + 2 + length);
    readIpxeSetting(code, data.map((b) => b.toString(16)).join(''), when, line, rules, log);
    i += 2 + length;
  }
}

function classifyBootFile(name: string, address: string | undefined): BootFile | null {
  if (IPXE_PROGRAM.test(name)) return { kind: 'ipxe', file: name };
  if (PXELINUX_PROGRAM.test(name)) return { kind: 'pxelinux', file: name };
  // A next-server address puts the file on another TFTP server: fetch it from there.
  const relative = !/^[a-z][a-z0-9+.-]*:\/\//i.test(name);
  const url = relative && address !== undefined && /^\d{1,3}(\.\d{1,3}){3}$/.test(address) ? `tftp://${address}/${name.replace(/^\/+/, '')}` : bootFileUrl(name);
  return url === null ? null : { kind: 'chain', file: name, url };
}

function matches(when: Conditions, tags: ReadonlySet<string>): boolean {
  return when.tags.every((t) => tags.has(t)) && when.notTags.every((t) => !tags.has(t));
}

/**
 * dnsmasq's choice (find_boot in rfc2131.c, and do_options): an entry whose tags all match
 * beats an entry without tags; among equals the last one in the file wins, because dnsmasq
 * prepends each line to its list.
 */
function pick<T>(entries: readonly Tagged<T>[], tags: ReadonlySet<string>): Tagged<T> | undefined {
  let tagged: Tagged<T> | undefined;
  let untagged: Tagged<T> | undefined;
  for (const e of entries) {
    if (!matches(e.when, tags)) continue;
    if (e.when.tags.length + e.when.notTags.length > 0) tagged = e;
    else untagged = e;
  }
  return tagged ?? untagged;
}

function tagsFor(host: Host | null, rules: Rules): Set<string> {
  const tags = new Set([...rules.ipxeTags, ...(host === null ? [] : ['known', ...host.setTags])]);
  for (const rule of rules.tagIfs) if (matches(rule.when, tags)) for (const t of rule.value) tags.add(t);
  return tags;
}

/** What a client with these tags boots once it runs iPXE, or null for nothing. */
function resolveBoot(tags: ReadonlySet<string>, rules: Rules, log: NoteLog): BootConfig | null {
  const boot = pick(rules.boots, tags);
  const root = pick(rules.rootPaths, tags);
  let disk: DiskRef | undefined;
  if (root !== undefined) {
    const parsed = parseIscsiRootPath(root.value);
    if (!parsed.ok) log.add(root.line, /^iscsi:/i.test(root.value) ? `root path ${root.value} skipped: ${parsed.why}` : `root path ${root.value} not imported: diskless boots iSCSI disks`);
    else {
      disk = parsed.ref;
      log.add(root.line, `root path ${root.value} now boots ${parsed.ref.target} from diskless's own portal instead of ${parsed.server || 'the DHCP server'}:${parsed.port}`);
      if (parsed.hexLun) log.add(root.line, `root path LUN field read as hexadecimal (RFC 4173), as iPXE did: LUN ${parsed.ref.lun}`);
    }
  }
  const keepSan = pick(rules.keepSan, tags)?.value === true;
  const file = boot?.value;
  if (disk !== undefined) {
    if (file === undefined || file.kind === 'ipxe') return { kind: 'sanboot', disks: [disk], ...(keepSan ? { keepSan: true } : {}) };
    if (file.kind === 'chain') {
      log.add(boot?.line ?? 0, `${file.file} with an iSCSI root path: iPXE hooked the disk, then ran the file; imported as an install entry (disk hooked, kept for the installer)`);
      return { kind: 'install', disk, installer: { kind: 'chain', url: file.url } };
    }
    log.add(root?.line ?? 0, `root path ${root?.value ?? ''} dropped for pxelinux: diskless cannot hook a disk for pxelinux`);
  }
  if (file === undefined || file.kind === 'ipxe') return null;
  if (file.kind === 'pxelinux') {
    log.add(boot?.line ?? 0, `${file.file} becomes diskless's pxelinux entry: import the pxelinux.cfg files too, and copy what they load into diskless's boot folder`);
    return { kind: 'pxelinux' };
  }
  log.add(boot?.line ?? 0, file.url.startsWith('/files/') ? `${file.file} is chained from diskless's boot folder (${file.url}): copy it there` : `${file.file} is chained as before`);
  return { kind: 'chain', url: file.url };
}

function buildPlan(rules: Rules, file: string, log: NoteLog): ImportPlan {
  const plan = emptyPlan();
  const names = new Set<string>();
  const seen = new Map<string, number>();
  for (const host of rules.hosts) {
    const tags = tagsFor(host, rules);
    const boot = resolveBoot(tags, rules, log);
    const initiator = pick(rules.initiators, tags);
    for (const mac of host.macs) {
      const earlier = seen.get(mac);
      if (earlier !== undefined) {
        log.add(host.line, `dhcp-host ${mac} is also on line ${earlier}; kept that one`);
        continue;
      }
      seen.set(mac, host.line);
      if (boot === null) {
        log.add(host.line, `dhcp-host ${mac} not imported: no boot file or iSCSI root path applies to it`);
        continue;
      }
      const problem = bootProblem(boot);
      if (problem !== null) {
        log.add(host.line, `dhcp-host ${mac} not imported: diskless would refuse its boot entry (${problem})`);
        continue;
      }
      const group = host.setTags.map((t) => safeName(t)).find((t) => t !== '');
      const machine: ImportMachine = {
        mac,
        name: uniqueName(host.name ?? machineNameFromMac(mac), names),
        ...(group !== undefined ? { group } : {}),
        ...(initiator !== undefined && isValidIqn(initiator.value) ? { initiatorIqn: initiator.value } : {}),
        boot,
        origin: { file, line: host.line },
      };
      if (initiator !== undefined && !isValidIqn(initiator.value)) log.add(initiator.line, `option 203 ${initiator.value} is not an iSCSI name; the machine keeps diskless's default initiator name`);
      plan.machines.push(machine);
    }
  }
  const fallback = resolveBoot(tagsFor(null, rules), rules, log);
  if (fallback !== null) log.add(0, "what machines without a dhcp-host line booted is diskless's unknownMachines setting, in its config file: not applied (shown with the plan)");
  plan.notes.push(...log.notes);
  return fallback === null ? plan : { ...plan, unknownMachines: { boot: fallback, origin: { file, line: 0 } } };
}

export type RootPath =
  | { readonly ok: true; readonly server: string; readonly port: number; readonly ref: DiskRef; readonly hexLun: boolean }
  | { readonly ok: false; readonly why: string };

/**
 * An iSCSI root path, RFC 4173 section 5: iscsi:<servername>:<protocol>:<port>:<LUN>:<targetname>.
 * Empty fields take defaults (TCP, 3260, LUN 0). The LUN is hexadecimal, in dash-separated
 * groups of up to 4 digits (SAM-2 LUN structure); iPXE reads it the same way, so "10" is LUN 16.
 */
export function parseIscsiRootPath(value: string): RootPath {
  if (!/^iscsi:/i.test(value)) return { ok: false, why: 'not an iscsi: root path' };
  let rest = value.slice(6);
  let server: string;
  if (rest.startsWith('[')) {
    const close = rest.indexOf(']');
    if (close < 0) return { ok: false, why: 'the IPv6 server address has no closing ]' };
    server = rest.slice(1, close);
    rest = rest.slice(close + 1);
    if (!rest.startsWith(':')) return { ok: false, why: 'a : must follow the server' };
    rest = rest.slice(1);
  } else {
    const colon = rest.indexOf(':');
    if (colon < 0) return { ok: false, why: 'it has fewer than the six fields RFC 4173 requires' };
    server = rest.slice(0, colon);
    rest = rest.slice(colon + 1);
  }
  const fields = rest.split(':');
  if (fields.length < 4) return { ok: false, why: 'it has fewer than the six fields RFC 4173 requires' };
  const [protocol = '', portText = '', lunText = ''] = fields;
  const target = fields.slice(3).join(':');
  if (protocol !== '' && protocol !== '6') return { ok: false, why: `protocol ${protocol} is not TCP (6)` };
  const port = portText === '' ? 3260 : Number(portText);
  if (!/^\d*$/.test(portText) || !Number.isInteger(port) || port < 1 || port > 65535) return { ok: false, why: `port ${portText} is not a TCP port` };
  const lun = parseSamLun(lunText);
  if (lun === null) return { ok: false, why: `LUN ${lunText} is not a LUN (hexadecimal, RFC 4173)` };
  if (target === '') return { ok: false, why: 'it names no target' };
  if (!isValidIqn(target)) return { ok: false, why: `${target} is not an iSCSI name (RFC 7143 section 4.2.7)` };
  return { ok: true, server, port, ref: { target, lun }, hexLun: /^[0-9]+$/.test(lunText) && Number(lunText) !== lun };
}

/** Up to four dash-separated hex groups; the first holds the LUN (peripheral or flat addressing). */
function parseSamLun(text: string): number | null {
  if (text === '') return 0;
  const groups = text.split('-');
  if (groups.length > 4 || !groups.every((g) => /^[0-9a-f]{1,4}$/i.test(g))) return null;
  const [first = 0, ...others] = groups.map((g) => parseInt(g, 16));
  if (others.some((g) => g !== 0)) return null;
  const method = first >> 14;
  if (method === 0) return (first & 0x3f00) === 0 ? first & 0xff : null; // peripheral, bus 0
  if (method === 1) return first & 0x3fff; // flat space addressing
  return null;
}
