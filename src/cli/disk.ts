// `diskless disk create`: sparse disk images.
import { closeSync, ftruncateSync, openSync } from 'node:fs';
import type { Command } from 'commander';

const UNITS: Record<string, number> = { '': 1, K: 1024, M: 1024 ** 2, G: 1024 ** 3, T: 1024 ** 4 };

export function parseSize(text: string): number {
  const match = /^(\d+)\s*([KMGT]?)(i?B)?$/i.exec(text.trim());
  const unit = UNITS[(match?.[2] ?? '').toUpperCase()];
  if (match === null || unit === undefined) throw new Error(`size "${text}" is not understood; write it like 512M, 20G or 1T`);
  const bytes = Number(match[1]) * unit;
  if (bytes % 512 !== 0 || bytes === 0) throw new Error(`size ${text} is not a whole number of 512-byte blocks`);
  return bytes;
}

export function registerDiskCommand(program: Command): void {
  const disk = program.command('disk').description('Manage disk images');
  disk
    .command('create')
    .description('Create a sparse disk image (takes no space until written)')
    .argument('<path>', 'image file to create')
    .requiredOption('-s, --size <size>', 'size such as 20G')
    .action((path: string, flags: { size: string }) => {
      const bytes = parseSize(flags.size);
      let fd: number;
      try {
        fd = openSync(path, 'wx');
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code;
        if (code === 'EEXIST') throw new Error(`${path} already exists; pick another name or remove it first`, { cause: err });
        throw err;
      }
      try {
        ftruncateSync(fd, bytes);
      } finally {
        closeSync(fd);
      }
      process.stdout.write(`created ${path}: ${bytes} bytes (sparse)\n`);
    });
}
