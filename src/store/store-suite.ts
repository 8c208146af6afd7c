// The store test suite, shared by SQLite (store.test.ts) and PostgreSQL
// (test/interop/store-postgres.test.ts): the same tests must pass on both engines.
import assert from 'node:assert/strict';
import type { TestContext } from 'node:test';
import { inspect } from 'node:util';
import { StoreError, StoreErrorCode } from './errors.ts';
import { appliedMigrations, migrateStore } from './migrate.ts';
import { MIGRATION_NAMES } from './migrations/index.ts';
import { openDatabase, openStore, type OpenStoreOptions, type Store } from './open-store.ts';
import { toPublicMachine, type MachineBootInput } from './repositories/machines.ts';
import { toPublicTarget } from './repositories/targets.ts';
import { REDACTED } from './secret.ts';

export interface StoreFactory {
  /** A location (path or URL) for a new, empty store. */
  fresh(): Promise<string>;
}

const MAC1 = '52:54:00:00:00:01';
const MAC2 = '52:54:00:00:00:02';
const SANBOOT: MachineBootInput = { kind: 'sanboot', disks: [{ target: 'iqn.2026-11.org.example:pc1', lun: 0 }] };

function rejectsWith(code: StoreErrorCode, pattern: RegExp): (err: unknown) => boolean {
  return (err: unknown) => {
    assert.ok(err instanceof StoreError, `expected a StoreError, got ${String(err)}`);
    assert.equal(err.code, code);
    assert.match(err.message, pattern);
    return true;
  };
}

