// Golden images end to end through the real CLI and real initiators (qemu-io and qemu-img over
// iSCSI, logging in as each machine with its own IQN and CHAP secret): twenty machines on one
// image each see their own writes and the image elsewhere, the image file never changes, space
// is reported per disk; a machine's disk is promoted into a new version another machine moves to;
// snapshots taken and rolled back; a disk moved to a new version keeping its changes.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { patternedImage, startTestServer, type TestServer } from '../helpers/server.ts';
import { needTools, run } from '../helpers/tools.ts';

const TOOLS = { 'qemu-img': 'qemu-utils', 'qemu-io': 'qemu-utils' };
const MACHINES = 20;
const SIZE = 16 * 1024 * 1024;
const REGION = 1024 * 1024; // every machine writes 64 KiB here, with its own pattern
const mac = (i: number) => `52:54:00:cc:00:${i.toString(16).padStart(2, '0')}`;

describe('golden images with a copy-on-write disk per machine', () => {
  let s: TestServer;
  let base: Buffer;
  let imagePath = '';
  before(async () => {
    s = await startTestServer();
    base = patternedImage(join(s.dir, 'gold.img'), SIZE, 7);
  });
  after(async () => s.stop());

  const cli = (...args: string[]) => run(process.execPath, ['bin/diskless.js', ...args, '--server', `http://127.0.0.1:${s.httpPort}`, '--data-dir', s.dir]);
  const sha = (path: string) => createHash('sha256').update(readFileSync(path)).digest('hex');

  /** qemu's iSCSI driver options for logging in as this machine (from its own boot script). */
  async function asMachine(i: number): Promise<{ object: string; opts: string }> {
    const script = await (await fetch(`http://127.0.0.1:${s.httpPort}/boot.ipxe?mac=${mac(i)}`)).text();
    const field = (re: RegExp) => re.exec(script)?.[1] ?? assert.fail(`no ${re} in\n${script}`);
    const target = field(/sanboot iscsi:[^:]*::\d+:0:(\S+)/);
    const opts = `driver=iscsi,transport=tcp,portal=127.0.0.1:${s.iscsiPort},target=${target},lun=0,user=${field(/set username (\S+)/)},password-secret=pw,initiator-name=${field(/set initiator-iqn (\S+)/)}`;
    return { object: `secret,id=pw,data=${field(/set password (\S+)/)}`, opts };
  }
  async function qemuIo(i: number, command: string) {
    const m = await asMachine(i);
    const r = await run('qemu-io', ['--object', m.object, '--image-opts', m.opts, '-c', command]);
    assert.equal(r.code, 0, `${command} as machine ${i}: ${r.stdout}${r.stderr}`);
    assert.doesNotMatch(r.stdout, /Pattern verification failed|error/i, `${command} as machine ${i}`);
    return r.stdout;
  }
  async function wholeDisk(i: number): Promise<Buffer> {
    const m = await asMachine(i);
    const out = join(s.dir, `read-${i}.raw`);
    const r = await run('qemu-img', ['convert', '--object', m.object, '--image-opts', m.opts, '-O', 'raw', out]);
    assert.equal(r.code, 0, r.stderr);
    return readFileSync(out);
  }
  const expected = (pattern: number): Buffer => {
    const b = Buffer.from(base);
    b.fill(pattern, REGION, REGION + 65536);
    return b;
  };

  test('twenty machines over one image: own writes, the image elsewhere, image unchanged, space per disk', async (t) => {
    if (!needTools(t, TOOLS)) return;
    const imported = await cli('image', 'import', 'gold', join(s.dir, 'gold.img'));
    assert.equal(imported.code, 0, imported.stderr);
    imagePath = (JSON.parse((await cli('image', 'list', '--json')).stdout) as Array<{ path: string }>)[0]?.path ?? '';
    const before = sha(imagePath);
    for (let i = 1; i <= MACHINES; i++) {
      const added = await cli('machine', 'add', '--mac', mac(i), '--name', `m${i}`, '--image', 'gold');
      assert.equal(added.code, 0, added.stderr);
    }
    for (let i = 1; i <= MACHINES; i++) await qemuIo(i, `write -P ${i} ${REGION} 64k`);
    for (const i of [1, 7, MACHINES]) assert.ok((await wholeDisk(i)).equals(expected(i)), `machine ${i} reads its own write and the image elsewhere`);
    for (let i = 1; i <= MACHINES; i++) await qemuIo(i, `read -P ${i} ${REGION} 64k`);
    assert.equal(sha(imagePath), before, 'the image file never changes');
    const disks = JSON.parse((await cli('disk', 'list', '--json')).stdout) as Array<{ name: string; usedBytes: number; sizeBytes: number; mode: string }>;
    assert.equal(disks.length, MACHINES);
    for (const d of disks) {
      assert.equal(d.sizeBytes, SIZE);
      assert.ok(d.usedBytes > 0 && d.usedBytes < 512 * 1024, `${d.name} takes ${d.usedBytes} bytes, a fraction of the ${SIZE}-byte image`);
    }
    const listed = await cli('disk', 'list');
    assert.match(listed.stdout, /m1-disk .* copy-on-write, persistent/);
  });

  test('promote: a machine\'s disk becomes version 2; another machine moves to it and starts clean on it', async (t) => {
    if (!needTools(t, TOOLS) || imagePath === '') return;
    const promoted = await cli('image', 'promote', 'm1-disk');
    assert.equal(promoted.code, 0, promoted.stderr);
    assert.match(promoted.stdout, /image gold version 2/);
    assert.match(promoted.stderr, /promoting m1-disk \[#+\] 100%/);
    const refused = await cli('image', 'rm', 'gold@1');
    assert.match(refused.stderr, /version 1 is the base of .*m20-disk; move them to another version first/);
    const moved = await cli('disk', 'set', 'm2-disk', '--to', 'latest');
    assert.equal(moved.code, 0, moved.stderr);
    const m2 = await wholeDisk(2);
    const want = expected(1);
    const diff = m2.findIndex((b, k) => b !== want[k]);
    assert.equal(diff, -1, `m2 now sees version 2 (m1's data, none of its own old writes); first difference at ${diff}`);
    const mode = await cli('disk', 'set', 'm3-disk', '--mode', 'discard-on-reboot');
    assert.match(mode.stdout, /copy-on-write, discard-on-reboot/);
    const plain = await cli('disk', 'create', 'plain', '--size', '1M');
    assert.equal(plain.code, 0, plain.stderr);
    const bad = await cli('disk', 'set', 'plain', '--mode', 'discard-on-reboot');
    assert.match(bad.stderr, /only copy-on-write disks of an image can be discarded/);
  });

  test('snapshot, roll back, and move to a new version keeping the changes', async (t) => {
    if (!needTools(t, TOOLS) || imagePath === '') return;
    const MiB = 1024 * 1024;
    await qemuIo(4, `write -P 0x41 ${2 * MiB} 64k`);
    const taken = await cli('disk', 'snapshot', 'create', 'm4-disk', 'before');
    assert.equal(taken.code, 0, taken.stderr);
    assert.match(taken.stdout, /snapshot m4-disk@before/);
    await qemuIo(4, `write -P 0x42 ${2 * MiB} 64k`);
    await qemuIo(4, `write -P 0x43 ${3 * MiB} 64k`);
    const listed = JSON.parse((await cli('disk', 'snapshot', 'list', 'm4-disk', '--json')).stdout) as Array<{ name: string; sizeBytes: number }>;
    assert.deepEqual(listed.map((x) => x.name), ['before']);
    assert.ok((listed[0]?.sizeBytes ?? 0) > 0 && (listed[0]?.sizeBytes ?? 0) < 512 * 1024, 'a snapshot costs what the machine changed');

    const rolled = await cli('disk', 'rollback', 'm4-disk', 'before');
    assert.equal(rolled.code, 0, rolled.stderr);
    const afterRollback = await wholeDisk(4);
    const want = expected(4);
    want.fill(0x41, 2 * MiB, 2 * MiB + 65536);
    assert.equal(afterRollback.findIndex((b, k) => b !== want[k]), -1, 'the disk is as it was at the snapshot (0x42 and 0x43 are gone)');

    // Version 3 of the image: m6's disk with a write at 4 MiB, promoted.
    await qemuIo(6, `write -P 0x66 ${4 * MiB} 64k`);
    const promoted = await cli('image', 'promote', 'm6-disk');
    assert.match(promoted.stdout, /image gold version 3/, promoted.stderr);
    const moved = await cli('disk', 'set', 'm4-disk', '--to', '3', '--keep-changes');
    assert.equal(moved.code, 0, moved.stderr);
    const kept = await wholeDisk(4);
    want.fill(0x66, 4 * MiB, 4 * MiB + 65536);
    want.fill(6, REGION, REGION + 65536);
    want.fill(4, REGION, REGION + 65536); // m4's own write wins over version 3's
    assert.equal(kept.findIndex((b, k) => b !== want[k]), -1, "m4 keeps its own writes and reads version 3's elsewhere");
    const clean = await cli('disk', 'set', 'm5-disk', '--mode', 'discard-on-reboot');
    assert.equal(clean.code, 0, clean.stderr);
    const refused = await cli('disk', 'set', 'm5-disk', '--to', '3', '--keep-changes');
    assert.match(refused.stderr, /discarded at every boot, it has no changes to keep/);

    // The snapshot still belongs to version 1, which it keeps; back to it moves m4 back to 1.
    const stillUsed = await cli('image', 'rm', 'gold@1');
    assert.notEqual(stillUsed.code, 0);
    const back = await cli('disk', 'rollback', 'm4-disk', 'before');
    assert.equal(back.code, 0, back.stderr);
    const onOne = JSON.parse((await cli('disk', 'show', 'm4-disk', '--json')).stdout) as { imageId: number };
    const versions = JSON.parse((await cli('image', 'list', '--json')).stdout) as Array<{ id: number; version: number }>;
    assert.equal(versions.find((v) => v.id === onOne.imageId)?.version, 1, 'the rollback put the disk back on the version of the snapshot');
    const plainRefused = await cli('disk', 'snapshot', 'create', 'plain', 's1');
    assert.match(plainRefused.stderr, /plain is a plain disk; a snapshot works on copy-on-write disks/);
    const removed = await cli('disk', 'snapshot', 'rm', 'm4-disk', 'before');
    assert.equal(removed.code, 0, removed.stderr);
    assert.match((await cli('disk', 'snapshot', 'list', 'm4-disk')).stdout, /no snapshots/);
  });
});
