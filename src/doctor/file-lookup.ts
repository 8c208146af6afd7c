// Opens a boot file the way the TFTP server and /files/ do (the same provider), only to learn
// whether it is there and how big it is; nothing is read.
import { TftpError, type TftpFileProvider } from '../tftp/files.ts';
import { ErrorCode } from '../tftp/wire.ts';

export type FileLookup = { readonly found: true; readonly size: number } | { readonly found: false; readonly refused: boolean };

/** The doctor asks as a client on the loopback: the per-client pxelinux.cfg files are not its concern. */
const DOCTOR_PEER = { address: '127.0.0.1', port: 0 } as const;

export async function lookUpFile(files: TftpFileProvider, path: string): Promise<FileLookup> {
  const opened = await files.open(path, DOCTOR_PEER);
  if (opened instanceof TftpError) return { found: false, refused: opened.code === ErrorCode.AccessViolation };
  opened.close();
  return { found: true, size: opened.size };
}

export function formatSize(bytes: number): string {
  if (bytes < 1024) return `${bytes} bytes`;
  const units = ['KiB', 'MiB', 'GiB', 'TiB'];
  let value = bytes / 1024;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${value >= 10 ? Math.round(value) : Math.round(value * 10) / 10} ${units[unit] ?? 'TiB'}`;
}
