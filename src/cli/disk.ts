// `diskless disk create|import|export|list|show|set|resize|rm|snapshot|rollback`: the disks of a
// running server, through its REST API.
// A new disk is a sparse file in the server's DATA_DIR/disks/ (it takes no space until
// written); --path registers a file or block device that already exists.
import type { Command } from 'commander';
import { callApi, print, withApiOptions, type ApiFlags } from './api-client.ts';
import { formatBytes } from './format-bytes.ts';
import { join } from 'node:path';
import { rmSync } from 'node:fs';
import { EXPORT_FORMATS } from '../images/qemu-img.ts';
import { exportFile, exportFormat, importToRaw, parseImageRef } from './image.ts';

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
  imageId: number | null;
  mode: string;
  usedBy: Array<{ target: string; lun: number }>;
}

function describe(d: DiskRow): string {
  const use = d.usedBy.length === 0 ? 'unused' : d.usedBy.map((u) => `${u.target}@${u.lun}`).join(', ');
  const cow = d.imageId !== null ? ` copy-on-write, ${d.mode}` : '';
  return `${d.name.padEnd(16)} ${formatBytes(d.sizeBytes).padStart(10)} (${formatBytes(d.usedBytes)} used)${d.readOnly ? ' read-only' : ''}${cow}  ${use}\n  ${d.path}`;
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
      .option('--image <name[@version]>', 'a copy-on-write disk of this golden image instead (only what the machine changes takes space)')
      .option('--discard', 'with --image: back to the image at every boot')
      .option('--read-only', 'export it read-only'),
  ).action(async (name: string, flags: ApiFlags & { size?: string; path?: string; image?: string; discard?: boolean; readOnly?: boolean }) => {
    const given = [flags.size, flags.path, flags.image].filter((x) => x !== undefined).length;
    if (given !== 1) throw new Error('give one of --size SIZE (a new disk), --path FILE (an existing one) or --image NAME (a copy-on-write disk of an image)');
    let body: Record<string, unknown>;
    if (flags.image !== undefined) {
      const ref = parseImageRef(flags.image);
      body = { name, image: ref.name, ...(ref.version !== undefined ? { version: ref.version } : {}), mode: flags.discard === true ? 'discard-on-reboot' : 'persistent' };
    } else if (flags.path !== undefined) body = { name, path: flags.path, readOnly: flags.readOnly === true };
    else body = { name, sizeBytes: parseSize(flags.size ?? ''), readOnly: flags.readOnly === true };
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
  withApiOptions(
    disk
      .command('set')
      .description('Change a copy-on-write disk: its mode, or the image version under it (the disk starts clean on the new version unless --keep-changes)')
      .argument('<name>')
      .option('--mode <mode>', 'persistent or discard-on-reboot')
      .option('--to <version>', 'move to this image version, or "latest"')
      .option('--keep-changes', 'with --to: carry what the machine changed over to the new version, block by block (right for data the new version did not touch; see docs/OVERLAY.md)'),
  ).action(async (name: string, flags: ApiFlags & { mode?: string; to?: string; keepChanges?: boolean }) => {
    const body: Record<string, unknown> = {};
    if (flags.mode !== undefined) body.mode = flags.mode;
    if (flags.to !== undefined) body.version = flags.to === 'latest' ? 'latest' : Number(flags.to);
    if (flags.keepChanges === true) {
      if (flags.to === undefined) throw new Error('--keep-changes goes with --to VERSION');
      body.keepChanges = true;
    }
    if (Object.keys(body).length === 0) throw new Error('nothing to change: give --mode or --to VERSION');
    const row = (await callApi(flags, 'PATCH', `/api/disks/${encodeURIComponent(name)}`, body)) as DiskRow;
    print(flags, row, `changed ${describe(row)}`);
  });
  registerSnapshotCommands(disk);
  withApiOptions(disk.command('rm').description('Forget a disk (its file stays unless --delete-file)').argument('<name>').option('--delete-file', 'also delete the file, if diskless created it')).action(
    async (name: string, flags: ApiFlags & { deleteFile?: boolean }) => {
      const row = (await callApi(flags, 'DELETE', `/api/disks/${encodeURIComponent(name)}${flags.deleteFile === true ? '?deleteFile=true' : ''}`)) as DiskRow;
      print(flags, row, `removed ${row.name}${flags.deleteFile === true ? ' and its file' : ` (the file ${row.path} stays)`}`);
    },
  );
}

interface SnapshotRow {
  disk: string;
  name: string;
  sizeBytes: number;
  createdAtMs: number;
}

const describeSnapshot = (s: SnapshotRow): string => `${s.disk}@${s.name.padEnd(16)} ${formatBytes(s.sizeBytes).padStart(10)}  ${new Date(s.createdAtMs).toISOString()}`;

function registerSnapshotCommands(disk: Command): void {
  const snapshot = disk.command('snapshot').description('Snapshots of copy-on-write disks: take one live, list, remove');
  const path = (name: string, rest = ''): string => `/api/disks/${encodeURIComponent(name)}/snapshots${rest}`;
  withApiOptions(
    snapshot
      .command('create')
      .description("Snapshot a disk while its machine runs (writes pause for the copy of the machine's changes)")
      .argument('<disk>')
      .argument('<snapshot>', 'a name such as before-update'),
  ).action(async (name: string, snap: string, flags: ApiFlags) => {
    const row = (await callApi(flags, 'POST', path(name), { name: snap })) as SnapshotRow;
    print(flags, row, `snapshot ${describeSnapshot(row)}\n  roll back with \`diskless disk rollback ${name} ${snap}\``);
  });
  withApiOptions(snapshot.command('list').description("A disk's snapshots, oldest first").argument('<disk>')).action(async (name: string, flags: ApiFlags) => {
    const rows = (await callApi(flags, 'GET', path(name))) as SnapshotRow[];
    print(flags, rows, rows.length === 0 ? `${name} has no snapshots; take one with \`diskless disk snapshot create ${name} NAME\`` : rows.map(describeSnapshot).join('\n'));
  });
  withApiOptions(snapshot.command('rm').description('Remove a snapshot and its file').argument('<disk>').argument('<snapshot>')).action(async (name: string, snap: string, flags: ApiFlags) => {
    const row = (await callApi(flags, 'DELETE', path(name, `/${encodeURIComponent(snap)}`))) as SnapshotRow;
    print(flags, row, `removed snapshot ${row.disk}@${row.name}`);
  });
  withApiOptions(
    disk
      .command('rollback')
      .description('Put a copy-on-write disk back as it was at a snapshot; the machine is logged out and sees it at its next login (reboot it)')
      .argument('<disk>')
      .argument('<snapshot>'),
  ).action(async (name: string, snap: string, flags: ApiFlags) => {
    const row = (await callApi(flags, 'POST', `/api/disks/${encodeURIComponent(name)}/rollback`, { snapshot: snap })) as DiskRow;
    print(flags, row, `rolled back ${describe(row)}`);
  });
}
