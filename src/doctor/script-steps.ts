// The machine's iPXE script: it renders, and every URL in it leads somewhere this server
// serves (its own script route, or a file under /files/ or TFTP). URLs of other hosts are
// listed but not fetched: the doctor only talks to this server. Pure; lookups come in.
import { hostForUrl, type BootContext } from '../boot/inventory.ts';
import type { DoctorStep } from './checklist.ts';
import { formatSize, type FileLookup } from './file-lookup.ts';

export type UrlTarget =
  | { readonly kind: 'script' }
  | { readonly kind: 'file'; readonly via: 'http' | 'tftp'; readonly path: string }
  | { readonly kind: 'unknown-route'; readonly path: string }
  | { readonly kind: 'https-self' }
  | { readonly kind: 'external' };

/** http://, https:// and tftp:// URLs, in order of appearance, each once; TFTP prefixes skipped. */
export function urlsInScript(script: string): string[] {
  const found = script.match(/\b(?:https?|tftp):\/\/[^\s"'|]+/g) ?? [];
  return [...new Set(found)].filter((u) => !(u.startsWith('tftp://') && u.endsWith('/')));
}

export function classifyUrl(url: string, ctx: BootContext): UrlTarget {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return { kind: 'external' };
  }
  const self = parsed.hostname.toLowerCase() === hostForUrl(ctx.server).toLowerCase();
  const path = decodeURIComponent(parsed.pathname);
  if (parsed.protocol === 'tftp:') return self ? { kind: 'file', via: 'tftp', path: path.replace(/^\//, '') } : { kind: 'external' };
  const port = parsed.port === '' ? (parsed.protocol === 'https:' ? 443 : 80) : Number(parsed.port);
  if (!self || port !== ctx.httpPort) return { kind: 'external' };
  if (parsed.protocol === 'https:') return { kind: 'https-self' };
  if (path === '/boot.ipxe') return { kind: 'script' };
  if (path.startsWith('/files/')) return { kind: 'file', via: 'http', path: path.slice('/files/'.length) };
  return { kind: 'unknown-route', path };
}

export function renderStep(rendered: { text: string } | { error: string } | null): DoctorStep {
  const base = { section: 'script' as const, id: 'script:render' };
  if (rendered === null) return { ...base, status: 'skip', summary: 'no script to render' };
  if ('error' in rendered) return { ...base, status: 'fail', summary: 'the boot script does not render', cause: `The renderer refuses the machine's boot entry: ${rendered.error}.`, fix: 'fix the boot entry (diskless machine set NAME --boot JSON)' };
  return { ...base, status: 'ok', summary: `the boot script renders (${rendered.text.split('\n').length - 1} lines)` };
}

export interface UrlCheckContext {
  readonly tftpEnabled: boolean;
  readonly bootFolder: string;
}

export function urlStep(url: string, target: UrlTarget, lookup: FileLookup | null, ctx: UrlCheckContext): DoctorStep {
  const base = { section: 'script' as const, id: `script:url:${url}` };
  switch (target.kind) {
    case 'script':
      return { ...base, status: 'ok', summary: `${url}: this server's boot script` };
    case 'external':
      return { ...base, status: 'ok', summary: `${url}: another host, not checked` };
    case 'https-self':
      return { ...base, status: 'fail', summary: `${url}: diskless serves plain HTTP`, cause: 'The script asks this server for https://, which it does not serve.', fix: 'use http:// (or a path starting with /, which diskless turns into its own http:// URL)' };
    case 'unknown-route':
      return { ...base, status: 'fail', summary: `${url}: not a path this server serves`, cause: `${target.path} is neither /boot.ipxe nor a file under /files/.`, fix: `put the file into ${ctx.bootFolder} and name it /files/<name> in the boot entry`, ipxeError: '0x2d0c613b' };
    case 'file': {
      if (lookup === null || !lookup.found) {
        const refused = lookup !== null && lookup.refused;
        return {
          ...base,
          status: 'fail',
          summary: `${url}: ${target.path} ${refused ? 'is refused' : 'is missing'} on this server`,
          cause: refused ? `${target.path} lies outside the boot folders or cannot be read.` : `${target.path} is not in ${ctx.bootFolder} nor in Debian's iPXE and syslinux folders: iPXE's download fails with "${target.via === 'http' ? 'No such file or directory' : 'File not found'}".`,
          fix: `put ${target.path} into ${ctx.bootFolder} (served over TFTP and under /files/), or fix the path in the boot entry`,
          ...(refused && target.via === 'http' ? {} : { ipxeError: target.via === 'http' ? '0x2d0c613b' : refused ? '0x0212603c' : '0x2d12603b' }),
        };
      }
      if (target.via === 'tftp' && !ctx.tftpEnabled) {
        return { ...base, status: 'fail', summary: `${url}: diskless's TFTP server is off`, cause: 'The script fetches this file over TFTP, and diskless runs no TFTP server.', fix: 'enable TFTP (tftp.enabled: true)' };
      }
      return { ...base, status: 'ok', summary: `${url}: ${formatSize(lookup.size)}` };
    }
  }
}
