// Machines through the REST API and the real CLI: a machine added while the server runs gets
// its own boot script at once; changes need the token; bad input names the field.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startTestServer, TEST_IQN, type TestServer } from '../helpers/server.ts';
import { run } from '../helpers/tools.ts';

describe('machines API and CLI', () => {
  let s: TestServer;
  before(async () => {
    s = await startTestServer();
  });
  after(async () => s.stop());

  const cli = (...args: string[]) => run(process.execPath, ['bin/diskless.js', 'machine', ...args, '--server', `http://127.0.0.1:${s.httpPort}`, '--data-dir', s.dir]);

  test('machine add, list, show and rm through the running server', async () => {
    const added = await cli('add', '--mac', '52-54-00-AA-00-01', '--name', 'pc7', '--disk', `${TEST_IQN}@0`);
    assert.equal(added.code, 0, added.stderr);
    assert.match(added.stdout, /added pc7 +52:54:00:aa:00:01 {2}sanboot iqn\.2026-11\.org\.diskless\.test:disk0@0/);
    const script = await (await fetch(`http://127.0.0.1:${s.httpPort}/boot.ipxe?mac=52:54:00:aa:00:01`)).text();
    assert.match(script, /# diskless: pc7 \(52:54:00:aa:00:01\)\nset initiator-iqn iqn\.2026-11\.org\.diskless:pc7\n/, 'the new machine boots at once');
    const list = await cli('list', '--json');
    assert.equal(list.code, 0, list.stderr);
    const rows = JSON.parse(list.stdout) as Array<{ name: string; chap: unknown }>;
    assert.deepEqual(rows.map((r) => r.name), ['pc7']);
    assert.doesNotMatch(list.stdout, /"secret":\s*"(?!\[redacted\])/, 'secrets never leave the server');
    const shown = await cli('show', 'pc7');
    assert.match(shown.stdout, /initiator iqn\.2026-11\.org\.diskless:pc7/);
    const duplicate = await cli('add', '--mac', '52:54:00:aa:00:01', '--name', 'other', '--disk', TEST_IQN);
    assert.notEqual(duplicate.code, 0);
    assert.match(duplicate.stderr, /already has MAC|52:54:00:aa:00:01/);
    const removed = await cli('rm', '52:54:00:aa:00:01');
    assert.equal(removed.code, 0, removed.stderr);
    const after = await (await fetch(`http://127.0.0.1:${s.httpPort}/boot.ipxe?mac=52:54:00:aa:00:01`)).text();
    assert.match(after, /is not registered/);
  });

  test('no token, no change; a bad MAC is a 400 that names the field', async () => {
    const body = JSON.stringify({ mac: '52:54:00:aa:00:02', name: 'pc8', boot: { kind: 'local' } });
    const denied = await fetch(`http://127.0.0.1:${s.httpPort}/api/machines`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
    assert.equal(denied.status, 401);
    const wrong = await fetch(`http://127.0.0.1:${s.httpPort}/api/machines`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: 'Bearer nope' }, body });
    assert.equal(wrong.status, 401);
    const { ensureApiToken } = await import('../../src/main.ts');
    const bad = await fetch(`http://127.0.0.1:${s.httpPort}/api/machines`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${ensureApiToken(s.dir)}` },
      body: JSON.stringify({ mac: 'not-a-mac', name: 'pc9', boot: { kind: 'local' } }),
    });
    assert.equal(bad.status, 400);
    assert.match(((await bad.json()) as { error: string }).error, /mac/);
    assert.equal((await (await fetch(`http://127.0.0.1:${s.httpPort}/api/machines`)).json() as unknown[]).length, 0);
  });
});

describe('a server that protects reads: the CLI reads with the token from the data directory', () => {
  let s: TestServer;
  before(async () => {
    s = await startTestServer({ http: { port: 0, protectReads: true } });
  });
  after(async () => s.stop());

  const diskless = (...args: string[]) => run(process.execPath, ['bin/diskless.js', ...args, '--server', `http://127.0.0.1:${s.httpPort}`]);

  test('machine list, sessions, events and doctor work with --data-dir, and say why without a token', async () => {
    for (const args of [['machine', 'list'], ['sessions'], ['events'], ['disk', 'list']]) {
      const ok = await diskless(...args, '--data-dir', s.dir);
      assert.equal(ok.code, 0, `${args.join(' ')}: ${ok.stderr}`);
    }
    const added = await diskless('machine', 'add', '--mac', '52:54:00:aa:00:09', '--name', 'pc9', '--disk', TEST_IQN, '--data-dir', s.dir);
    assert.equal(added.code, 0, added.stderr);
    const doctor = await diskless('doctor', 'pc9', '--data-dir', s.dir, '--json');
    assert.ok(doctor.stdout.includes('"steps"') || doctor.code === 0, `doctor read its report: ${doctor.stdout}${doctor.stderr}`);
    assert.doesNotMatch(doctor.stderr, /401|token/i);
    const refused = await diskless('machine', 'list', '--data-dir', '/nonexistent');
    assert.notEqual(refused.code, 0);
    assert.match(refused.stderr, /401|token/i, 'without the token the read is refused, in words');
  });
});
