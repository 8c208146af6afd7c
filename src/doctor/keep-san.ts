// Whether an iPXE script keeps a SAN disk registered (keep-san) where an install needs it. iPXE
// detaches a SAN disk when a sanboot from it fails or returns unless `keep-san` is set; an
// installer started after hooking the disk (Windows Setup through wimboot or an ISO) then finds
// no disk to install to, or no iBFT to boot from afterwards. Read from the script text, so it
// judges what the machine really runs (boot/ipxe-script.ts's output today). Pure.
import { normalizeIscsiName } from '../iscsi/target-directory.ts';

/** iPXE's iSCSI root path, iscsi:<server>:<protocol>:<port>:<lun>:<target>; the target keeps its colons. */
const ROOT_PATH = /\biscsi:(\[[^\]]*\]|[^:\s]*):([^:\s]*):([^:\s]*):([^:\s]*):(\S+)/;
const HOOK = /^(sanboot|sanhook)\b/;
const KEEP_SAN = /^set\s+(?:\S+\/)?keep-san\s+1\b/;
/** What boots an installer after the disk is hooked: another SAN image, a kernel (wimboot, memdisk), a chain. */
const INSTALLER = /^(sanboot|kernel|chain|imgexec|boot)\b/;

/** The root path's LUN field: empty means LUN 0 (iPXE's default). */
function lunOf(field: string | undefined): number {
  const lun = Number(field === undefined || field === '' ? 0 : field);
  return Number.isInteger(lun) && lun >= 0 ? lun : 0;
}

export interface ScriptHook {
  readonly command: 'sanboot' | 'sanhook';
  readonly target: string;
  readonly lun: number;
  /** The line, for messages. */
  readonly line: string;
  /** Whether `set keep-san 1` runs before it: earlier in its label's block, or before any label. */
  readonly keepSan: boolean;
}

/** The script's commands in blocks: the preamble, then one block per `:label`. */
function blocks(script: string): string[][] {
  const out: string[][] = [[]];
  for (const raw of script.split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    if (line.startsWith(':')) out.push([]);
    else out[out.length - 1]?.push(line);
  }
  return out;
}

/** Every sanboot/sanhook of an iSCSI disk in the script, in order, with its keep-san state. */
export function iscsiHooks(script: string): ScriptHook[] {
  const all = blocks(script);
  const preambleKeeps = (all[0] ?? []).some((l) => KEEP_SAN.test(l));
  const hooks: ScriptHook[] = [];
  for (const block of all) {
    let keepSan = preambleKeeps;
    for (const line of block) {
      if (KEEP_SAN.test(line)) keepSan = true;
      const command = HOOK.exec(line)?.[1];
      const path = ROOT_PATH.exec(line);
      if ((command !== 'sanboot' && command !== 'sanhook') || path === null) continue;
      hooks.push({ command, target: path[5] ?? '', lun: lunOf(path[4]), line, keepSan });
    }
  }
  return hooks;
}

/** The hooks of one target (names compare as the login compares them, RFC 3722). */
export function hooksOf(script: string, target: string): ScriptHook[] {
  const wanted = normalizeIscsiName(target);
  return iscsiHooks(script).filter((h) => normalizeIscsiName(h.target) === wanted);
}

/**
 * An install flow that loses its disk: a block that hooks an iSCSI disk without keep-san and
 * then boots something else (the installer). Null when the script has none.
 */
export function installerWithoutKeepSan(script: string): { readonly hook: ScriptHook; readonly installer: string } | null {
  const all = blocks(script);
  const preambleKeeps = (all[0] ?? []).some((l) => KEEP_SAN.test(l));
  for (const block of all) {
    let keepSan = preambleKeeps;
    let hooked: ScriptHook | null = null;
    for (const line of block) {
      if (KEEP_SAN.test(line)) keepSan = true;
      const path = ROOT_PATH.exec(line);
      if (/^sanhook\b/.test(line) && path !== null) {
        if (!keepSan) hooked ??= { command: 'sanhook', target: path[5] ?? '', lun: lunOf(path[4]), line, keepSan };
        continue;
      }
      if (hooked !== null && INSTALLER.test(line) && path === null) return { hook: hooked, installer: line };
    }
  }
  return null;
}
