// `diskless disk create|import|export|list|show|resize|rm`: the disks of a running server, through its REST API.
// A new disk is a sparse file in the server's DATA_DIR/disks/ (it takes no space until
// written); --path registers a file or block device that already exists.
import type { Command } from 'commander';
import { callApi, print, withApiOptions, type ApiFlags } from './api-client.ts';
import { formatBytes } from './format-bytes.ts';
import { join } from 'node:path';
import { rmSync } from 'node:fs';
import { EXPORT_FORMATS } from '../images/qemu-img.ts';
import { exportFile, exportFormat, importToRaw } from './image.ts';

export { formatBytes };

const UNITS: Record<string, number> = { '': 1, K: 1024, M: 1024 ** 2, G: 1024 ** 3, T: 1024 ** 4 };

export function parseSize(text: string): number {
  const match = /^(\d+)\s*([KMGT]?)(i?B)?$/i.exec(text.trim());
  const unit = UNITS[(match?.[2] ?? '').toUpperCase()];
  if (match === null || unit === undefined) throw new Error(`size "${text}" is not understood; write it like 512M, 20G or 1T`);
  const bytes = Number(match[1]) * unit;
  if (bytes % 512 !== 0 || bytes === 0) throw new Error(`size ${text} is not a whole number of 512-byte blocks`);
  return bytes;
}

interface DiskRow {
  name: string;
  path: string;
  sizeBytes: number;
  usedBytes: number;
  readOnly: boolean;
  usedBy: Array<{ target: string; lun: number }>;
}

function describe(d: DiskRow): string {
  const use = d.usedBy.length === 0 ? 'unused' : d.usedBy.map((u) => `${u.target}@${u.lun}`).join(', ');
  return `${d.name.padEnd(16)} ${formatBytes(d.sizeBytes).padStart(10)} (${formatBytes(d.usedBytes)} used)${d.readOnly ? ' read-only' : ''}  ${use}\n  ${d.path}`;
}

export function registerDiskCommand(program: Command): void {
  const disk = program.command('disk').description('Disks: the files machines boot from');
  withApiOptions(
    disk
      .command('create')
      .description('Create a sparse disk on the server (no space used until written), or register an existing file with --path')
      .argument('<name>', 'a name such as pc1-disk')
      .option('-s, --size <size>', 'size of a new disk, such as 20G')
      .option('--path <file>', 'an existing file or block device on the server instead')
      .option('--read-only', 'export it read-only'),
  ).action(async (name: string, flags: ApiFlags & { size?: string; path?: string; readOnly?: boolean }) => {
    if ((flags.size === undefined) === (flags.path === undefined)) throw new Error('give --size SIZE for a new disk, or --path FILE for an existing one (not both)');
    const body = flags.path !== undefined ? { name, path: flags.path, readOnly: flags.readOnly === true } : { name, sizeBytes: parseSize(flags.size ?? ''), readOnly: flags.readOnly === true };
    const created = (await callApi(flags, 'POST', '/api/disks', body)) as DiskRow;
    print(flags, created, `${flags.path !== undefined ? 'registered' : 'created'} ${describe(created)}`);
  });
  withApiOptions(
    disk
      .command('import')
      .description('Import a disk image (qcow2, vmdk, vhdx, vdi, vpc or raw; a file or block device) as a new disk of its own')
      .argument('<name>')
      .argument('<file>'),
  ).action(async (name: string, file: string, flags: ApiFlags) => {
    const raw = await importToRaw(file, join(flags.dataDir, 'disks'), name, `importing ${name}`);
    try {
      const row = (await callApi(flags, 'POST', '/api/disks', { name, path: raw.path })) as DiskRow;
      print(flags, row, `imported ${describe(row)}`);
    } catch (err) {
      rmSync(raw.path, { force: true });
      throw err;
    }
  });
  withApiOptions(
    disk
      .command('export')
      .description('Write a plain disk to a file in another format (copy-on-write disks: promote them to an image first)')
      .argument('<name>')
      .argument('<out>')
      .option('--format <format>', EXPORT_FORMATS.join(', '), 'qcow2'),
  ).action(async (name: string, out: string, flags: ApiFlags & { format: string }) => {
    const format = exportFormat(flags.format);
    const row = (await callApi(flags, 'GET', `/api/disks/${encodeURIComponent(name)}`)) as DiskRow & { imageId: number | null };
    if (row.imageId !== null) throw new Error(`${name} is a copy-on-write disk; \`diskless image promote ${name}\` makes it an image, which \`diskless image export\` writes out`);
    await exportFile(row.path, out, format, row.sizeBytes);
  });
  withApiOptions(disk.command('list').description('List disks with size and space used')).action(async (flags: ApiFlags) => {
    const rows = (await callApi(flags, 'GET', '/api/disks')) as DiskRow[];
    print(flags, rows, rows.length === 0 ? 'no disks; create one with `diskless disk create NAME --size 20G`' : rows.map(describe).join('\n'));
  });
  withApiOptions(disk.command('show').description('Show one disk').argument('<name>')).action(async (name: string, flags: ApiFlags) => {
    const row = (await callApi(flags, 'GET', `/api/disks/${encodeURIComponent(name)}`)) as DiskRow;
    print(flags, row, describe(row));
  });
  withApiOptions(disk.command('resize').description('Grow a disk (machines see the new size at their next login)').argument('<name>').requiredOption('-s, --size <size>', 'the new size, such as 40G')).action(
    async (name: string, flags: ApiFlags & { size: string }) => {
      const row = (await callApi(flags, 'PATCH', `/api/disks/${encodeURIComponent(name)}`, { sizeBytes: parseSize(flags.size) })) as DiskRow;
      print(flags, row, `resized ${describe(row)}`);
    },
  );
  withApiOptions(disk.command('rm').description('Forget a disk (its file stays unless --delete-file)').argument('<name>').option('--delete-file', 'also delete the file, if diskless created it')).action(
    async (name: string, flags: ApiFlags & { deleteFile?: boolean }) => {
      const row = (await callApi(flags, 'DELETE', `/api/disks/${encodeURIComponent(name)}${flags.deleteFile === true ? '?deleteFile=true' : ''}`)) as DiskRow;
      print(flags, row, `removed ${row.name}${flags.deleteFile === true ? ' and its file' : ` (the file ${row.path} stays)`}`);
    },
  );
}
