// End to end with ../shared/e2e (mode a): real iPXE in QEMU fetches the boot script over HTTP
// and sanboots the bootcheck image from diskless; the boot sector reads 1 MiB through INT 13h
// and the CRC it prints must equal the image's.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { validateConfig } from '../../src/config/load.ts';
import { startServer, type RunningServer } from '../../src/main.ts';
import { needTools } from '../helpers/tools.ts';
import { E2E, makeBootImage, qemuBoot } from '../helpers/qemu-boot.ts';

const IQN = 'iqn.2026-11.org.diskless.e2e:boot';
const TOOLS = { 'qemu-system-x86_64': 'qemu-system-x86', nasm: 'nasm' };

describe('iPXE in QEMU sanboots from diskless (e2e mode a)', () => {
  let dir = '';
  let image = '';
  let server: RunningServer | null = null;
  let scripts: Server | null = null;
  let scriptPort = 0;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'diskless-e2e-'));
    image = join(dir, 'bootcheck.img');
    if (!existsSync(join(E2E, 'make-image.sh'))) return;
    await makeBootImage(image);
    const config = validateConfig({
      listen: '127.0.0.1',
      advertise: '10.0.2.2',
      logLevel: 'silent',
      // Port 3260 so that iPXE's all-defaults form iscsi:10.0.2.2::::IQN (default port, default
      // LUN) reaches it: QEMU user-mode networking maps 10.0.2.2 to the host's loopback.
      iscsi: { port: 3260 },
      http: { port: 0 },
      targets: [{ iqn: IQN, luns: [{ lun: 0, path: image }] }],
      unknownMachines: { kind: 'sanboot', disks: [{ target: IQN, lun: 0 }] },
    });
    server = await startServer(config, pino({ level: 'silent' }));
    // A second script, with iPXE's default-LUN root path form, served by a plain HTTP server.
    scripts = createServer((_req, res) => {
      res.end(`#!ipxe\nsanboot iscsi:10.0.2.2::::${IQN}\n`);
    });
    await new Promise<void>((ok) => scripts?.listen(0, '127.0.0.1', ok));
    const address = scripts.address();
    scriptPort = typeof address === 'object' && address !== null ? address.port : 0;
  });

  after(async () => {
    await server?.close();
    await new Promise<void>((ok) => (scripts ? scripts.close(() => ok()) : ok()));
    rmSync(dir, { recursive: true, force: true });
  });

  async function boot(url: string, log: string): Promise<void> {
    const r = await qemuBoot({ args: ['-m', 'a', '-u', url, '-t', '150'], image, serialLog: log });
    assert.equal(r.code, 0, `qemu-boot.sh failed:\n${r.stdout}\n${r.stderr}`);
    assert.match(r.stdout, /PASS: SAN boot OK/);
  }

  test('sanboot iscsi:10.0.2.2::PORT:0:IQN from the generated /boot.ipxe', async (t) => {
    if (!needTools(t, TOOLS) || server === null) return;
    await boot(`http://10.0.2.2:${server.httpPort}/boot.ipxe`, join(dir, 'serial-lun0.log'));
  });

  test('sanboot with the default form iscsi:10.0.2.2::::IQN (default port 3260, LUN 0 is a disk)', async (t) => {
    if (!needTools(t, TOOLS) || server === null) return;
    await boot(`http://10.0.2.2:${scriptPort}/boot.ipxe`, join(dir, 'serial-default-lun.log'));
  });
});
