// Pure iPXE script rendering: the same machine record always gives the same text (tested as
// exact text). Commands and settings are iPXE's own (ipxe.org/cmd): sanboot, sanhook with BIOS
// drive numbers, keep-san, kernel/initrd/boot, chain, menu/item/choose, exit, shell.
import type { BootEntry, InstallerEntry, MachineScript, MenuBoot, SanDisk, SanIdentity } from './boot-entry.ts';

/** iPXE's iSCSI root path: iscsi:<server>:<protocol>:<port>:<lun>:<target>; empty protocol is TCP. */
export function formatIscsiRootPath(disk: SanDisk): string {
  const host = disk.server.includes(':') ? `[${disk.server}]` : disk.server;
  return `iscsi:${host}::${disk.port}:${disk.lun}:${disk.target}`;
}

/** First BIOS hard disk number; iPXE numbers SAN disks from here (INT 13h convention). */
const FIRST_DRIVE = 0x80;

function drive(index: number): string {
  return `0x${(FIRST_DRIVE + index).toString(16)}`;
}

/** A value that goes on one script line: a line break would let it inject commands. */
function lineValue(value: string): string {
  if (/[\r\n]/.test(value)) throw new RangeError('iPXE script values cannot contain line breaks');
  return value;
}

function identityLines(identity: SanIdentity): string[] {
  const lines: string[] = [];
  if (identity.initiatorIqn !== undefined) lines.push(`set initiator-iqn ${lineValue(identity.initiatorIqn)}`);
  if (identity.chap !== undefined) lines.push(`set username ${lineValue(identity.chap.user)}`, `set password ${lineValue(identity.chap.secret)}`);
  if (identity.mutualChap !== undefined) {
    lines.push(`set reverse-username ${lineValue(identity.mutualChap.user)}`, `set reverse-password ${lineValue(identity.mutualChap.secret)}`);
  }
  return lines;
}

function installerLines(installer: InstallerEntry): string[] {
  switch (installer.kind) {
    case 'iso':
      // --no-describe: the installer medium must not become the iBFT boot disk (Windows setup
      // would then look for itself instead of the iSCSI disk).
      return [`sanboot --no-describe ${lineValue(installer.url)} || goto failed`];
    case 'kernel':
    case 'memdisk':
    case 'chain':
      return entryLines(installer);
  }
}

/** The commands that boot one entry; every command that can fail jumps to :failed. */
function entryLines(entry: BootEntry): string[] {
  switch (entry.kind) {
    case 'sanboot': {
      const [first, ...rest] = entry.disks;
      if (first === undefined) throw new RangeError('sanboot needs at least one disk');
      const lines = entry.keepSan === true ? ['set keep-san 1'] : [];
      // Hook the extra disks first, then register and boot the first one as 0x80.
      rest.forEach((disk, i) => lines.push(`sanhook --drive ${drive(i + 1)} ${formatIscsiRootPath(disk)} || goto failed`));
      lines.push(entry.disks.length > 1 ? `sanboot --drive ${drive(0)} ${formatIscsiRootPath(first)} || goto failed` : `sanboot ${formatIscsiRootPath(first)} || goto failed`);
      return lines;
    }
    case 'install':
      return ['set keep-san 1', `sanhook --drive ${drive(0)} ${formatIscsiRootPath(entry.disk)} || goto failed`, ...installerLines(entry.installer)];
    case 'kernel':
      return [
        `kernel ${lineValue(entry.kernel)}${entry.cmdline !== undefined && entry.cmdline !== '' ? ` ${lineValue(entry.cmdline)}` : ''} || goto failed`,
        ...entry.initrds.map((initrd) => `initrd ${lineValue(initrd)} || goto failed`),
        'boot || goto failed',
      ];
    case 'memdisk':
      return [`kernel ${lineValue(entry.memdiskUrl)}${entry.iso ? ' iso raw' : ''} || goto failed`, `initrd ${lineValue(entry.image)} || goto failed`, 'boot || goto failed'];
    case 'chain':
      return [`chain ${lineValue(entry.url)} || goto failed`];
    case 'pxelinux':
      // pxelinux finds its config files under option 210's prefix (RFC 5071).
      return [`set 210:string tftp://${entry.tftpServer}/`, `chain tftp://${entry.tftpServer}/pxelinux.0 || goto failed`];
    case 'local':
      // Returning to the firmware makes it try the next boot device.
      return ['echo diskless: booting from the local disk', 'exit'];
    case 'shell':
      return ['shell'];
  }
}

