// The file seam of the TFTP server (STYLE example 9): the server asks a TftpFileProvider for a
// path and gets a FileSource to read from, or a TftpError to send back. Directory roots
// (directory-provider.ts), generated per-client files (VirtualProvider) and chains of both
// plug in here; the server knows none of them.
import { ErrorCode } from './wire.ts';
import type { ErrorCodeValue } from './wire.ts';

/** The client's address and UDP port (its TID, RFC 1350 section 4). */
export interface TftpPeer {
  readonly address: string;
  readonly port: number;
}

/** An open file: its size, and positional reads into a buffer the caller owns (no allocation). */
export interface FileSource {
  readonly size: number;
  /** Reads `length` bytes at file `offset` into `into` from index 0; calls back with the count. */
  read(offset: number, length: number, into: Buffer, cb: (err: Error | null, bytesRead: number) => void): void;
  close(): void;
}

/**
 * A refusal the client is told about, as an ERROR packet. A value, not an exception; the message
 * goes on the wire, so it never names a server path.
 */
export class TftpError {
  constructor(
    readonly code: ErrorCodeValue,
    readonly message: string,
  ) {}

  static notFound(): TftpError {
    return new TftpError(ErrorCode.FileNotFound, 'File not found');
  }

  static accessViolation(): TftpError {
    return new TftpError(ErrorCode.AccessViolation, 'Access violation');
  }
}

export type OpenResult = FileSource | TftpError;

export interface TftpFileProvider {
  open(path: string, peer: TftpPeer): OpenResult | Promise<OpenResult>;
}

/**
 * Turns a request's file name into path segments below a root, or null if it would escape.
 * `\` is read as `/` (Windows-minded clients such as WDS send `boot\x86\pxeboot.n12`); a
 * leading `/` means the root, not the server's `/`; `.` and empty segments vanish; `..` may
 * climb only within the request (`a/../b` is `b`), never above the root. An empty result
 * names the root itself, which is no file.
 */
export function normaliseRequestPath(raw: string): string[] | null {
  const segments: string[] = [];
  for (const part of raw.replaceAll('\\', '/').split('/')) {
    if (part === '' || part === '.') continue;
    if (part === '..') {
      if (segments.length === 0) return null;
      segments.pop();
      continue;
    }
    // NUL cannot arrive (the codec splits on it) but a path must never carry one to the OS.
    if (part.includes('\0')) return null;
    segments.push(part);
  }
  return segments;
}

/** A FileSource over bytes in memory (generated files, tests). */
export function bufferSource(data: Buffer): FileSource {
  return {
    size: data.length,
    read(offset, length, into, cb) {
      const end = Math.min(data.length, offset + length);
      const n = end > offset ? data.copy(into, 0, offset, end) : 0;
      cb(null, n);
    },
    close() {},
  };
}

export type VirtualFile = Buffer | string;
export type VirtualLookup = ReadonlyMap<string, VirtualFile> | ((path: string, peer: TftpPeer) => VirtualFile | null | Promise<VirtualFile | null>);

/**
 * Generated files, for the boot policy: per-client `pxelinux.cfg/01-<mac>` and the like. The
 * lookup sees the normalised path ("pxelinux.cfg/default", no leading slash) and the peer.
 */
export class VirtualProvider implements TftpFileProvider {
  constructor(private readonly lookup: VirtualLookup) {}

  async open(path: string, peer: TftpPeer): Promise<OpenResult> {
    const segments = normaliseRequestPath(path);
    if (segments === null) return TftpError.accessViolation();
    if (segments.length === 0) return TftpError.notFound();
    const key = segments.join('/');
    const found = typeof this.lookup === 'function' ? await this.lookup(key, peer) : this.lookup.get(key);
    if (found === null || found === undefined) return TftpError.notFound();
    return bufferSource(typeof found === 'string' ? Buffer.from(found, 'utf8') : found);
  }
}

/** Tries providers in order; "File not found" moves on to the next, any other answer stands. */
export class ProviderChain implements TftpFileProvider {
  constructor(private readonly providers: readonly TftpFileProvider[]) {}

  async open(path: string, peer: TftpPeer): Promise<OpenResult> {
    for (const provider of this.providers) {
      const result = await provider.open(path, peer);
      if (!(result instanceof TftpError) || result.code !== ErrorCode.FileNotFound) return result;
    }
    return TftpError.notFound();
  }
}
