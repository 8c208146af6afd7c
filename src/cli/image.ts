// `diskless image import|list|rm|export`: golden images. Imports and exports run here, on the
// server's machine (qemu-img with a progress bar), into and out of DATA_DIR/images/; the
// running server is told about a new version through its REST API.
import { chmodSync, mkdirSync, renameSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Command } from 'commander';
import { convertImage, EXPORT_FORMATS, imageInfo, type ExportFormat } from '../images/qemu-img.ts';
import { flattenOverlay } from '../storage/overlay/index.ts';
import { callApi, print, withApiOptions, type ApiFlags } from './api-client.ts';
import { formatBytes } from './format-bytes.ts';
import { progressBar } from './progress.ts';

export interface ImageRow {
  id: number;
  name: string;
  version: number;
  path: string;
  sizeBytes: number;
  source: string | null;
  createdAtMs: number;
  disks: string[];
}

function describe(i: ImageRow): string {
  return `${i.name.padEnd(16)} v${String(i.version).padEnd(3)} ${formatBytes(i.sizeBytes).padStart(10)}  ${i.disks.length === 0 ? 'no disks' : `base of ${i.disks.join(', ')}`}${i.source !== null ? `\n  ${i.source}` : ''}`;
}

/** "win10" (the newest version) or "win10@2". */
export function parseImageRef(ref: string): { name: string; version?: number } {
  const at = ref.lastIndexOf('@');
  if (at < 0) return { name: ref };
  const version = Number(ref.slice(at + 1));
  if (!Number.isInteger(version) || version < 1) throw new Error(`${ref}: the version after @ must be a number such as 1`);
  return { name: ref.slice(0, at), version };
}

export function exportFormat(value: string): ExportFormat {
  const f = EXPORT_FORMATS.find((x) => x === value);
  if (f === undefined) throw new Error(`--format ${value} is not one of ${EXPORT_FORMATS.join(', ')}`);
  return f;
}

/** Converts `file` into a new raw file under `dir`, showing progress; returns its path. */
export async function importToRaw(file: string, dir: string, baseName: string, label: string, immutable = false): Promise<{ path: string; sizeBytes: number; format: string }> {
  const info = await imageInfo(file);
  process.stderr.write(`${file}: ${info.format}, ${formatBytes(info.virtualSizeBytes)} disk, ${formatBytes(info.actualSizeBytes)} in the file\n`);
  mkdirSync(dir, { recursive: true });
  const path = resolve(join(dir, `${baseName}.img`));
  const partial = `${path}.partial`;
  const bar = progressBar(label, info.virtualSizeBytes);
  try {
    await convertImage(file, partial, { to: 'raw', onProgress: (f) => bar.update(f) });
  } catch (err) {
    rmSync(partial, { force: true });
    throw err;
  }
  // Image versions never change under their overlays (they only sample the base to notice).
  if (immutable) chmodSync(partial, 0o444);
  renameSync(partial, path);
  bar.done(`wrote ${path}`);
  return { path, sizeBytes: info.virtualSizeBytes, format: info.format };
}

async function exportFile(source: string, out: string, format: ExportFormat, sizeBytes: number): Promise<void> {
  const bar = progressBar(`exporting to ${format}`, sizeBytes);
  await convertImage(source, out, { from: 'raw', to: format, onProgress: (f) => bar.update(f) });
  bar.done(`wrote ${out}`);
}