/** Disks left hooked after a failed attempt are unhooked, so the retry can hook them again. */
function cleanupLines(entry: BootEntry): string[] {
  if (entry.kind === 'sanboot') return entry.disks.slice(1).map((_d, i) => `sanunhook --drive ${drive(i + 1)} ||`);
  if (entry.kind === 'install') return [`sanunhook --drive ${drive(0)} ||`];
  return [];
}

function failureLines(title: string, retrySeconds: number, cleanup: string[], retryLabel: string): string[] {
  return [
    ':failed',
    `echo diskless: could not boot ${lineValue(title)}`,
    `echo diskless: trying again in ${retrySeconds} seconds (Ctrl-C for a shell)`,
    `sleep ${retrySeconds} || shell`,
    ...cleanup,
    `goto ${retryLabel}`,
  ];
}

function renderMenu(script: MachineScript, menu: MenuBoot, retrySeconds: number): string[] {
  const lines = [':menu', `menu ${lineValue(menu.title)}`];
  for (const item of menu.items) lines.push(`item ${item.id} ${lineValue(item.label)}`);
  const fallback = menu.items[0]?.id;
  const defaultItem = menu.defaultItem ?? fallback;
  const choose = ['choose'];
  if (defaultItem !== undefined) choose.push(`--default ${defaultItem}`);
  if (menu.timeoutSeconds !== undefined) choose.push(`--timeout ${menu.timeoutSeconds * 1000}`);
  // Esc at the menu gives a shell rather than a dead end.
  lines.push(`${choose.join(' ')} selected || shell`, 'goto item-${selected}');
  const cleanup: string[] = [];
  for (const item of menu.items) {
    lines.push(`:item-${item.id}`, ...entryLines(item.entry), 'goto menu');
    cleanup.push(...cleanupLines(item.entry));
  }
  lines.push(...failureLines(script.title, retrySeconds, cleanup, 'menu'));
  return lines;
}

export function renderMachineScript(script: MachineScript): string {
  const retrySeconds = script.retrySeconds ?? 5;
  const lines = ['#!ipxe', `# diskless: ${lineValue(script.title)}`, ...identityLines(script.identity)];
  const boot = script.boot;
  if (boot.kind === 'menu') {
    lines.push(...renderMenu(script, boot, retrySeconds));
  } else {
    lines.push(':boot', ...entryLines(boot));
    // Entries that return (a shell that exits, local boot declined) fall through to retry.
    lines.push('goto boot', ...failureLines(script.title, retrySeconds, cleanupLines(boot), 'boot'));
  }
  return lines.join('\n') + '\n';
}

/** The script for a machine iPXE has not identified yet: come back with the MAC in the URL. */
export function renderIdentifyScript(scriptUrl: string): string {
  // ${netX/mac:hexhyp}: the MAC of the interface iPXE booted from, as 52-54-00-12-34-56.
  return ['#!ipxe', '# diskless: identify this machine by the MAC it booted from', `chain ${lineValue(scriptUrl)}?mac=\${netX/mac:hexhyp} || shell`, ''].join('\n');
}

/** The screen an unregistered machine sees: what it is and how to register it. */
export function renderNotRegisteredScript(mac: string, hint: string, retryUrl: string, retrySeconds = 30): string {
  return [
    '#!ipxe',
    `# diskless: ${lineValue(mac)} is not registered`,
    ':wait',
    `echo diskless: this machine (${lineValue(mac)}) is not registered.`,
    `echo diskless: ${lineValue(hint)}`,
    `echo diskless: trying again in ${retrySeconds} seconds (Ctrl-C for a shell)`,
    `sleep ${retrySeconds} || shell`,
    `chain ${lineValue(retryUrl)} || goto wait`,
    '',
  ].join('\n');
}
