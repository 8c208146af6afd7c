// The store suite on SQLite, each test with its own database file in a temporary directory.
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { StoreError } from './errors.ts';
import { openStore, parseStoreLocation } from './open-store.ts';
import { runStoreSuite } from './store-suite.ts';

test('store on SQLite', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'diskless-store-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  let n = 0;
  await runStoreSuite(t, {
    fresh: () => {
      n += 1;
      // Alternate the spellings --store accepts.
      return Promise.resolve(n % 2 === 0 ? `sqlite:${join(dir, `s${n}`, 'diskless.db')}` : join(dir, `s${n}.db`));
    },
  });
});

test('store locations: paths, sqlite: and postgres:// URLs; others are refused', async () => {
  assert.deepEqual(parseStoreLocation('data/diskless.db'), { dialect: 'sqlite', path: 'data/diskless.db' });
  assert.deepEqual(parseStoreLocation('sqlite:/var/lib/diskless/d.db'), { dialect: 'sqlite', path: '/var/lib/diskless/d.db' });
  assert.deepEqual(parseStoreLocation('sqlite:///var/lib/diskless/d.db'), { dialect: 'sqlite', path: '/var/lib/diskless/d.db' });
  assert.deepEqual(parseStoreLocation({ sqlitePath: '/tmp/x.db' }), { dialect: 'sqlite', path: '/tmp/x.db' });
  assert.deepEqual(parseStoreLocation('postgresql://diskless@db/inventory'), { dialect: 'postgres', url: 'postgresql://diskless@db/inventory' });
  assert.throws(() => parseStoreLocation('mysql://db/x'), (err: unknown) => err instanceof StoreError && /postgres:\/\//.test(err.message));
  assert.throws(() => parseStoreLocation('sqlite:'), StoreError);
  const store = await openStore(':memory:');
  await store.close();
  await store.close(); // closing twice is harmless
});

test('SQLite runs in WAL mode with foreign keys on', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'diskless-store-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const store = await openStore({ sqlitePath: join(dir, 'd.db') });
  try {
    const { sql } = await import('kysely');
    await store.leases.record([{ op: 'put', lease: { ip: '10.0.0.2', mac: '52:54:00:00:00:01', state: 'bound', expiresAtMs: 1 } }]);
    const mode = await sql<{ journal_mode: string }>`pragma journal_mode`.execute(store.db);
    assert.equal(mode.rows[0]?.journal_mode, 'wal');
    const fk = await sql<{ foreign_keys: number }>`pragma foreign_keys`.execute(store.db);
    assert.equal(fk.rows[0]?.foreign_keys, 1);
    const sync = await sql<{ synchronous: number }>`pragma synchronous`.execute(store.db);
    assert.equal(sync.rows[0]?.synchronous, 1, 'NORMAL, restored after a lease commit');
  } finally {
    await store.close();
  }
});
