// Disks, targets and machines with disks of their own, through the real CLI against a running
// server, proved with libiscsi: a machine added with `--disk` gets a target only its initiator
// IQN can log in to, with the CHAP secret its boot script carries; removing it ends access.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { startTestServer, type TestServer } from '../helpers/server.ts';
import { needTools, run } from '../helpers/tools.ts';

const LIBISCSI = { 'iscsi-ls': 'libiscsi-bin', 'iscsi-inq': 'libiscsi-bin', 'iscsi-readcapacity16': 'libiscsi-bin' };

describe('disks, targets and per-machine targets', () => {
  let s: TestServer;
  before(async () => {
    s = await startTestServer();
  });
  after(async () => s.stop());

  const cli = (...args: string[]) => run(process.execPath, ['bin/diskless.js', ...args, '--server', `http://127.0.0.1:${s.httpPort}`, '--data-dir', s.dir]);
  const iscsiUrl = (iqn: string, creds = '') => `iscsi://${creds}127.0.0.1:${s.iscsiPort}/${iqn}/0`;

  test('disk create makes a sparse file in the data directory; list shows size and space used', async () => {
    const created = await cli('disk', 'create', 'pc1-disk', '--size', '64M');
    assert.equal(created.code, 0, created.stderr);
    const file = join(s.dir, 'disks', 'pc1-disk.img');
    assert.ok(existsSync(file));
    assert.equal(statSync(file).size, 64 * 1024 * 1024);
    assert.ok(statSync(file).blocks * 512 < 1024 * 1024, 'sparse: no space used yet');
    const list = await cli('disk', 'list', '--json');
    const rows = JSON.parse(list.stdout) as Array<{ name: string; sizeBytes: number; usedBytes: number; usedBy: unknown[] }>;
    assert.deepEqual(rows.map((r) => [r.name, r.sizeBytes, r.usedBy.length]), [['pc1-disk', 64 * 1024 * 1024, 0]]);
    const again = await cli('disk', 'create', 'pc1-disk', '--size', '64M');
    assert.notEqual(again.code, 0);
    assert.match(again.stderr, /already exists/);
    const badSize = await cli('disk', 'create', 'x', '--size', 'lots');
    assert.match(badSize.stderr, /not understood; write it like 512M/);
  });

  test('machine add --disk gives the machine its own target, CHAP and initiator check', async (t) => {
    if (!needTools(t, LIBISCSI)) return;
    const added = await cli('machine', 'add', '--mac', '52:54:00:bb:00:01', '--name', 'pc1', '--disk', 'pc1-disk');
    assert.equal(added.code, 0, added.stderr);
    const iqn = 'iqn.2026-11.org.diskless:target.pc1';
    const shown = await cli('target', 'show', iqn);
    assert.match(shown.stdout, /LUN 0 = pc1-disk/);
    assert.match(shown.stdout, /CHAP user pc1; iqn\.2026-11\.org\.diskless:pc1/);
    assert.doesNotMatch(shown.stdout + (await cli('target', 'list', '--json')).stdout, /"secret":\s*"(?!\[redacted\])/);

    const script = await (await fetch(`http://127.0.0.1:${s.httpPort}/boot.ipxe?mac=52:54:00:bb:00:01`)).text();
    assert.match(script, new RegExp(`sanboot iscsi:127\\.0\\.0\\.1::${s.iscsiPort}:0:${iqn.replace(/\./g, '\\.')}`));
    const user = /set username (\S+)/.exec(script)?.[1];
    const secret = /set password (\S+)/.exec(script)?.[1];
    assert.equal(user, 'pc1');
    assert.ok(secret !== undefined && secret.length >= 12, 'a generated secret of at least 12 characters (RFC 7143 section 12.1.3)');

    const asMachine = await run('iscsi-inq', ['-i', 'iqn.2026-11.org.diskless:pc1', iscsiUrl(iqn, `${user}%${secret}@`)]);
    assert.equal(asMachine.code, 0, asMachine.stderr);
    assert.match(asMachine.stdout, /Product:pc1-disk/);
    const otherInitiator = await run('iscsi-inq', ['-i', 'iqn.2026-11.org.diskless:pc2', iscsiUrl(iqn, `${user}%${secret}@`)]);
    assert.notEqual(otherInitiator.code, 0, 'another initiator IQN is refused');
    const noChap = await run('iscsi-inq', ['-i', 'iqn.2026-11.org.diskless:pc1', iscsiUrl(iqn)]);
    assert.notEqual(noChap.code, 0, 'no CHAP, no login');

    const taken = await cli('machine', 'add', '--mac', '52:54:00:bb:00:02', '--name', 'pc2', '--disk', 'pc1-disk');
    assert.notEqual(taken.code, 0);
    assert.match(taken.stderr, /already LUN 0 of iqn\.2026-11\.org\.diskless:target\.pc1; two machines writing one disk corrupt it/);
    assert.equal((await cli('machine', 'show', 'pc2')).code, 1, 'nothing half-made is left behind');

    const inUse = await cli('disk', 'rm', 'pc1-disk');
    assert.match(inUse.stderr, /is LUN 0 of target iqn\.2026-11\.org\.diskless:target\.pc1/);

    // A new initiator IQN: the machine's target follows it.
    const set = await cli('machine', 'set', 'pc1', '--initiator', 'iqn.2026-11.org.example:pc1-new', '--group', 'lab');
    assert.equal(set.code, 0, set.stderr);
    assert.match((await cli('target', 'show', iqn)).stdout, /iqn\.2026-11\.org\.example:pc1-new/);
    assert.equal((await run('iscsi-inq', ['-i', 'iqn.2026-11.org.example:pc1-new', iscsiUrl(iqn, `${user}%${secret}@`)])).code, 0);
    assert.notEqual((await run('iscsi-inq', ['-i', 'iqn.2026-11.org.diskless:pc1', iscsiUrl(iqn, `${user}%${secret}@`)])).code, 0, 'the old IQN is refused');

    // Growing the disk: the LUN is reopened and a new login sees the new capacity.
    const grown = await cli('disk', 'resize', 'pc1-disk', '--size', '128M');
    assert.equal(grown.code, 0, grown.stderr);
    const cap = await run('iscsi-readcapacity16', ['-i', 'iqn.2026-11.org.example:pc1-new', iscsiUrl(iqn, `${user}%${secret}@`)]);
    assert.match(cap.stdout, /Total size:134217728\n/);
    const shrink = await cli('disk', 'resize', 'pc1-disk', '--size', '64M');
    assert.match(shrink.stderr, /shrinking would cut off data/);

    const removed = await cli('machine', 'rm', 'pc1');
    assert.equal(removed.code, 0, removed.stderr);
    assert.equal((await cli('target', 'show', iqn)).code, 1, 'its target went with it');
    const gone = await run('iscsi-inq', ['-i', 'iqn.2026-11.org.example:pc1-new', iscsiUrl(iqn, `${user}%${secret}@`)]);
    assert.notEqual(gone.code, 0, 'the portal no longer offers the target');
    const rm = await cli('disk', 'rm', 'pc1-disk', '--delete-file');
    assert.equal(rm.code, 0, rm.stderr);
    assert.ok(!existsSync(join(s.dir, 'disks', 'pc1-disk.img')));
  });

  test('target add exports a registered file at once; discovery lists it; rm withdraws it', async (t) => {
    if (!needTools(t, LIBISCSI)) return;
    const reg = await cli('disk', 'create', 'shared', '--path', join(s.dir, 'disk0.img'), '--read-only');
    assert.equal(reg.code, 0, reg.stderr);
    const iqn = 'iqn.2026-11.org.example:shared';
    const add = await cli('target', 'add', iqn, '--lun', 'shared', '--alias', 'shared image');
    assert.equal(add.code, 0, add.stderr);
    const ls = await run('iscsi-ls', ['-s', `iscsi://127.0.0.1:${s.iscsiPort}`]);
    assert.match(ls.stdout, new RegExp(`Target:${iqn.replace(/\./g, '\\.')}`));
    const inq = await run('iscsi-inq', [iscsiUrl(iqn)]);
    assert.equal(inq.code, 0, inq.stderr);
    const bad = await cli('target', 'add', 'not-an-iqn', '--lun', 'shared');
    assert.match(bad.stderr, /iqn: must be an iSCSI name|must be an iSCSI name/);
    const missingDisk = await cli('target', 'add', 'iqn.2026-11.org.example:x', '--lun', 'nope');
    assert.match(missingDisk.stderr, /names disk nope, which does not exist/);
    assert.equal((await cli('target', 'rm', iqn)).code, 0);
    const after = await run('iscsi-ls', ['-s', `iscsi://127.0.0.1:${s.iscsiPort}`]);
    assert.doesNotMatch(after.stdout, /org\.example:shared/);
  });
});
