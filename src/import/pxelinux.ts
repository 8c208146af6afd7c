// pxelinux.cfg files (syslinux's doc/syslinux.txt and menu.txt): labels become boot entries,
// several labels a menu. A file named 01-<mac> is one machine's; "default" and the others are
// for many machines at once, so they give notes saying how to keep them instead of machines.
// Kernel and initrd paths are relative to the TFTP root; diskless serves its boot folder as
// /files/, so they become /files/<path> (and the files must be copied there).
import { parseIscsiRootPath } from './dnsmasq.ts';
import { bootFileUrl, bootProblem, emptyPlan, machineNameFromMac, normalizeMac, NoteLog, splitLines, uniqueName, type BootConfig, type ImportPlan } from './plan.ts';
import type { BootEntryConfig } from '../config/schema.ts';

type LabelKind = 'kernel' | 'linux' | 'pxe' | 'com32' | 'comboot' | 'boot' | 'fdimage' | 'config' | 'localboot';

interface Label {
  readonly line: number;
  readonly name: string;
  kind?: LabelKind;
  kernel?: string;
  append?: string;
  initrd?: string;
  ipappend?: number;
  menuLabel?: string;
  isDefault: boolean;
  hidden: boolean;
}

interface Globals {
  defaultValue?: { readonly line: number; readonly value: string };
  ui?: string;
  prompt?: number;
  timeoutTenths?: number;
  onTimeout?: string;
  append?: string;
  ipappend?: number;
  title?: string;
}

const KERNEL_KEYWORDS: Readonly<Record<string, LabelKind>> = {
  kernel: 'kernel', linux: 'linux', pxe: 'pxe', com32: 'com32', comboot: 'comboot', boot: 'boot', bss: 'boot', fdimage: 'fdimage', config: 'config',
};
/** Directives that only shape the screen or console; nothing to boot. */
const DISPLAY_ONLY = /^(say|display|f\d+|serial|font|kbdmap|implicit|allowoptions|console|noescape|nocomplete|nohalt|totaltimeout|path)$/;

export function looksLikePxelinux(fileName: string, text: string): boolean {
  return /pxelinux\.cfg|(^|\/)(01-)?([0-9a-f]{2}-){5}[0-9a-f]{2}$|(^|\/)default$|(ext|sys|iso)linux\.c(onf|fg)$/i.test(fileName) || /^\s*label\s+\S/im.test(text);
}

/** pxelinux's per-machine file name: 01-<mac with dashes> (01 is the ARP type, Ethernet). */
function macFromFileName(fileName: string): { readonly mac: string; readonly prefixed: boolean } | null {
  const base = fileName.split(/[/\\]/).pop() ?? '';
  const match = /^(01-)?((?:[0-9a-f]{2}-){5}[0-9a-f]{2})$/i.exec(base);
  const mac = match?.[2] === undefined ? null : normalizeMac(match[2]);
  return mac === null ? null : { mac, prefixed: match?.[1] !== undefined };
}

export function parsePxelinux(text: string, file: string): ImportPlan {
  const log = new NoteLog(file);
  const plan = emptyPlan();
  const base = file.split(/[/\\]/).pop() ?? file;
  if (/^(ext|sys|iso)linux\.c(onf|fg)$/i.test(base)) {
    log.add(0, 'this is the boot loader configuration on the disk itself: nothing to import; it runs as before once the machine sanboots that disk');
    plan.notes.push(...log.notes);
    return plan;
  }
  const boot = parsePxelinuxBoot(text, file, log);
  const owner = macFromFileName(file);
  if (boot === null) {
    log.add(0, 'no label in it can be imported, so no machine either');
  } else if (owner !== null) {
    if (!owner.prefixed) log.add(0, `pxelinux only reads this file when named 01-${base}; imported for ${owner.mac} anyway`);
    plan.machines.push({ mac: owner.mac, name: machineNameFromMac(owner.mac), boot, origin: { file, line: 1 } });
  } else if (base.toLowerCase() === 'default') {
    log.add(0, "what machines without a file of their own booted is diskless's unknownMachines setting, in its config file: not applied (shown with the plan)");
    plan.notes.push(...log.notes);
    return { ...plan, unknownMachines: { boot, origin: { file, line: 0 } } };
  } else {
    log.add(0, `the file name gives no MAC address, so no machine: register the machines it served with \`diskless machine add --boot '${JSON.stringify(boot)}'\``);
  }
  plan.notes.push(...log.notes);
  return plan;
}

