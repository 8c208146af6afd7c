// Pure iPXE script rendering: the same inputs always give the same text (tested as exact text).
// iPXE's iSCSI root path is iscsi:<server>:<protocol>:<port>:<lun>:<target> (iPXE docs,
// "sanboot"); empty protocol means TCP (6).

export interface SanDisk {
  /** Address the client uses to reach the iSCSI portal (an IP literal: clients may have no DNS). */
  readonly server: string;
  readonly port: number;
  readonly lun: number;
  readonly target: string;
}

export interface SanbootScript {
  readonly disk: SanDisk;
  readonly initiatorIqn?: string;
  /** Credentials the initiator presents (iPXE `username`/`password`). */
  readonly chap?: { readonly user: string; readonly secret: string };
  /** Credentials the target must present back (iPXE `reverse-username`/`reverse-password`). */
  readonly mutualChap?: { readonly user: string; readonly secret: string };
  /** Seconds to wait before trying again when the sanboot fails. */
  readonly retrySeconds?: number;
}

export function formatIscsiRootPath(disk: SanDisk): string {
  const host = disk.server.includes(':') ? `[${disk.server}]` : disk.server;
  return `iscsi:${host}::${disk.port}:${disk.lun}:${disk.target}`;
}

/** iPXE settings are strings set with `set`; quote nothing, but refuse characters that would break the line. */
function settingValue(value: string): string {
  if (/[\r\n]/.test(value)) throw new RangeError('iPXE setting values cannot contain line breaks');
  return value;
}

export function renderSanbootScript(script: SanbootScript): string {
  const root = formatIscsiRootPath(script.disk);
  const retry = script.retrySeconds ?? 5;
  const lines = ['#!ipxe', `# diskless: boot from ${script.disk.target} LUN ${script.disk.lun}`];
  if (script.initiatorIqn !== undefined) lines.push(`set initiator-iqn ${settingValue(script.initiatorIqn)}`);
  if (script.chap !== undefined) {
    lines.push(`set username ${settingValue(script.chap.user)}`, `set password ${settingValue(script.chap.secret)}`);
  }
  if (script.mutualChap !== undefined) {
    lines.push(`set reverse-username ${settingValue(script.mutualChap.user)}`, `set reverse-password ${settingValue(script.mutualChap.secret)}`);
  }
  lines.push(
    ':boot',
    `sanboot ${root} || goto failed`,
    ':failed',
    `echo diskless: could not boot from ${root}`,
    `echo diskless: trying again in ${retry} seconds (Ctrl-C for a shell)`,
    `sleep ${retry} || shell`,
    'goto boot',
    '',
  );
  return lines.join('\n');
}