export async function runStoreSuite(t: TestContext, factory: StoreFactory): Promise<void> {
  /** A fresh store for one test, closed after it. */
  async function withStore(options: OpenStoreOptions, body: (store: Store, url: string) => Promise<void>): Promise<void> {
    const url = await factory.fresh();
    const store = await openStore(url, options);
    try {
      await body(store, url);
    } finally {
      await store.close();
    }
  }

  await t.test('migrates an empty store to the latest schema, and reopening applies nothing', async () => {
    const url = await factory.fresh();
    const store = await openStore(url);
    assert.deepEqual(await appliedMigrations(store.db, store.dialect), [...MIGRATION_NAMES]);
    await store.machines.add({ mac: MAC1, name: 'pc1', boot: SANBOOT });
    await store.close();
    const again = await openStore(url);
    try {
      assert.deepEqual((await migrateStore(again.db, again.dialect)).applied, []);
      assert.equal((await again.machines.get('pc1'))?.mac, MAC1);
    } finally {
      await again.close();
    }
  });

  await t.test('migrates a store at 001 with data to the latest, keeping the data', async () => {
    const url = await factory.fresh();
    const old = openDatabase(url);
    try {
      await migrateStore(old.db, old.dialect, '001-initial');
      assert.deepEqual(await appliedMigrations(old.db, old.dialect), ['001-initial']);
      // Rows as diskless at 001 wrote them: no group column yet.
      await old.db
        .insertInto('machines')
        .values({ mac: MAC1, name: 'pc1', boot: JSON.stringify(SANBOOT), initiator_iqn: 'iqn.2026-11.org.diskless:pc1', chap_user: 'pc1', chap_secret: 'old-secret-123', created_at: 1000, updated_at: 2000 })
        .execute();
      const disk = await old.db.insertInto('disks').values({ name: 'pc1-root', path: '/srv/pc1.img', size_bytes: 2 ** 40, read_only: 0, image_id: null, created_at: 1000 }).returning('id').executeTakeFirstOrThrow();
      const target = await old.db.insertInto('targets').values({ iqn: 'iqn.2026-11.org.example:pc1', alias: 'pc1', chap_user: null, chap_secret: null, mutual_chap_user: null, mutual_chap_secret: null, allowed_initiators: null }).returning('id').executeTakeFirstOrThrow();
      await old.db.insertInto('luns').values({ target_id: target.id, lun: 0, disk_id: disk.id, read_only: 0 }).execute();
      await old.db.insertInto('boot_events').values({ mac: MAC1, at: 5000, kind: 'dhcp-ack', outcome: 'ok', detail: '{"ip":"10.0.0.5"}' }).execute();
      await old.db.insertInto('leases').values({ ip: '10.0.0.5', mac: MAC1, state: 'bound', expires_at: 9_000_000_000_000, hostname: 'pc1' }).execute();
    } finally {
      await old.db.destroy();
    }

    const store = await openStore(url);
    try {
      assert.deepEqual(await appliedMigrations(store.db, store.dialect), [...MIGRATION_NAMES]);
      const pc1 = await store.machines.get(MAC1);
      assert.ok(pc1 !== undefined);
      assert.equal(pc1.name, 'pc1');
      assert.equal(pc1.group, null);
      assert.deepEqual(pc1.boot, { kind: 'sanboot', disks: [{ target: 'iqn.2026-11.org.example:pc1', lun: 0 }] });
      assert.equal(pc1.chap?.secret.reveal(), 'old-secret-123');
      assert.equal(pc1.createdAtMs, 1000);
      assert.equal((await store.disks.get('pc1-root'))?.sizeBytes, 2 ** 40);
      assert.equal((await store.disks.get('pc1-root'))?.mode, 'persistent', '003 gives existing disks the persistent mode');
      assert.deepEqual((await store.targets.get('iqn.2026-11.org.example:pc1'))?.luns.map((l) => [l.lun, l.disk]), [[0, 'pc1-root']]);
      assert.deepEqual((await store.events.list({ mac: MAC1 })).map((e) => [e.atMs, e.kind, e.detail]), [[5000, 'dhcp-ack', { ip: '10.0.0.5' }]]);
      assert.deepEqual(await store.leases.load(), [{ ip: '10.0.0.5', mac: MAC1, state: 'bound', expiresAtMs: 9_000_000_000_000, hostname: 'pc1' }]);
      // The new column works on the migrated rows.
      assert.equal((await store.machines.update('pc1', { group: 'lab' })).group, 'lab');
    } finally {
      await store.close();
    }
  });

  await t.test('refuses a store written by a newer diskless', async () => {
    const url = await factory.fresh();
    const store = await openStore(url);
    await store.db.insertInto('kysely_migration' as never).values({ name: '999-future', timestamp: new Date().toISOString() } as never).execute();
    await store.close();
    await assert.rejects(openStore(url), rejectsWith(StoreErrorCode.TooNew, /newer diskless/));
  });

  await t.test('machines: add, get by MAC or name, list, update, remove', () =>
    withStore({ nowMs: () => 1_700_000_000_000 }, async (store) => {
      const pc1 = await store.machines.add({ mac: '52-54-00-00-00-01', name: 'pc1', boot: SANBOOT });
      assert.equal(pc1.mac, MAC1, 'MACs are stored lower-case with colons');
      assert.equal(pc1.initiatorIqn, 'iqn.2026-11.org.diskless:pc1');
      assert.equal(pc1.chap?.user, 'pc1');
      assert.ok((pc1.chap?.secret.reveal().length ?? 0) >= 16, 'a CHAP secret is generated');
      assert.equal(pc1.createdAtMs, 1_700_000_000_000);
      await store.machines.add({ mac: MAC2, name: 'pc2', group: 'lab', boot: { kind: 'local' }, chap: null });
      assert.equal((await store.machines.get('52:54:00:00:00:02'))?.name, 'pc2');
      assert.equal((await store.machines.get('52:54:00:00:00:02'))?.chap, null);
      assert.equal((await store.machines.get('PC1'))?.name, undefined, 'names are case-sensitive');
      assert.equal((await store.machines.get('pc1'))?.mac, MAC1);
      assert.deepEqual((await store.machines.list()).map((m) => m.name), ['pc1', 'pc2']);
      assert.deepEqual((await store.machines.list({ group: 'lab' })).map((m) => m.name), ['pc2']);

      const renamed = await store.machines.update(MAC1, { name: 'desk1', mac: '52:54:00:00:00:0A', boot: { kind: 'shell' } });
      assert.equal(renamed.name, 'desk1');
      assert.equal(renamed.mac, '52:54:00:00:00:0a');
      assert.deepEqual(renamed.boot, { kind: 'shell' });
      assert.equal(renamed.chap?.secret.reveal(), pc1.chap?.secret.reveal(), 'untouched fields stay');
      const rotated = await store.machines.rotateSecret('desk1');
      assert.notEqual(rotated.chap?.secret.reveal(), pc1.chap?.secret.reveal());

      assert.equal((await store.machines.remove('desk1')).name, 'desk1');
      assert.equal(await store.machines.get('desk1'), undefined);
      await assert.rejects(store.machines.remove('desk1'), rejectsWith(StoreErrorCode.NotFound, /no machine .*desk1.*diskless machine list/));
      await assert.rejects(store.machines.update('nope', { group: 'x' }), rejectsWith(StoreErrorCode.NotFound, /nope/));
    }),
  );

  await t.test('machines: duplicates and invalid input are refused with what to do', () =>
    withStore({}, async (store) => {
      await store.machines.add({ mac: MAC1, name: 'pc1', boot: SANBOOT });
      await store.machines.add({ mac: MAC2, name: 'pc2', boot: SANBOOT });
      await assert.rejects(
        store.machines.add({ mac: '52:54:00:00:00:01', name: 'other', boot: SANBOOT }),
        rejectsWith(StoreErrorCode.DuplicateMac, /^machine pc1 already has MAC 52:54:00:00:00:01; use `diskless machine set pc1`/),
      );
      await assert.rejects(store.machines.add({ mac: '52:54:00:00:00:03', name: 'pc1', boot: SANBOOT }), rejectsWith(StoreErrorCode.DuplicateName, /a machine named pc1 already exists/));
      await assert.rejects(store.machines.update('pc2', { mac: MAC1 }), rejectsWith(StoreErrorCode.DuplicateMac, /machine pc1 already has MAC/));
      await assert.rejects(store.machines.update('pc2', { name: 'pc1' }), rejectsWith(StoreErrorCode.DuplicateName, /pc1/));
      assert.equal((await store.machines.update('pc2', { mac: MAC2, name: 'pc2' })).name, 'pc2', 'a machine does not collide with itself');
      await assert.rejects(store.machines.add({ mac: 'nope', name: 'pc3', boot: SANBOOT }), rejectsWith(StoreErrorCode.Invalid, /^invalid machine: mac: must be a MAC address/));
      await assert.rejects(store.machines.add({ mac: '52:54:00:00:00:03', name: 'pc 3', boot: SANBOOT }), rejectsWith(StoreErrorCode.Invalid, /name: machine names use/));
      await assert.rejects(
        store.machines.add({ mac: '52:54:00:00:00:03', name: 'pc3', boot: { kind: 'sanboot', disks: [] } }),
        rejectsWith(StoreErrorCode.Invalid, /boot.*sanboot needs at least one disk|boot/),
      );
      assert.equal((await store.machines.list()).length, 2, 'nothing half-written');
    }),
  );

  await t.test('secrets never appear in JSON, inspect output or the public view', () =>
    withStore({}, async (store) => {
      const m = await store.machines.add({ mac: MAC1, name: 'pc1', boot: SANBOOT, chap: { user: 'pc1', secret: 'machine-secret-42' } });
      await store.disks.add({ name: 'd', path: '/srv/d.img', sizeBytes: 1 << 20 });
      const t1 = await store.targets.add({
        iqn: 'iqn.2026-11.org.example:t1',
        chap: { user: 'u', secret: 'target-secret-42' },
        mutualChap: { user: 'm', secret: 'mutual-secret-42' },
        luns: [{ lun: 0, disk: 'd' }],
      });
      for (const shown of [JSON.stringify(m), inspect(m, { depth: 9 }), JSON.stringify(toPublicMachine(m)), JSON.stringify(t1), inspect(t1, { depth: 9 }), JSON.stringify(toPublicTarget(t1))]) {
        assert.doesNotMatch(shown, /-secret-42/);
      }
      assert.deepEqual(toPublicMachine(m).chap, { user: 'pc1', secret: REDACTED });
      assert.deepEqual(toPublicTarget(t1).mutualChap, { user: 'm', secret: REDACTED });
      assert.equal(m.chap?.secret.reveal(), 'machine-secret-42');
      assert.equal(t1.mutualChap?.secret.reveal(), 'mutual-secret-42');
    }),
  );

  await t.test('disks: add, list, update, remove; a disk in use is kept', () =>
    withStore({ nowMs: () => 42 }, async (store) => {
      const d = await store.disks.add({ name: 'pc1-root', path: '/srv/pc1.img', sizeBytes: 8 * 2 ** 30 });
      assert.deepEqual({ ...d, id: 0 }, { id: 0, name: 'pc1-root', path: '/srv/pc1.img', sizeBytes: 8 * 2 ** 30, readOnly: false, imageId: null, mode: 'persistent', createdAtMs: 42 });
      await store.disks.add({ name: 'iso', path: '/srv/debian.iso', sizeBytes: 700e6, readOnly: true });
      assert.deepEqual((await store.disks.list()).map((x) => x.name), ['iso', 'pc1-root']);
      await assert.rejects(store.disks.add({ name: 'iso', path: '/x', sizeBytes: 1 }), rejectsWith(StoreErrorCode.DuplicateName, /a disk named iso already exists/));
      await assert.rejects(store.disks.add({ name: 'neg', path: '/x', sizeBytes: -1 }), rejectsWith(StoreErrorCode.Invalid, /sizeBytes/));
      const grown = await store.disks.update('pc1-root', { sizeBytes: 16 * 2 ** 30 });
      assert.equal(grown.sizeBytes, 16 * 2 ** 30);
      assert.equal(grown.path, '/srv/pc1.img');
      await assert.rejects(store.disks.update('pc1-root', { name: 'iso' }), rejectsWith(StoreErrorCode.DuplicateName, /iso/));

      await store.targets.add({ iqn: 'iqn.2026-11.org.example:pc1', luns: [{ lun: 3, disk: 'pc1-root' }] });
      await assert.rejects(
        store.disks.remove('pc1-root'),
        rejectsWith(StoreErrorCode.InUse, /^disk pc1-root is LUN 3 of target iqn.2026-11.org.example:pc1; remove it there first/),
      );
      await store.targets.removeLun('iqn.2026-11.org.example:pc1', 3);
      assert.equal((await store.disks.remove('pc1-root')).name, 'pc1-root');
      await assert.rejects(store.disks.remove('pc1-root'), rejectsWith(StoreErrorCode.NotFound, /no disk named pc1-root/));
    }),
  );

  await t.test('targets: LUNs, credentials, initiators; removal keeps the disks', () =>
    withStore({}, async (store) => {
      await store.disks.add({ name: 'a', path: '/srv/a.img', sizeBytes: 1 << 20 });
      await store.disks.add({ name: 'b', path: '/srv/b.img', sizeBytes: 2 << 20 });
      const iqn = 'iqn.2026-11.org.example:lab';
      const t1 = await store.targets.add({ iqn, alias: 'lab', allowedInitiators: ['iqn.2026-11.org.diskless:pc1'], luns: [{ lun: 1, disk: 'b', readOnly: true }, { lun: 0, disk: 'a' }] });
      assert.deepEqual(t1.luns.map((l) => [l.lun, l.disk, l.readOnly]), [[0, 'a', false], [1, 'b', true]]);
      assert.deepEqual(t1.allowedInitiators, ['iqn.2026-11.org.diskless:pc1']);
      assert.equal(t1.chap, null);
      await assert.rejects(store.targets.add({ iqn }), rejectsWith(StoreErrorCode.DuplicateIqn, /target iqn.2026-11.org.example:lab already exists/));
      await assert.rejects(store.targets.add({ iqn: 'not-an-iqn' }), rejectsWith(StoreErrorCode.Invalid, /^invalid target: iqn: must be an iSCSI name/));
      await assert.rejects(
        store.targets.add({ iqn: 'iqn.2026-11.org.example:x', luns: [{ lun: 0, disk: 'a' }, { lun: 0, disk: 'b' }] }),
        rejectsWith(StoreErrorCode.DuplicateLun, /LUN 0 twice/),
      );
      await assert.rejects(store.targets.add({ iqn: 'iqn.2026-11.org.example:y', luns: [{ lun: 0, disk: 'ghost' }] }), rejectsWith(StoreErrorCode.NotFound, /disk ghost, which does not exist/));
      assert.equal(await store.targets.get('iqn.2026-11.org.example:y'), undefined, 'a failed add leaves nothing behind');

      const swapped = await store.targets.setLun(iqn, { lun: 0, disk: 'b' });
      assert.deepEqual(swapped.luns.map((l) => [l.lun, l.disk]), [[0, 'b'], [1, 'b']]);
      const withChap = await store.targets.update(iqn, { chap: { user: 'u', secret: 'sssssssssssss' }, allowedInitiators: null });
      assert.equal(withChap.chap?.user, 'u');
      assert.equal(withChap.allowedInitiators, null);
      assert.equal(withChap.alias, 'lab');
      await assert.rejects(store.targets.removeLun(iqn, 7), rejectsWith(StoreErrorCode.NotFound, /has no LUN 7/));

      await store.targets.add({ iqn: 'iqn.2026-11.org.example:empty' });
      assert.deepEqual((await store.targets.list()).map((x) => [x.iqn, x.luns.length]), [['iqn.2026-11.org.example:empty', 0], [iqn, 2]]);
      await store.targets.remove(iqn);
      assert.equal(await store.targets.get(iqn), undefined);
      assert.equal((await store.disks.list()).length, 2);
      assert.equal((await store.db.selectFrom('luns').selectAll().execute()).length, 0);
    }),
  );

  await t.test('images: versions per name, overlay disks, a version in use is kept', () =>
    withStore({}, async (store) => {
      const v1 = await store.images.add({ name: 'win10', path: '/srv/images/win10/v1.img', sizeBytes: 2 ** 34, source: 'imported /tmp/win10.qcow2' });
      const v2 = await store.images.add({ name: 'win10', path: '/srv/images/win10/v2.img', sizeBytes: 2 ** 34, source: 'promoted from pc1-disk' });
      assert.deepEqual([v1.version, v2.version], [1, 2]);
      assert.equal((await store.images.get('win10'))?.version, 2, 'the newest by default');
      assert.equal((await store.images.get('win10', 1))?.path, '/srv/images/win10/v1.img');
      const disk = await store.disks.add({ name: 'pc1-disk', path: '/srv/disks/pc1.ovl', sizeBytes: 2 ** 34, imageId: v1.id, mode: 'discard-on-reboot' });
      assert.equal(disk.mode, 'discard-on-reboot');
      assert.equal((await store.disks.add({ name: 'plain', path: '/srv/plain.img', sizeBytes: 512 })).mode, 'persistent');
      assert.deepEqual((await store.images.list()).map((i) => [i.name, i.version, i.disks]), [['win10', 2, []], ['win10', 1, ['pc1-disk']]]);
      await assert.rejects(store.images.remove('win10', 1), rejectsWith(StoreErrorCode.InUse, /base of pc1-disk; move them/));
      assert.equal((await store.disks.update('pc1-disk', { imageId: v2.id, mode: 'persistent' })).mode, 'persistent');
      assert.equal((await store.images.remove('win10', 1)).version, 1);
      await assert.rejects(store.images.remove('win10', 1), rejectsWith(StoreErrorCode.NotFound, /no image win10 version 1/));
      await assert.rejects(store.images.add({ name: 'bad name', path: '/x', sizeBytes: 512 }), rejectsWith(StoreErrorCode.Invalid, /name: disk names use letters/));
    }));

  await t.test('snapshots: per disk, unique names, they keep their image version, they go with the disk', () =>
    withStore({}, async (store) => {
      const v1 = await store.images.add({ name: 'lab', path: '/srv/images/lab/v1.img', sizeBytes: 2 ** 30 });
      const v2 = await store.images.add({ name: 'lab', path: '/srv/images/lab/v2.img', sizeBytes: 2 ** 30 });
      await store.disks.add({ name: 'pc1', path: '/srv/disks/pc1.ovl', sizeBytes: 2 ** 30, imageId: v1.id });
      await store.disks.add({ name: 'pc2', path: '/srv/disks/pc2.ovl', sizeBytes: 2 ** 30, imageId: v2.id });
      const a = await store.snapshots.add({ disk: 'pc1', name: 'before-update', path: '/srv/disks/snapshots/pc1/before-update.ovl', imageId: v1.id, sizeBytes: 4096 });
      await store.snapshots.add({ disk: 'pc1', name: 'after', path: '/srv/disks/snapshots/pc1/after.ovl', imageId: v1.id, sizeBytes: 8192 });
      await store.snapshots.add({ disk: 'pc2', name: 'before-update', path: '/srv/disks/snapshots/pc2/before-update.ovl', imageId: v2.id, sizeBytes: 0 });
      assert.equal(a.disk, 'pc1');
      assert.deepEqual((await store.snapshots.list('pc1')).map((s) => s.name), ['before-update', 'after']);
      assert.equal((await store.snapshots.list()).length, 3);
      assert.equal((await store.snapshots.get('pc1', 'after'))?.sizeBytes, 8192);
      await assert.rejects(store.snapshots.add({ disk: 'pc1', name: 'after', path: '/x', imageId: v1.id, sizeBytes: 0 }), rejectsWith(StoreErrorCode.DuplicateName, /already has a snapshot named after/));
      await assert.rejects(store.snapshots.add({ disk: 'nope', name: 's', path: '/x', imageId: v1.id, sizeBytes: 0 }), rejectsWith(StoreErrorCode.NotFound, /no disk named nope/));
      await assert.rejects(store.snapshots.add({ disk: 'pc1', name: 'bad name', path: '/x', imageId: v1.id, sizeBytes: 0 }), rejectsWith(StoreErrorCode.Invalid, /name/));
      // pc1 moves on; its snapshots still need version 1.
      await store.disks.update('pc1', { imageId: v2.id });
      await assert.rejects(store.images.remove('lab', 1), rejectsWith(StoreErrorCode.InUse, /under snapshots pc1@before-update, pc1@after/));
      assert.equal((await store.snapshots.remove('pc1', 'after')).name, 'after');
      await assert.rejects(store.snapshots.remove('pc1', 'after'), rejectsWith(StoreErrorCode.NotFound, /no snapshot named after/));
      await store.disks.remove('pc1');
      assert.deepEqual((await store.snapshots.list()).map((s) => `${s.disk}@${s.name}`), ['pc2@before-update'], 'snapshots go with their disk');
      assert.equal((await store.images.remove('lab', 1)).version, 1);
    }));

  await t.test('boot events: one commit per burst, queries by MAC and time, pruning per MAC', () =>
    withStore({ eventsPerMac: 5 }, async (store) => {
      const burst = [];
      for (let i = 0; i < 8; i += 1) burst.push(store.events.append({ mac: MAC1, atMs: 1000 + i, kind: 'dhcp-discover', outcome: 'info', detail: { n: i } }));
      burst.push(store.events.append({ mac: MAC2.toUpperCase(), atMs: 1003, kind: 'iscsi-login', outcome: 'failed', detail: { status: '0201', why: 'CHAP failed' } }));
      await Promise.all(burst);
      assert.deepEqual(store.events.stats(), { commits: 1, items: 9 });

      const mine = await store.events.list({ mac: MAC1 });
      assert.deepEqual(mine.map((e) => e.detail.n), [3, 4, 5, 6, 7], 'the oldest beyond 5 per MAC were dropped');
      assert.deepEqual((await store.events.list({ mac: MAC1, sinceMs: 1004, untilMs: 1006 })).map((e) => e.atMs), [1004, 1005]);
      assert.deepEqual((await store.events.list({ mac: MAC1, limit: 2 })).map((e) => e.atMs), [1006, 1007]);
      const theirs = await store.events.list({ mac: MAC2 });
      assert.deepEqual(theirs.map((e) => [e.mac, e.kind, e.outcome, e.detail]), [[MAC2, 'iscsi-login', 'failed', { status: '0201', why: 'CHAP failed' }]]);
      assert.equal((await store.events.list()).length, 6);

      await store.events.append({ mac: MAC1, kind: 'tftp-file', outcome: 'ok' });
      assert.equal(store.events.stats().commits, 2);
      assert.throws(() => void store.events.append({ mac: MAC1, kind: 'Bad Kind', outcome: 'ok' }), rejectsWith(StoreErrorCode.Invalid, /kind/));
    }),
  );

  await t.test('leases: the DHCP LeaseStore seam, durable per burst, reloaded on open', async () => {
    const url = await factory.fresh();
    const now = 1_000_000;
    const store = await openStore(url, { nowMs: () => now });
    const bound = { ip: '10.0.0.10', mac: MAC1, state: 'bound', expiresAtMs: now + 3600_000, hostname: 'pc1' } as const;
    await Promise.all([
      store.leases.record([{ op: 'put', lease: { ip: '10.0.0.9', mac: MAC2, state: 'offered', expiresAtMs: now + 30_000 } }]),
      store.leases.record([{ op: 'put', lease: bound }]),
      store.leases.record([
        { op: 'put', lease: { ip: '10.0.0.11', mac: MAC2, state: 'declined', expiresAtMs: now - 1 } },
        { op: 'put', lease: { ip: '10.0.0.12', mac: MAC2, state: 'declined', expiresAtMs: now + 60_000 } },
        { op: 'put', lease: { ip: '10.0.0.13', mac: MAC2, state: 'bound', expiresAtMs: now } },
        { op: 'delete', ip: '10.0.0.13' },
      ]),
    ]);
    assert.deepEqual(store.leases.stats(), { commits: 1, items: 5 }, 'offers are not recorded; one commit for the burst');
    await store.leases.record([{ op: 'put', lease: { ...bound, state: 'released' } }]);
    await store.close();

    const again = await openStore(url, { nowMs: () => now });
    try {
      assert.deepEqual(await again.leases.load(), [
        { ...bound, state: 'released' },
        { ip: '10.0.0.12', mac: MAC2, state: 'declined', expiresAtMs: now + 60_000 },
      ]);
      await again.leases.close();
    } finally {
      await again.close();
    }
  });
}
