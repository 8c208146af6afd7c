// The store suite (src/store/store-suite.ts) against a real PostgreSQL server: a throwaway
// cluster this test creates with initdb, starts on a free port on 127.0.0.1 (and a private
// unix socket directory), and deletes afterwards. Each store test gets its own database.
import assert from 'node:assert/strict';
import { existsSync, readdirSync } from 'node:fs';
import { chown, mkdir, mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { test } from 'node:test';
import pg from 'pg';
import { openStore } from '../../src/store/open-store.ts';
import { runStoreSuite } from '../../src/store/store-suite.ts';
import { needTools, run } from '../helpers/tools.ts';

/** Debian keeps the server binaries out of PATH, under /usr/lib/postgresql/<major>/bin. */
function postgresBinDir(): string | null {
  const root = '/usr/lib/postgresql';
  if (!existsSync(root)) return null;
  const majors = readdirSync(root)
    .filter((v) => /^\d+$/.test(v) && existsSync(join(root, v, 'bin', 'initdb')))
    .sort((a, b) => Number(b) - Number(a));
  return majors[0] === undefined ? null : join(root, majors[0], 'bin');
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address !== null ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

test('store on PostgreSQL', { timeout: 180_000 }, async (t) => {
  const bin = postgresBinDir();
  if (bin !== null) process.env.PATH = `${bin}${delimiter}${process.env.PATH ?? ''}`;
  if (!needTools(t, { initdb: 'postgresql', pg_ctl: 'postgresql' })) return;

  // initdb refuses to run as root: as root, run the server as Debian's postgres user.
  const asRoot = process.getuid?.() === 0;
  let owner: { uid: number; gid: number } | null = null;
  if (asRoot) {
    const [uid, gid] = await Promise.all([run('id', ['-u', 'postgres']), run('id', ['-g', 'postgres'])]);
    if (uid.code !== 0) {
      const reason = 'needs the postgres system user (apt-get install postgresql creates it)';
      if (process.env.CI === 'true') throw new Error(reason);
      t.skip(reason);
      return;
    }
    owner = { uid: Number(uid.stdout.trim()), gid: Number(gid.stdout.trim()) };
  }
  const pgRun = (tool: string, args: readonly string[]) =>
    asRoot ? run('runuser', ['-u', 'postgres', '--', join(bin ?? '', tool), ...args], { timeoutMs: 120_000 }) : run(tool, args, { timeoutMs: 120_000 });

  const dir = await mkdtemp(join(tmpdir(), 'diskless-pg-'));
  const data = join(dir, 'data');
  const sockets = join(dir, 'sockets');
  await mkdir(sockets);
  if (owner !== null) {
    await chown(dir, owner.uid, owner.gid);
    await chown(sockets, owner.uid, owner.gid);
  }
  // node:test runs after() hooks in the order they were added; undo in reverse instead, so
  // the server stops before its data directory goes.
  const cleanups: (() => Promise<unknown>)[] = [() => rm(dir, { recursive: true, force: true })];
  t.after(async () => {
    for (const undo of cleanups.reverse()) await undo().catch((err: unknown) => process.stderr.write(`cleanup: ${String(err)}\n`));
  });

  const init = await pgRun('initdb', ['-D', data, '-U', 'postgres', '--auth=trust', '--encoding=UTF8', '--no-sync', '--no-instructions']);
  assert.equal(init.code, 0, `initdb failed: ${init.stderr}`);
  const port = await freePort();
  // fsync=off: a throwaway cluster; durability is PostgreSQL's own business, not under test.
  const options = `-k ${sockets} -p ${port} -h 127.0.0.1 -c fsync=off -c max_connections=200`;
  const start = await pgRun('pg_ctl', ['-D', data, '-l', join(dir, 'server.log'), '-w', '-t', '60', '-o', options, 'start']);
  assert.equal(start.code, 0, `pg_ctl start failed: ${start.stderr}${start.stdout}`);
  cleanups.push(() => pgRun('pg_ctl', ['-D', data, '-w', '-m', 'fast', 'stop']));

  const admin = new pg.Client({ host: '127.0.0.1', port, user: 'postgres', database: 'postgres' });
  await admin.connect();
  cleanups.push(() => admin.end());

  let n = 0;
  const fresh = async (): Promise<string> => {
    n += 1;
    const name = `store_${n}`;
    await admin.query(`CREATE DATABASE ${name}`);
    return `postgres://postgres@127.0.0.1:${port}/${name}`;
  };

  await runStoreSuite(t, { fresh });

  await t.test('two servers opening one new database at once migrate it once', async () => {
    const url = await fresh();
    const [a, b] = await Promise.all([openStore(url), openStore(url)]);
    try {
      await a.machines.add({ mac: '52:54:00:00:00:01', name: 'pc1', boot: { kind: 'local' } });
      assert.equal((await b.machines.get('pc1'))?.mac, '52:54:00:00:00:01');
    } finally {
      await Promise.all([a.close(), b.close()]);
    }
  });
});
