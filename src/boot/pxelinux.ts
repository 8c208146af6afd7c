// Generated pxelinux.cfg/ files (syslinux's PXELINUX lookup, in the client's order: the UUID,
// "01-" + the MAC with dashes, the IPv4 address in upper-case hex shortened one digit at a time,
// then "default"). Pure: the caller maps a request path to a machine.
import type { BootEntry, MachineScript } from './boot-entry.ts';

export type PxelinuxRequest =
  | { readonly kind: 'uuid'; readonly uuid: string }
  | { readonly kind: 'mac'; readonly mac: string }
  | { readonly kind: 'ip-prefix'; readonly hex: string }
  | { readonly kind: 'default' };

/** Parses a path under pxelinux.cfg/, or null when it is not one. */
export function parsePxelinuxPath(path: string): PxelinuxRequest | null {
  const match = /^\/?pxelinux\.cfg\/(.+)$/i.exec(path.replace(/\\/g, '/'));
  const name = match?.[1];
  if (name === undefined) return null;
  if (name === 'default') return { kind: 'default' };
  const mac = /^01-((?:[0-9a-f]{2}-){5}[0-9a-f]{2})$/i.exec(name);
  if (mac?.[1] !== undefined) return { kind: 'mac', mac: mac[1].toLowerCase().replace(/-/g, ':') };
  if (/^[0-9A-F]{1,8}$/.test(name)) return { kind: 'ip-prefix', hex: name };
  if (/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(name)) return { kind: 'uuid', uuid: name.toLowerCase() };
  return null;
}

/** The address as pxelinux spells it: 192.168.0.10 → C0A8000A. */
export function ipToPxelinuxHex(ip: string): string {
  return ip
    .split('.')
    .map((octet) => Number(octet).toString(16).toUpperCase().padStart(2, '0'))
    .join('');
}

function line(value: string): string {
  if (/[\r\n]/.test(value)) throw new RangeError('pxelinux config values cannot contain line breaks');
  return value;
}

/** A pxelinux config for one machine: kernels boot directly, everything else goes through iPXE. */
export function renderPxelinuxConfig(script: MachineScript): string {
  const entry: BootEntry | null = script.boot.kind === 'menu' ? null : script.boot;
  const lines = [`# diskless: ${line(script.title)}`, 'DEFAULT diskless', 'PROMPT 0', 'TIMEOUT 0', 'LABEL diskless'];
  if (entry?.kind === 'kernel') {
    lines.push(`  KERNEL ${line(entry.kernel)}`);
    if (entry.initrds.length > 0) lines.push(`  INITRD ${entry.initrds.map(line).join(',')}`);
    if (entry.cmdline !== undefined) lines.push(`  APPEND ${line(entry.cmdline)}`);
  } else if (entry?.kind === 'local') {
    lines.push('  LOCALBOOT 0');
  } else {
    // iPXE started from pxelinux does DHCP again as "iPXE" and gets this machine's script.
    lines.push('  KERNEL ipxe.lkrn');
  }
  return lines.join('\n') + '\n';
}

/** For machines diskless does not know: boot the local disk. */
export const PXELINUX_DEFAULT = '# diskless: unregistered machine\nDEFAULT local\nPROMPT 0\nTIMEOUT 0\nLABEL local\n  LOCALBOOT 0\n';
