import { test } from 'node:test';
import assert from 'node:assert/strict';
import pino from 'pino';
import { TargetDirectory } from '../iscsi/target-directory.ts';
import { MemoryDevice } from '../storage/memory-device.ts';
import type { BlockDevice, Done } from '../storage/block-device.ts';
import { LiveTargets, type DesiredTarget } from './live-targets.ts';

class TrackedDevice extends MemoryDevice {
  closed = false;
  constructor(readonly path: string) {
    super({ sizeBytes: 1024 * 1024 });
  }
  override close(done: Done): void {
    this.closed = true;
    super.close(done);
  }
}

function harness() {
  const directory = new TargetDirectory();
  const opened: TrackedDevice[] = [];
  const dropped: string[] = [];
  const live = new LiveTargets({
    directory,
    openDevice: async (path): Promise<BlockDevice> => {
      if (path.includes('missing')) throw new Error(`ENOENT: ${path}`);
      const device = new TrackedDevice(path);
      opened.push(device);
      return device;
    },
    dropSessions: (name, reason) => dropped.push(`${name}: ${reason}`),
    log: pino({ level: 'silent' }),
  });
  return { directory, opened, dropped, live };
}

const target = (name: string, paths: string[], extra: Partial<DesiredTarget> = {}): DesiredTarget => ({
  name,
  alias: null,
  chap: null,
  mutualChap: null,
  allowedInitiators: null,
  luns: paths.map((path, lun) => ({ lun, path, readOnly: false, productId: 'disk' })),
  ...extra,
});

test('targets appear, change and disappear; sessions are dropped before files close', async () => {
  const { directory, opened, dropped, live } = harness();
  const first = await live.sync([target('iqn.2026-11.t:a', ['/d/a.img']), target('iqn.2026-11.t:b', ['/d/b.img', '/d/b1.img'])]);
  assert.deepEqual(first.added, ['iqn.2026-11.t:a', 'iqn.2026-11.t:b']);
  assert.equal(opened.length, 3);
  assert.ok(directory.get('IQN.2026-11.T:A') !== null, 'looked up case-insensitively');

  // Only access changes: same devices, no dropped sessions, new credentials in the directory.
  const access = await live.sync([target('iqn.2026-11.t:a', ['/d/a.img'], { chap: { user: 'u', secret: 's' } }), target('iqn.2026-11.t:b', ['/d/b.img', '/d/b1.img'])]);
  assert.deepEqual(access.changed, ['iqn.2026-11.t:a']);
  assert.equal(opened.length, 3);
  assert.deepEqual(dropped, []);
  assert.deepEqual(directory.get('iqn.2026-11.t:a')?.chap, { user: 'u', secret: 's' });

  // LUNs change: new device opened, sessions dropped, old device closed.
  const luns = await live.sync([target('iqn.2026-11.t:a', ['/d/a2.img']), target('iqn.2026-11.t:b', ['/d/b.img', '/d/b1.img'])]);
  assert.deepEqual(luns.changed, ['iqn.2026-11.t:a']);
  assert.deepEqual(dropped, ['iqn.2026-11.t:a: target LUNs changed']);
  assert.equal(opened[0]?.closed, true);
  assert.equal(opened[3]?.path, '/d/a2.img');

  const removed = await live.sync([target('iqn.2026-11.t:a', ['/d/a2.img'])]);
  assert.deepEqual(removed.removed, ['iqn.2026-11.t:b']);
  assert.equal(directory.get('iqn.2026-11.t:b'), null);
  assert.deepEqual(dropped.at(-1), 'iqn.2026-11.t:b: target removed');
  assert.deepEqual([opened[1]?.closed, opened[2]?.closed], [true, true]);

  await live.close();
  assert.ok(opened.every((d) => d.closed), 'close() closes every device');
  assert.deepEqual(directory.list(), []);
});

test('a target whose file cannot be opened is reported and the others are still exported', async () => {
  const { directory, opened, live } = harness();
  const report = await live.sync([target('iqn.2026-11.t:ok', ['/d/ok.img']), target('iqn.2026-11.t:bad', ['/d/x.img', '/d/missing.img'])]);
  assert.deepEqual(report.added, ['iqn.2026-11.t:ok']);
  assert.equal(report.failed.length, 1);
  assert.match(report.failed[0]?.error ?? '', /ENOENT/);
  assert.equal(directory.get('iqn.2026-11.t:bad'), null);
  assert.equal(opened.find((d) => d.path === '/d/x.img')?.closed, true, 'the half-opened target closes what it opened');
});

test('concurrent syncs apply in order', async () => {
  const { directory, live } = harness();
  await Promise.all([live.sync([target('iqn.2026-11.t:a', ['/d/a.img'])]), live.sync([]), live.sync([target('iqn.2026-11.t:c', ['/d/c.img'])])]);
  assert.deepEqual(directory.list().map((t) => t.name), ['iqn.2026-11.t:c']);
});
