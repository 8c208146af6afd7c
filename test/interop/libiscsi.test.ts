// libiscsi's command-line clients and qemu's iscsi:// block driver against `diskless serve`.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { needTools, run } from '../helpers/tools.ts';
import { startTestServer, TEST_IQN, type TestServer } from '../helpers/server.ts';

const LIBISCSI = { 'iscsi-ls': 'libiscsi-bin', 'iscsi-inq': 'libiscsi-bin', 'iscsi-readcapacity16': 'libiscsi-bin' };
const QEMU = { 'qemu-img': 'qemu-utils', 'qemu-io': 'qemu-utils' };

describe('libiscsi clients, no authentication', () => {
  let s: TestServer;
  before(async () => {
    s = await startTestServer();
  });
  after(async () => s.stop());

  test('iscsi-ls -s lists the target and its LUN 0 disk', async (t) => {
    if (!needTools(t, LIBISCSI)) return;
    const r = await run('iscsi-ls', ['-s', `iscsi://127.0.0.1:${s.iscsiPort}`]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, new RegExp(`Target:${TEST_IQN.replace(/\./g, '\\.')}`));
    assert.match(r.stdout, /Lun:0\s+Type:DIRECT_ACCESS/);
  });

  test('iscsi-inq reads the standard INQUIRY and the device identification page', async (t) => {
    if (!needTools(t, LIBISCSI)) return;
    const url = `iscsi://127.0.0.1:${s.iscsiPort}/${TEST_IQN}/0`;
    const std = await run('iscsi-inq', [url]);
    assert.equal(std.code, 0, std.stderr);
    assert.match(std.stdout, /Peripheral Device Type:\s*DIRECT_ACCESS/i);
    assert.match(std.stdout, /Vendor:DISKLESS/i);
    const vpd = await run('iscsi-inq', ['-e', '1', '-c', '131', url]);
    assert.equal(vpd.code, 0, vpd.stderr);
    assert.match(vpd.stdout, /NAA/);
  });

  test('iscsi-readcapacity16 reports the disk size', async (t) => {
    if (!needTools(t, LIBISCSI)) return;
    const r = await run('iscsi-readcapacity16', [`iscsi://127.0.0.1:${s.iscsiPort}/${TEST_IQN}/0`]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /Total size:16777216/);
  });

  test('qemu-img convert copies the disk byte for byte', async (t) => {
    if (!needTools(t, QEMU)) return;
    const out = join(s.dir, 'copy.raw');
    const r = await run('qemu-img', ['convert', '-O', 'raw', `iscsi://127.0.0.1:${s.iscsiPort}/${TEST_IQN}/0`, out]);
    assert.equal(r.code, 0, r.stderr);
    assert.ok(readFileSync(out).equals(readFileSync(join(s.dir, 'disk0.img'))), 'copied image differs from the disk file');
  });

  test('qemu-io writes a pattern that lands in the file', async (t) => {
    if (!needTools(t, QEMU)) return;
    const before = readFileSync(join(s.dir, 'disk0.img'));
    const r = await run('qemu-io', ['-f', 'raw', '-c', 'write -P 0xa5 1048576 262144', `iscsi://127.0.0.1:${s.iscsiPort}/${TEST_IQN}/0`]);
    assert.equal(r.code, 0, r.stderr + r.stdout);
    const after = readFileSync(join(s.dir, 'disk0.img'));
    assert.ok(after.subarray(1048576, 1048576 + 262144).every((b) => b === 0xa5), 'pattern missing from the file');
    assert.ok(after.subarray(0, 1048576).equals(before.subarray(0, 1048576)), 'bytes before the write changed');
    assert.ok(after.subarray(1048576 + 262144).equals(before.subarray(1048576 + 262144)), 'bytes after the write changed');
  });
});

describe('CHAP and mutual CHAP', () => {
  let s: TestServer;
  const chap = { user: 'pc1', secret: 'initiator-secret-1' };
  const mutual = { user: 'target1', secret: 'target-secret-22' };
  before(async () => {
    s = await startTestServer({ target: { chap, mutualChap: mutual } });
  });
  after(async () => s.stop());

  const url = (user: string, secret: string, query = '') => `iscsi://${user}%${secret}@127.0.0.1:${s.iscsiPort}/${TEST_IQN}/0${query}`;

  test('the right secret logs in (qemu-img reads the disk)', async (t) => {
    if (!needTools(t, QEMU)) return;
    const out = join(s.dir, 'chap.raw');
    const r = await run('qemu-img', ['convert', '-O', 'raw', url(chap.user, chap.secret, `?target_user=${mutual.user}&target_password=${mutual.secret}`), out]);
    assert.equal(r.code, 0, r.stderr);
    assert.ok(readFileSync(out).equals(readFileSync(join(s.dir, 'disk0.img'))));
  });

  test('one-way CHAP from the initiator side works too (iscsi-inq)', async (t) => {
    if (!needTools(t, LIBISCSI)) return;
    const r = await run('iscsi-inq', [url(chap.user, chap.secret)]);
    assert.equal(r.code, 0, r.stderr);
  });

  test('mutual CHAP with a wrong target secret is refused by the initiator', async (t) => {
    if (!needTools(t, LIBISCSI)) return;
    const r = await run('iscsi-inq', [url(chap.user, chap.secret, `?target_user=${mutual.user}&target_password=not-the-secret`)]);
    assert.notEqual(r.code, 0);
  });

  test('a wrong secret is refused', async (t) => {
    if (!needTools(t, LIBISCSI)) return;
    const r = await run('iscsi-inq', [url(chap.user, 'wrong-secret-123')]);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr + r.stdout, /authentication|login|failed/i);
  });

  test('no credentials at all cannot reach the target', async (t) => {
    if (!needTools(t, LIBISCSI)) return;
    const r = await run('iscsi-inq', [`iscsi://127.0.0.1:${s.iscsiPort}/${TEST_IQN}/0`]);
    assert.notEqual(r.code, 0);
  });
});

