import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Fastify from 'fastify';
import { DirectoryProvider } from '../tftp/directory-provider.ts';
import { parseRange, registerFilesRoute } from './files-route.ts';

test('range parsing (RFC 9110)', () => {
  assert.deepEqual(parseRange('bytes=0-99', 1000), { start: 0, end: 99 });
  assert.deepEqual(parseRange('bytes=900-', 1000), { start: 900, end: 999 });
  assert.deepEqual(parseRange('bytes=-100', 1000), { start: 900, end: 999 });
  assert.deepEqual(parseRange('bytes=990-2000', 1000), { start: 990, end: 999 });
  assert.equal(parseRange('bytes=1000-', 1000), 'bad');
  assert.equal(parseRange(undefined, 1000), null);
});

test('files are served whole or by range, and never from outside the root', async () => {
  const root = mkdtempSync(join(tmpdir(), 'diskless-files-'));
  mkdirSync(join(root, 'sub'));
  const data = Buffer.from(Array.from({ length: 300000 }, (_v, i) => i % 251));
  writeFileSync(join(root, 'sub', 'image.iso'), data);
  const app = Fastify();
  registerFilesRoute(app, new DirectoryProvider([root]));
  const whole = await app.inject({ url: '/files/sub/image.iso' });
  assert.equal(whole.statusCode, 200);
  assert.ok(whole.rawPayload.equals(data));
  const part = await app.inject({ url: '/files/sub/image.iso', headers: { range: 'bytes=1000-1999' } });
  assert.equal(part.statusCode, 206);
  assert.equal(part.headers['content-range'], 'bytes 1000-1999/300000');
  assert.ok(part.rawPayload.equals(data.subarray(1000, 2000)));
  assert.equal((await app.inject({ url: '/files/sub/image.iso', headers: { range: 'bytes=400000-' } })).statusCode, 416);
  assert.equal((await app.inject({ url: '/files/missing' })).statusCode, 404);
  for (const escape of ['/files/../../etc/passwd', '/files/%2e%2e/%2e%2e/etc/passwd', '/files/..%5c..%5cetc%5cpasswd']) {
    const r = await app.inject({ url: escape });
    assert.ok(r.statusCode === 403 || r.statusCode === 404, `${escape} → ${r.statusCode}`);
    assert.doesNotMatch(r.body, /root:/);
  }
});
