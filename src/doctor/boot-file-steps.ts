// The boot programs the DHCP answers name (undionly.kpxe, ipxe.efi over TFTP, or ipxe.efi over
// HTTP for UEFI HTTP boot): each must exist where the TFTP server and /files/ look. Pure; the
// lookups come in from file-lookup.ts.
import { DELIVERY } from '../boot/policy.ts';
import type { DoctorStep } from './checklist.ts';
import type { DhcpAnswer } from './dhcp-steps.ts';
import { formatSize, type FileLookup } from './file-lookup.ts';

export interface BootFile {
  /** The path the provider is asked for. */
  readonly path: string;
  readonly via: 'tftp' | 'http';
  /** Which firmware profiles fetch it. */
  readonly fetchedBy: readonly string[];
}

/** The distinct programs in the DHCP answers; iPXE's script URL is the script step's business. */
export function bootFilesOf(answers: readonly DhcpAnswer[]): BootFile[] {
  const files = new Map<string, { path: string; via: 'tftp' | 'http'; fetchedBy: string[] }>();
  for (const a of answers) {
    if (a.decision === null || a.client === null) continue;
    const delivery = DELIVERY[a.client.firmware];
    if (delivery === 'http-script') continue;
    const via = delivery === 'tftp-program' ? 'tftp' : 'http';
    const path = via === 'tftp' ? a.decision.bootFile : new URL(a.decision.bootFile).pathname.replace(/^\/files\//, '');
    const key = `${via}:${path}`;
    const entry = files.get(key) ?? { path, via, fetchedBy: [] };
    entry.fetchedBy.push(a.profile.label);
    files.set(key, entry);
  }
  return [...files.values()];
}

export interface BootFileContext {
  readonly tftpEnabled: boolean;
  readonly dhcpMode: 'full' | 'proxy' | 'off';
  /** Where files are looked for, for the fix (DATA_DIR/boot or tftp.root). */
  readonly bootFolder: string;
}

export function bootFileStep(file: BootFile, lookup: FileLookup, ctx: BootFileContext): DoctorStep {
  const base = { section: 'tftp' as const, id: `tftp:${file.via}:${file.path}` };
  const who = file.fetchedBy.join(', ');
  if (!lookup.found) {
    return {
      ...base,
      status: 'fail',
      summary: `${file.path} (for ${who}) ${lookup.refused ? 'is refused' : 'is missing'}`,
      cause: lookup.refused ? `The file provider refuses ${file.path}: it lies outside the boot folders or cannot be read.` : `${file.path} is neither in ${ctx.bootFolder} nor in Debian's /usr/lib/ipxe: a ${who} client gets "File not found" (vendor PXE ROMs print PXE-T01 or PXE-E3B).`,
      fix: `install Debian's ipxe package (apt-get install ipxe), or put ${file.path} into ${ctx.bootFolder}`,
    };
  }
  const summary = `${file.path} (for ${who}): ${formatSize(lookup.size)}, served over ${file.via === 'tftp' ? 'TFTP' : 'HTTP /files/'}`;
  if (file.via === 'tftp' && !ctx.tftpEnabled) {
    // With DHCP on, diskless names itself as next-server: its TFTP must run. With DHCP off the
    // network's DHCP may point PXE ROMs at another TFTP server, so that is only worth a note.
    if (ctx.dhcpMode !== 'off') {
      return { ...base, status: 'fail', summary: `${summary}, but diskless's TFTP server is off`, cause: 'diskless answers DHCP with itself as next-server, and its TFTP server is disabled (tftp.enabled: false).', fix: 'enable TFTP (tftp.enabled: true in the configuration)' };
    }
    return { ...base, status: 'ok', summary: `${file.path} (for ${who}): ${formatSize(lookup.size)} here, but diskless's TFTP server is off: the network's TFTP server must serve it (iPXE NIC ROMs go straight to HTTP)` };
  }
  return { ...base, status: 'ok', summary };
}
