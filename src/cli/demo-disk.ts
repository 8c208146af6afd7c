// The demo disk `diskless serve` creates when it is given nothing to serve: a sparse 64 MiB
// image whose boot sector prints a greeting through the BIOS, so a first network boot shows
// something on screen. Boot code (nasm source in docs/demo-disk.asm), assembled once:
import { closeSync, existsSync, ftruncateSync, mkdirSync, openSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';

const BOOT_CODE_BASE64 =
  'McCO2L4ZfKyEwHQJtA67BwDNEOvy+vTr/GRpc2tsZXNzIGRlbW8gZGlzazogdGhpcyBtYWNoaW5lIGJvb3RlZCBvdmVyIGlTQ1NJLg0KU2VydmUgeW91ciBvd24gaW1hZ2Ugd2l0aDogZGlza2xlc3Mgc2VydmUgLS1kaXNrIElNQUdFDQoA';

export const DEMO_DISK_BYTES = 64 * 1024 * 1024;

export function demoBootSector(): Buffer {
  const sector = Buffer.alloc(512);
  Buffer.from(BOOT_CODE_BASE64, 'base64').copy(sector, 0);
  // The MBR signature the BIOS checks before it jumps to the code.
  sector[510] = 0x55;
  sector[511] = 0xaa;
  return sector;
}

/** Creates the demo disk if it does not exist; returns true when it was created. */
export function ensureDemoDisk(path: string): boolean {
  if (existsSync(path)) return false;
  mkdirSync(dirname(path), { recursive: true });
  const fd = openSync(path, 'wx');
  try {
    ftruncateSync(fd, DEMO_DISK_BYTES);
    writeSync(fd, demoBootSector(), 0, 512, 0);
  } finally {
    closeSync(fd);
  }
  return true;
}
