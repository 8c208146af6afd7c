// Files from directories on disk, behind a root jail. Roots are tried in order (say the user's
// folder first, then Debian's iPXE binaries in /usr/lib/ipxe), so a user can override a binary.
//
// The jail has two walls. The request path is resolved lexically first (normaliseRequestPath):
// `..` never climbs above the root and `/etc/passwd` means `<root>/etc/passwd`. Then, for a
// 'jail' root, the real path (symlinks resolved) must still lie inside the root's real path, so
// a symlink planted in a user folder cannot lead out; after open, /proc/self/fd confirms that the
// file opened is the one checked, closing the race of a directory swapped in between.
// A 'follow' root trusts its symlinks: /usr/lib/ipxe/ipxe.efi is a link to /boot/ipxe.efi, put
// there by the package manager, not by a client.
import { read } from 'node:fs';
import { open, readlink, realpath } from 'node:fs/promises';
import type { FileHandle } from 'node:fs/promises';
import { constants } from 'node:fs';
import { join, sep } from 'node:path';
import type { FileSource, OpenResult, TftpFileProvider, TftpPeer } from './files.ts';
import { normaliseRequestPath, TftpError } from './files.ts';
import { readCachedNow } from '../storage/cached-read.ts';

export interface DirectoryRoot {
  readonly path: string;
  /** 'jail' (the default): a symlink may not lead outside the root. 'follow': it may. */
  readonly symlinks: 'jail' | 'follow';
}

function isInside(root: string, candidate: string): boolean {
  return candidate === root || candidate.startsWith(root.endsWith(sep) ? root : root + sep);
}

function errnoOf(err: unknown): string | undefined {
  return err instanceof Error && 'code' in err && typeof err.code === 'string' ? err.code : undefined;
}

/** Where the open descriptor really points, or null where /proc is not mounted. */
async function openedPath(fd: number): Promise<string | null> {
  try {
    return await readlink(`/proc/self/fd/${fd}`);
  } catch {
    return null;
  }
}

function handleSource(handle: FileHandle, size: number): FileSource {
  const fd = handle.fd;
  let closed = false;
  return {
    size,
    fd,
    read(offset, length, into, cb) {
      if (closed) {
        cb(new Error('file source closed'), 0);
        return;
      }
      // Every machine reads the same boot files: after the first, they are in the page cache and
      // are copied on the event loop (a lock-step transfer waits for each chunk; a thread-pool
      // round trip per 256 KiB was most of the variance of 64 KiB-block transfers).
      if (length > 0 && readCachedNow(fd, into.subarray(0, length), offset)) {
        process.nextTick(cb, null, length);
        return;
      }
      read(fd, into, 0, length, offset, (err, bytesRead) => cb(err, bytesRead));
    },
    close() {
      if (closed) return;
      closed = true;
      void handle.close().catch(() => undefined);
    },
  };
}

type RootAnswer = OpenResult | 'absent';

export class DirectoryProvider implements TftpFileProvider {
  private readonly roots: readonly DirectoryRoot[];

  constructor(roots: ReadonlyArray<string | DirectoryRoot>) {
    this.roots = roots.map((r) => (typeof r === 'string' ? { path: r, symlinks: 'jail' } : r));
  }

  async open(path: string, _peer: TftpPeer): Promise<OpenResult> {
    const segments = normaliseRequestPath(path);
    if (segments === null) return TftpError.accessViolation();
    if (segments.length === 0) return TftpError.notFound();
    for (const root of this.roots) {
      const answer = await this.openInRoot(root, segments);
      if (answer !== 'absent') return answer;
    }
    return TftpError.notFound();
  }

  private async openInRoot(root: DirectoryRoot, segments: readonly string[]): Promise<RootAnswer> {
    let rootReal: string;
    let real: string;
    try {
      rootReal = await realpath(root.path);
      real = await realpath(join(rootReal, ...segments));
    } catch (err) {
      // A missing root, a missing file or a dangling link: not in this root, try the next one.
      const code = errnoOf(err);
      if (code === 'EACCES' || code === 'EPERM') return TftpError.accessViolation();
      return 'absent';
    }
    if (root.symlinks === 'jail' && !isInside(rootReal, real)) return TftpError.accessViolation();
    let handle: FileHandle;
    try {
      handle = await open(real, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
    } catch (err) {
      const code = errnoOf(err);
      return code === 'ENOENT' || code === 'ENOTDIR' ? 'absent' : TftpError.accessViolation();
    }
    try {
      const stat = await handle.stat();
      // Directories, FIFOs and devices are no boot files (a FIFO would block a read forever).
      if (!stat.isFile()) {
        await handle.close();
        return stat.isDirectory() ? 'absent' : TftpError.accessViolation();
      }
      if (root.symlinks === 'jail') {
        const opened = await openedPath(handle.fd);
        if (opened !== null && !isInside(rootReal, opened)) {
          await handle.close();
          return TftpError.accessViolation();
        }
      }
      return handleSource(handle, stat.size);
    } catch {
      await handle.close().catch(() => undefined);
      return TftpError.accessViolation();
    }
  }
}