/** The boot entry (one label) or menu (several) a pxelinux config file describes, or null. */
export function parsePxelinuxBoot(text: string, file: string, log: NoteLog): BootConfig | null {
  const globals: Globals = {};
  const labels: Label[] = [];
  let current: Label | undefined;
  let inHelp = false;
  splitLines(text, file).forEach((raw, i) => {
    const line = i + 1;
    const content = raw.trim();
    if (inHelp) {
      inHelp = !/^endtext\b/i.test(content);
      return;
    }
    if (content === '' || content.startsWith('#')) return;
    const [word = '', ...words] = content.split(/\s+/);
    const keyword = word.toLowerCase();
    const rest = content.slice(word.length).trim();
    const first = words[0] ?? '';
    if (keyword === 'label') {
      current = { line, name: rest, isDefault: false, hidden: false };
      labels.push(current);
    } else if (KERNEL_KEYWORDS[keyword] !== undefined && current !== undefined) {
      current.kind = KERNEL_KEYWORDS[keyword];
      current.kernel = first;
      // Words after the file name are kernel arguments, as if they led the APPEND line.
      if (words.length > 1) current.append = `${words.slice(1).join(' ')} ${current.append ?? ''}`.trim();
    } else if (keyword === 'append') {
      const value = rest === '-' ? '' : rest;
      if (current === undefined) globals.append = value;
      else current.append = `${current.append ?? ''} ${value}`.trim();
    } else if (keyword === 'initrd' && current !== undefined) current.initrd = rest;
    else if (keyword === 'ipappend' || keyword === 'sysappend') {
      if (current === undefined) globals.ipappend = Number(first) || 0;
      else current.ipappend = Number(first) || 0;
    } else if (keyword === 'localboot' && current !== undefined) current.kind = 'localboot';
    else if (keyword === 'default') globals.defaultValue = { line, value: rest };
    else if (keyword === 'ui') globals.ui = words[words.length - 1] ?? '';
    else if (keyword === 'prompt') globals.prompt = Number(first);
    else if (keyword === 'timeout') globals.timeoutTenths = Number(first);
    else if (keyword === 'ontimeout') globals.onTimeout = rest;
    else if (keyword === 'text' && first.toLowerCase() === 'help') inHelp = true;
    else if (keyword === 'menu') readMenu(first.toLowerCase(), content.split(/\s+/).slice(2).join(' '), current, globals, line, log);
    else if (keyword === 'include') log.add(line, `${content} not followed: import that file too`);
    else if (DISPLAY_ONLY.test(keyword)) log.add(line, `${word} ignored (it only changes what the screen or console shows)`);
    else log.add(line, `${content} not understood; ignored`);
  });
  return buildBoot(labels, globals, file, log);
}

function readMenu(sub: string, value: string, current: Label | undefined, globals: Globals, line: number, log: NoteLog): void {
  if (sub === 'label' && current !== undefined) current.menuLabel = value.replace(/\^/g, '');
  else if (sub === 'default' && current !== undefined) current.isDefault = true;
  else if (sub === 'hide' && current !== undefined) current.hidden = true;
  else if (sub === 'title') globals.title = value;
  else if (sub === 'begin' || sub === 'end') log.add(line, `MENU ${sub.toUpperCase()} ignored: submenus are flattened into one menu`);
  else if (sub === 'include') log.add(line, `MENU INCLUDE ${value} not followed: import that file too`);
  else if (sub === 'passwd' || sub === 'masterpasswd') log.add(line, `MENU ${sub.toUpperCase()} not imported: diskless menus have no passwords`);
  else log.add(line, `MENU ${sub.toUpperCase()} ignored (it only changes how the menu looks)`);
}

