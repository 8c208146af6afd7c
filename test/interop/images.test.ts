// Golden images and disk import/export through the real CLI with qemu-img: qcow2, vmdk, vhdx
// and vdi in, the same data out (qemu-img compare), with progress and a size estimate.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { startTestServer, type TestServer } from '../helpers/server.ts';
import { needTools, run } from '../helpers/tools.ts';

const QEMU = { 'qemu-img': 'qemu-utils', 'qemu-io': 'qemu-utils' };

describe('images and disk import/export with qemu-img', () => {
  let s: TestServer;
  let source = '';
  before(async () => {
    s = await startTestServer();
  });
  after(async () => s.stop());

  const cli = (...args: string[]) => run(process.execPath, ['bin/diskless.js', ...args, '--server', `http://127.0.0.1:${s.httpPort}`, '--data-dir', s.dir]);

  /** A qcow2 with recognisable data at a few offsets, converted to `format`. */
  async function sourceImage(format: string): Promise<string> {
    if (source === '') {
      source = join(s.dir, 'src.qcow2');
      assert.equal((await run('qemu-img', ['create', '-f', 'qcow2', source, '32M'])).code, 0);
      for (const [pattern, offset] of [[0x55, '0'], [0xaa, '1M'], [0x3c, '31M']] as const) {
        const w = await run('qemu-io', ['-f', 'qcow2', '-c', `write -P ${pattern} ${offset} 64k`, source]);
        assert.equal(w.code, 0, w.stderr);
      }
    }
    if (format === 'qcow2') return source;
    const out = join(s.dir, `src.${format}`);
    const c = await run('qemu-img', ['convert', '-O', format, source, out]);
    assert.equal(c.code, 0, c.stderr);
    return out;
  }

  test('image import makes versions from qcow2 and vmdk, with progress and a size estimate', async (t) => {
    if (!needTools(t, QEMU)) return;
    const first = await cli('image', 'import', 'win10', await sourceImage('qcow2'));
    assert.equal(first.code, 0, first.stderr);
    assert.match(first.stderr, /src\.qcow2: qcow2, 32\.0 MiB disk/);
    assert.match(first.stderr, /importing win10 \[#+\] 100%/);
    assert.match(first.stdout, /image win10 version 1: 32\.0 MiB/);
    const second = await cli('image', 'import', 'win10', await sourceImage('vmdk'));
    assert.equal(second.code, 0, second.stderr);
    assert.match(second.stdout, /version 2/);
    const list = JSON.parse((await cli('image', 'list', '--json')).stdout) as Array<{ name: string; version: number; path: string; source: string }>;
    assert.deepEqual(list.map((i) => [i.name, i.version]), [['win10', 2], ['win10', 1]]);
    assert.match(list[1]?.source ?? '', /imported from .*src\.qcow2 \(qcow2\)/);
    for (const image of list) {
      const same = await run('qemu-img', ['compare', '-f', 'raw', '-F', 'qcow2', image.path, source]);
      assert.equal(same.code, 0, `version ${image.version}: ${same.stdout}${same.stderr}`);
    }
  });

  test('image export writes vhdx and vdi with the same data; rm removes a version and its file', async (t) => {
    if (!needTools(t, QEMU)) return;
    for (const format of ['vhdx', 'vdi']) {
      const out = join(s.dir, `out.${format}`);
      const r = await cli('image', 'export', 'win10@1', out, '--format', format);
      assert.equal(r.code, 0, r.stderr);
      const same = await run('qemu-img', ['compare', '-F', 'qcow2', out, source]);
      assert.equal(same.code, 0, `${format}: ${same.stdout}${same.stderr}`);
    }
    const bad = await cli('image', 'export', 'win10', join(s.dir, 'x'), '--format', 'iso');
    assert.match(bad.stderr, /--format iso is not one of raw, qcow2, vmdk, vhdx, vdi, vpc/);
    const v1 = (JSON.parse((await cli('image', 'list', '--json')).stdout) as Array<{ version: number; path: string }>).find((i) => i.version === 1);
    const rm = await cli('image', 'rm', 'win10@1', '--delete-file');
    assert.equal(rm.code, 0, rm.stderr);
    assert.ok(v1 !== undefined && !existsSync(v1.path));
  });

  test('disk import makes a plain disk from vdi; disk export writes it back as qcow2', async (t) => {
    if (!needTools(t, QEMU)) return;
    const imported = await cli('disk', 'import', 'lab1', await sourceImage('vdi'));
    assert.equal(imported.code, 0, imported.stderr);
    assert.match(imported.stdout, /imported lab1 +32\.0 MiB/);
    const out = join(s.dir, 'lab1.qcow2');
    const exported = await cli('disk', 'export', 'lab1', out);
    assert.equal(exported.code, 0, exported.stderr);
    assert.equal((await run('qemu-img', ['compare', out, source])).code, 0);
    const missing = await cli('disk', 'import', 'nope', join(s.dir, 'does-not-exist.qcow2'));
    assert.notEqual(missing.code, 0);
    assert.match(missing.stderr, /qemu-img info failed: .*does-not-exist/);
  });
});
