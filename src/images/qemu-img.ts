// Disk image conversion through qemu-img (Debian's qemu-utils): qcow2, vmdk, vhdx, vdi, vpc
// and raw in, the same formats out. qemu-img prints progress as "(12.34/100%)\r" on stdout
// with -p; we parse that for the caller's progress bar.
import { spawn } from 'node:child_process';
import { DisklessError } from '../lib/errors.ts';

export const EXPORT_FORMATS = ['raw', 'qcow2', 'vmdk', 'vhdx', 'vdi', 'vpc'] as const;
export type ExportFormat = (typeof EXPORT_FORMATS)[number];

export interface ImageInfo {
  readonly format: string;
  /** The disk's size as a machine sees it. */
  readonly virtualSizeBytes: number;
  /** What the file takes on its file system now. */
  readonly actualSizeBytes: number;
}

function runQemuImg(args: readonly string[], onStdout?: (chunk: string) => void): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn('qemu-img', args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => {
      out += d;
      onStdout?.(d);
    });
    child.stderr.setEncoding('utf8').on('data', (d: string) => (err += d));
    child.on('error', (e: NodeJS.ErrnoException) =>
      reject(e.code === 'ENOENT' ? new DisklessError('QEMU_IMG_MISSING', 'qemu-img is not installed: apt-get install qemu-utils') : e),
    );
    child.on('close', (code) => {
      if (code === 0) resolve(out);
      else reject(new DisklessError('QEMU_IMG_FAILED', `qemu-img ${args[0] ?? ''} failed: ${err.trim() || `exit code ${code ?? 'signal'}`}`));
    });
  });
}

/** Format and sizes of a disk image file (qemu-img info). */
export async function imageInfo(path: string): Promise<ImageInfo> {
  const text = await runQemuImg(['info', '--output=json', path]);
  const json = JSON.parse(text) as { format?: unknown; 'virtual-size'?: unknown; 'actual-size'?: unknown };
  if (typeof json.format !== 'string' || typeof json['virtual-size'] !== 'number') {
    throw new DisklessError('QEMU_IMG_FAILED', `qemu-img info did not describe ${path}`);
  }
  return { format: json.format, virtualSizeBytes: json['virtual-size'], actualSizeBytes: typeof json['actual-size'] === 'number' ? json['actual-size'] : 0 };
}

/** Parses the last "(p/100%)" in qemu-img -p output; null when there is none. */
export function parseProgress(text: string): number | null {
  const all = [...text.matchAll(/\((\d+(?:\.\d+)?)\/100%\)/g)];
  const last = all.at(-1)?.[1];
  return last === undefined ? null : Number(last) / 100;
}

export interface ConvertOptions {
  readonly from?: string;
  readonly to: ExportFormat;
  /** 0..1, as qemu-img reports it. */
  readonly onProgress?: (fraction: number) => void;
}

/** Converts `source` into a new file `target` (sparse for raw: runs of zeros are skipped). */
export async function convertImage(source: string, target: string, options: ConvertOptions): Promise<void> {
  const args = ['convert', '-p', ...(options.from !== undefined ? ['-f', options.from] : []), '-O', options.to, ...(options.to === 'raw' ? ['-S', '4k'] : []), source, target];
  await runQemuImg(args, (chunk) => {
    const p = parseProgress(chunk);
    if (p !== null) options.onProgress?.(p);
  });
}