function buildBoot(labels: Label[], globals: Globals, file: string, log: NoteLog): BootConfig | null {
  const menuUi = /(^|\/)(vesa)?menu\.c32$/i;
  const defaultWord = globals.defaultValue?.value.split(/\s+/)[0] ?? '';
  const withUi = globals.ui !== undefined || menuUi.test(defaultWord);
  if (globals.ui !== undefined && !menuUi.test(globals.ui)) log.add(0, `UI ${globals.ui} treated as a menu`);
  const named = (name: string): Label | undefined => labels.find((l) => l.name === name) ?? labels.find((l) => l.name.toLowerCase() === name.toLowerCase());
  let defaultName = globals.onTimeout ?? (menuUi.test(defaultWord) ? undefined : named(defaultWord)?.name ?? defaultWord);
  // Without a label of that name, DEFAULT is itself a kernel command line (syslinux.txt).
  if (defaultName !== undefined && defaultName !== '' && globals.defaultValue !== undefined && named(defaultName) === undefined) {
    const [kernel = '', ...args] = globals.defaultValue.value.split(/\s+/);
    labels.unshift({ line: globals.defaultValue.line, name: 'default', kind: 'kernel', kernel, append: args.join(' '), isDefault: false, hidden: false });
    defaultName = 'default';
  }
  const ids = new Set<string>();
  const items: { id: string; label: string; entry: BootEntryConfig; menuDefault: boolean; isDefault: boolean }[] = [];
  let copied = false;
  for (const label of labels) {
    if (label.hidden) {
      log.add(label.line, `label ${label.name} skipped: MENU HIDE`);
      continue;
    }
    const entry = labelEntry(label, globals, log);
    if (entry === null) continue;
    const problem = bootProblem(entry);
    if (problem !== null) {
      log.add(label.line, `label ${label.name} skipped: diskless would refuse it (${problem})`);
      continue;
    }
    if (!copied && JSON.stringify(entry).includes('"/files/')) {
      log.add(label.line, `paths relative to the TFTP root now point at diskless's boot folder (/files/...): copy those files there`);
      copied = true;
    }
    const id = uniqueName(label.name.replace(/[^A-Za-z0-9_-]+/g, '-').replace(/^-+|-+$/g, '') || 'item', ids);
    items.push({ id, label: label.menuLabel ?? label.name, entry, menuDefault: label.isDefault, isDefault: label.name === defaultName });
  }
  const [only] = items;
  if (only === undefined) return null;
  if (items.length === 1) return only.entry;
  // MENU DEFAULT wins over DEFAULT (menu.txt).
  const chosen = items.find((item) => item.menuDefault) ?? items.find((item) => item.isDefault);
  const tenths = globals.timeoutTenths ?? 0;
  let timeoutSeconds = tenths > 0 ? Math.ceil(tenths / 10) : undefined;
  if (!withUi && globals.prompt !== 1) {
    timeoutSeconds = 1;
    log.add(globals.defaultValue?.line ?? 0, `pxelinux booted ${chosen?.label ?? 'the first label'} at once (no PROMPT); the menu boots it after 1 second, leaving the other labels one keypress away`);
  }
  return {
    kind: 'menu',
    ...(globals.title !== undefined ? { title: globals.title } : {}),
    items: items.map(({ id, label, entry }) => ({ id, label, entry })),
    ...(chosen !== undefined ? { default: chosen.id } : {}),
    ...(timeoutSeconds !== undefined ? { timeoutSeconds } : {}),
  };
}

/** IPAPPEND/SYSAPPEND bits (syslinux.txt) as iPXE settings, which iPXE expands in the command line. */
function ipappendArgs(flags: number, line: number, log: NoteLog): string[] {
  const args: string[] = [];
  if ((flags & 1) !== 0) args.push('ip=${ip}:${next-server}:${gateway}:${netmask}');
  if ((flags & 2) !== 0) args.push('BOOTIF=01-${netX/mac:hexhyp}');
  if ((flags & 4) !== 0) args.push('SYSUUID=${uuid}');
  if ((flags & ~7) !== 0) log.add(line, `IPAPPEND/SYSAPPEND bits above 4 dropped (no iPXE equivalent)`);
  if (args.length > 0) log.add(line, `IPAPPEND ${flags} approximated with iPXE settings: ${args.join(' ')}`);
  return args;
}