export function registerImageCommand(program: Command): void {
  const image = program.command('image').description('Golden images: one install that many machines boot, each with a copy-on-write disk');
  withApiOptions(
    image
      .command('import')
      .description('Import a disk image (qcow2, vmdk, vhdx, vdi, vpc or raw; a file or block device) as the next version of an image')
      .argument('<name>', 'the image, such as win10')
      .argument('<file>'),
  ).action(async (name: string, file: string, flags: ApiFlags) => {
    const stamp = new Date().toISOString().replace(/[:.]/g, '-');
    const raw = await importToRaw(file, join(flags.dataDir, 'images', name), `${name}-${stamp}`, `importing ${name}`, true);
    try {
      const row = (await callApi(flags, 'POST', '/api/images', { name, path: raw.path, source: `imported from ${resolve(file)} (${raw.format})` })) as ImageRow;
      print(flags, row, `image ${row.name} version ${row.version}: ${formatBytes(row.sizeBytes)}`);
    } catch (err) {
      rmSync(raw.path, { force: true });
      throw err;
    }
  });
  withApiOptions(
    image
      .command('promote')
      .description("Make a machine's copy-on-write disk the next version of its image (the \"super client\" flow: shut the machine down first)")
      .argument('<disk>')
      .option('--as <name>', 'the image name (default: the disk\'s own image)'),
  ).action(async (diskName: string, flags: ApiFlags & { as?: string }) => {
    const disk = (await callApi(flags, 'GET', `/api/disks/${encodeURIComponent(diskName)}`)) as { name: string; path: string; imageId: number | null; usedBy: Array<{ target: string }> };
    if (disk.imageId === null) throw new Error(`${diskName} is not a copy-on-write disk; \`diskless image import NAME ${disk.path}\` makes a plain disk an image`);
    const images = (await callApi(flags, 'GET', '/api/images')) as ImageRow[];
    const base = images.find((i) => i.id === disk.imageId);
    if (base === undefined) throw new Error(`the image under ${diskName} is gone`);
    // A machine still logged in may have writes the file does not hold yet.
    const sessions = (await callApi(flags, 'GET', '/api/sessions')) as Array<{ target: string | null; initiator: string }>;
    const busy = sessions.filter((x) => disk.usedBy.some((u) => u.target === x.target));
    if (busy.length > 0) throw new Error(`${diskName} is in use by ${busy.map((b) => b.initiator).join(', ')}; shut that machine down (its OS flushes the disk), then promote`);
    const name = flags.as ?? base.name;
    const dir = join(flags.dataDir, 'images', name);
    mkdirSync(dir, { recursive: true });
    const out = resolve(join(dir, `${name}-${new Date().toISOString().replace(/[:.]/g, '-')}.img`));
    const bar = progressBar(`promoting ${diskName}`, base.sizeBytes);
    await flattenOverlay(disk.path, base.path, out, (done, total) => bar.update(total > 0 ? done / total : 1));
    chmodSync(out, 0o444);
    bar.done(`wrote ${out}`);
    try {
      const row = (await callApi(flags, 'POST', '/api/images', { name, path: out, source: `promoted from disk ${diskName} (over ${base.name} version ${base.version})` })) as ImageRow;
      print(flags, row, `image ${row.name} version ${row.version}: move machines to it with \`diskless disk set DISK --to ${row.version}\``);
    } catch (err) {
      rmSync(out, { force: true });
      throw err;
    }
  });
  withApiOptions(image.command('list').description('List image versions and the disks on each')).action(async (flags: ApiFlags) => {
    const rows = (await callApi(flags, 'GET', '/api/images')) as ImageRow[];
    print(flags, rows, rows.length === 0 ? 'no images; import one with `diskless image import NAME FILE`' : rows.map(describe).join('\n'));
  });
  withApiOptions(image.command('rm').description('Remove a version no disk uses').argument('<name@version>', 'such as win10@1').option('--delete-file', 'also delete its file')).action(
    async (ref: string, flags: ApiFlags & { deleteFile?: boolean }) => {
      const { name, version } = parseImageRef(ref);
      if (version === undefined) throw new Error(`say which version: ${name}@1 (\`diskless image list\` shows them)`);
      const row = (await callApi(flags, 'DELETE', `/api/images/${encodeURIComponent(name)}/${version}${flags.deleteFile === true ? '?deleteFile=true' : ''}`)) as ImageRow;
      print(flags, row, `removed ${row.name} version ${row.version}`);
    },
  );
  withApiOptions(
    image
      .command('export')
      .description('Write an image version to a file in another format')
      .argument('<name[@version]>', 'such as win10 (the newest) or win10@1')
      .argument('<out>')
      .option('--format <format>', EXPORT_FORMATS.join(', '), 'qcow2'),
  ).action(async (ref: string, out: string, flags: ApiFlags & { format: string }) => {
    const format = exportFormat(flags.format);
    const { name, version } = parseImageRef(ref);
    const rows = (await callApi(flags, 'GET', '/api/images')) as ImageRow[];
    const row = rows.find((r) => r.name === name && (version === undefined || r.version === version));
    if (row === undefined) throw new Error(`no image ${ref}; \`diskless image list\` shows them`);
    await exportFile(row.path, out, format, row.sizeBytes);
  });
}

export { exportFile };
