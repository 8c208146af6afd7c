// The API table, the routes fastify really has and the OpenAPI document agree; bodies are
// validated by the same schemas (400 naming the field); no token, no change.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { Inventory } from '../boot/inventory.ts';
import { BootEventLog } from '../events/boot-events.ts';
import { openStore } from '../store/open-store.ts';
import { API_ROUTES } from './api-schemas.ts';
import { buildHttpServer } from './server.ts';

async function api(protectReads = false) {
  const dir = mkdtempSync(join(tmpdir(), 'diskless-api-'));
  const store = await openStore(':memory:');
  let changes = 0;
  const app = buildHttpServer({
    log: pino({ level: 'silent' }),
    inventory: new Inventory([], [], 'not-registered'),
    context: () => ({ server: '127.0.0.1', iscsiPort: 3260, httpPort: 8080 }),
    sessions: () => [],
    events: new BootEventLog(),
    api: { store, dataDir: dir, protectReads, apiToken: 'test-token-123', changed: async () => void changes++ },
  });
  await app.ready();
  const auth = { authorization: 'Bearer test-token-123' };
  return {
    app,
    auth,
    changes: () => changes,
    async close() {
      await app.close();
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** "METHOD /path" for every route fastify has, from printRoutes' tree (4 characters a level). */
function servedRoutes(tree: string): string[] {
  const stack: string[] = [];
  const out: string[] = [];
  for (const line of tree.split('\n')) {
    const m = /^((?:[│ ] {3})*)[├└]── (\S+) \(([^)]+)\)$/.exec(line);
    if (m === null) continue;
    const level = (m[1] ?? '').length / 4;
    stack.length = level;
    stack.push(m[2] ?? '');
    for (const method of (m[3] ?? '').split(', ')) if (method !== 'HEAD') out.push(`${method} ${stack.join('')}`);
  }
  return out;
}

test('every /api route is in the table and in the OpenAPI document, and nothing else is', async () => {
  const a = await api();
  const served = servedRoutes(a.app.printRoutes({ commonPrefix: false })).filter((r) => r.includes(' /api/'));
  const table = API_ROUTES.map((r) => `${r.method} ${r.path}`);
  assert.deepEqual(served.sort(), [...table].sort(), 'the table lists exactly the routes the server has');
  const doc = (await a.app.inject({ url: '/api/openapi.json' })).json() as { openapi: string; paths: Record<string, Record<string, { requestBody?: unknown; security?: unknown }>> };
  assert.equal(doc.openapi, '3.1.0');
  const documented = Object.entries(doc.paths).flatMap(([path, ops]) => Object.keys(ops).map((m) => `${m.toUpperCase()} ${path.replace(/\{(\w+)\}/g, ':$1')}`));
  assert.deepEqual(documented.sort(), [...table].sort());
  const post = doc.paths['/api/machines']?.post;
  assert.ok(post?.requestBody !== undefined && post.security !== undefined, 'bodies and auth are documented');
  await a.close();
});

test('bodies are checked against the schemas: 400 names the field, 401 without the token', async () => {
  const a = await api();
  const denied = await a.app.inject({ method: 'POST', url: '/api/disks', payload: { name: 'd1', sizeBytes: 1048576 } });
  assert.equal(denied.statusCode, 401);
  const bad = await a.app.inject({ method: 'POST', url: '/api/disks', headers: a.auth, payload: { name: 'bad name!', sizeBytes: 1048576 } });
  assert.equal(bad.statusCode, 400);
  assert.match(bad.json<{ error: string }>().error, /name: disk names use letters/);
  const badMachine = await a.app.inject({ method: 'POST', url: '/api/machines', headers: a.auth, payload: { mac: '52:54:00:00:00:01', name: 'pc1', boot: { kind: 'sanboot', disks: [] } } });
  assert.equal(badMachine.statusCode, 400);
  assert.match(badMachine.json<{ error: string }>().error, /sanboot needs at least one disk/);
  const badTarget = await a.app.inject({ method: 'POST', url: '/api/targets', headers: a.auth, payload: { iqn: 'nope' } });
  assert.match(badTarget.json<{ error: string }>().error, /iqn: must be an iSCSI name/);
  const made = await a.app.inject({ method: 'POST', url: '/api/disks', headers: a.auth, payload: { name: 'd1', sizeBytes: 1048576 } });
  assert.equal(made.statusCode, 201, made.body);
  const machine = await a.app.inject({ method: 'POST', url: '/api/machines', headers: a.auth, payload: { mac: '52-54-00-00-00-01', name: 'pc1', disks: ['d1'] } });
  assert.equal(machine.statusCode, 201, machine.body);
  assert.doesNotMatch(machine.body, /"secret":"(?!\[redacted\])/);
  const targets = (await a.app.inject({ url: '/api/targets' })).json<Array<{ iqn: string; allowedInitiators: string[]; luns: Array<{ disk: string }> }>>();
  assert.deepEqual(targets.map((t) => [t.iqn, t.allowedInitiators, t.luns.map((l) => l.disk)]), [['iqn.2026-11.org.diskless:target.pc1', ['iqn.2026-11.org.diskless:pc1'], ['d1']]]);
  assert.ok(a.changes() >= 1, 'the running services were told');
  await a.close();
});

test('http.protectReads: reads need the token too (header or ?token= for EventSource); the document stays open', async () => {
  const a = await api(true);
  assert.equal((await a.app.inject({ url: '/api/machines' })).statusCode, 401);
  assert.equal((await a.app.inject({ url: '/api/machines', headers: a.auth })).statusCode, 200);
  assert.equal((await a.app.inject({ url: '/api/machines?token=test-token-123' })).statusCode, 200);
  assert.equal((await a.app.inject({ url: '/api/machines?token=wrong' })).statusCode, 401);
  assert.equal((await a.app.inject({ url: '/api/openapi.json' })).statusCode, 200);
  assert.equal((await a.app.inject({ method: 'POST', url: '/api/disks?token=test-token-123', payload: { name: 'd', sizeBytes: 1048576 } })).statusCode, 401, 'changes never take the token from the URL');
  const open = await api(false);
  assert.equal((await open.app.inject({ url: '/api/machines' })).statusCode, 200);
  await a.close();
  await open.close();
});