/** One label as a boot entry, or null (noted) when diskless cannot boot it. */
function labelEntry(label: Label, globals: Globals, log: NoteLog): BootEntryConfig | null {
  const skip = (why: string): null => {
    log.add(label.line, `label ${label.name} skipped: ${why}`);
    return null;
  };
  if (label.kind === 'localboot') return { kind: 'local' };
  if (label.kind === undefined || label.kernel === undefined || label.kernel === '') return skip('it loads nothing');
  if (label.kind === 'config') return skip(`CONFIG loads another configuration (${label.kernel}); import that file instead`);
  const words = (label.append ?? globals.append ?? '').split(/\s+/).filter((w) => w !== '');
  const initrds = (label.initrd ?? '').split(',').filter((p) => p !== '');
  const args: string[] = [];
  for (const word of words) {
    if (/^initrd=/i.test(word)) initrds.push(...word.slice(7).split(',').filter((p) => p !== ''));
    else args.push(word);
  }
  const base = (label.kernel.split(/[/\\]/).pop() ?? '').toLowerCase();
  const ext = /\.([a-z0-9]+)$/.exec(base)?.[1] ?? '';
  const kind: LabelKind = label.kind !== 'kernel' ? label.kind : ext === '0' ? 'pxe' : ext === 'c32' ? 'com32' : ext === 'cbt' || ext === 'com' ? 'comboot' : ['bs', 'bss', 'bin'].includes(ext) ? 'boot' : ext === 'img' ? 'fdimage' : 'linux';
  const url = (path: string): string | null => bootFileUrl(path);
  switch (kind) {
    case 'linux': {
      if (base === 'memdisk') {
        const image = initrds[0] === undefined ? null : url(initrds[0]);
        if (image === null) return skip('memdisk without an image diskless can fetch');
        return { kind: 'memdisk', image, iso: args.includes('iso') };
      }
      if (/\.lkrn$/.test(base)) return skip(`${label.kernel} starts iPXE, which diskless has already started`);
      const kernel = url(label.kernel);
      const initrdUrls = initrds.map(url);
      if (kernel === null || initrdUrls.some((u) => u === null)) return skip('a kernel or initrd path diskless cannot fetch (only http, https, tftp or TFTP-root paths)');
      const cmdline = [...args, ...ipappendArgs(label.ipappend ?? globals.ipappend ?? 0, label.line, log)].join(' ');
      return { kind: 'kernel', kernel, initrds: initrdUrls.filter((u): u is string => u !== null), ...(cmdline !== '' ? { cmdline } : {}) };
    }
    case 'pxe': {
      const target = url(label.kernel);
      return target === null ? skip(`${label.kernel} cannot be fetched from diskless`) : { kind: 'chain', url: target };
    }
    case 'fdimage': {
      const image = url(label.kernel);
      return image === null ? skip(`${label.kernel} cannot be fetched from diskless`) : { kind: 'memdisk', image, iso: false };
    }
    case 'com32':
      return com32Entry(base, args, label, skip, log);
    case 'comboot':
    case 'boot':
      return skip(`${label.kernel} is a ${kind === 'boot' ? 'boot sector' : 'COMBOOT program'}, which only syslinux can run`);
    default:
      return skip(`${label.kernel} cannot be booted by diskless`);
  }
}

/** COM32 modules with an iPXE equivalent: gpxecmd/ipxecmd (sanboot, chain), pxechn, chain. */
function com32Entry(module: string, args: readonly string[], label: Label, skip: (why: string) => null, log: NoteLog): BootEntryConfig | null {
  const [command = '', target = ''] = args;
  if (/^[gi]pxecmd\.c32$/.test(module)) {
    if (command === 'sanboot') {
      const root = parseIscsiRootPath(target);
      if (!root.ok) return skip(`sanboot ${target}: ${root.why}`);
      log.add(label.line, `label ${label.name}: sanboot now reaches ${root.ref.target} on diskless's own portal instead of ${root.server || 'the DHCP server'}`);
      return { kind: 'sanboot', disks: [root.ref] };
    }
    const url = command === 'chain' ? bootFileUrl(target) : null;
    return url === null ? skip(`${module} ${args.join(' ')} has no diskless equivalent`) : { kind: 'chain', url };
  }
  if (module === 'pxechn.c32') {
    // pxechn.c32 [host::]path: a boot program from this or another TFTP server.
    const remote = /^([^:/]+)::(.+)$/.exec(command);
    const url = remote?.[1] !== undefined && remote[2] !== undefined ? `tftp://${remote[1]}/${remote[2].replace(/^\/+/, '')}` : bootFileUrl(command);
    return url === null ? skip(`pxechn.c32 ${command} cannot be fetched`) : { kind: 'chain', url };
  }
  if (module === 'chain.c32') {
    log.add(label.line, `label ${label.name}: chain.c32 ${args.join(' ')} approximated as a local boot (the firmware's next boot device)`);
    return { kind: 'local' };
  }
  return skip(`${module} is a syslinux module with no diskless equivalent`);
}
