import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Fastify from 'fastify';
import { consoleFilePath, registerConsoleRoutes } from './console-route.ts';

function app() {
  const server = Fastify();
  registerConsoleRoutes(server);
  return server;
}

test('/ and /console redirect to /console/, which serves index.html', async () => {
  const server = app();
  const root = await server.inject({ url: '/' });
  assert.equal(root.statusCode, 302);
  assert.equal(root.headers.location, '/console/');
  const bare = await server.inject({ url: '/console' });
  assert.equal(bare.headers.location, '/console/');
  const index = await server.inject({ url: '/console/' });
  assert.equal(index.statusCode, 200);
  assert.equal(index.headers['content-type'], 'text/html; charset=utf-8');
  assert.match(index.body, /<script type="module" src="app\.js"><\/script>/);
  assert.match(String(index.headers['content-security-policy']), /default-src 'self'/);
  const named = await server.inject({ url: '/console/index.html' });
  assert.equal(named.body, index.body);
});

test('assets carry their content types, an ETag, and revalidate (no-cache, 304)', async () => {
  const server = app();
  const js = await server.inject({ url: '/console/app.js' });
  assert.equal(js.statusCode, 200);
  assert.equal(js.headers['content-type'], 'text/javascript; charset=utf-8');
  assert.match(js.body, /^\/\/ @ts-check/);
  const css = await server.inject({ url: '/console/console.css' });
  assert.equal(css.headers['content-type'], 'text/css; charset=utf-8');
  const icon = await server.inject({ url: '/console/favicon.svg' });
  assert.equal(icon.headers['content-type'], 'image/svg+xml');
  assert.equal(js.headers['cache-control'], 'no-cache');
  const etag = String(js.headers.etag);
  assert.match(etag, /^"[\w-]+"$/);
  const again = await server.inject({ url: '/console/app.js', headers: { 'if-none-match': etag } });
  assert.equal(again.statusCode, 304);
  assert.equal(again.body, '');
});

test('nothing outside the console folder, and nothing but assets inside it', async () => {
  const server = app();
  for (const url of [
    '/console/../package.json',
    '/console/%2e%2e/package.json',
    '/console/..%2fpackage.json',
    '/console/%2e%2e%2f%2e%2e%2fpackage.json',
    '/console/..\\package.json',
    '/console//etc/passwd',
    '/console/%2fetc%2fpasswd',
    '/console/app.js%00.css',
    '/console/tsconfig.json',
    '/console/timeline-model.test.ts',
    '/console/missing.js',
    '/console/.hidden.js',
  ]) {
    const r = await server.inject({ url });
    assert.equal(r.statusCode, 404, url);
    assert.doesNotMatch(r.body, /"name": "diskless"|root:|compilerOptions/, url);
  }
});

test('the path rules, and a symlink that leads out of the folder', async () => {
  const root = mkdtempSync(join(tmpdir(), 'diskless-console-'));
  assert.equal(consoleFilePath(root, ''), join(root, 'index.html'));
  assert.equal(consoleFilePath(root, 'sub/'), join(root, 'sub', 'index.html'));
  assert.equal(consoleFilePath(root, 'a/b.js'), join(root, 'a', 'b.js'));
  assert.equal(consoleFilePath(root, 'a/../b.js'), null);
  assert.equal(consoleFilePath(root, 'a//b.js'), null);
  assert.equal(consoleFilePath(root, 'b.json'), null);

  const outside = mkdtempSync(join(tmpdir(), 'diskless-outside-'));
  writeFileSync(join(outside, 'secret.js'), 'secret');
  writeFileSync(join(root, 'index.html'), '<!doctype html>');
  symlinkSync(join(outside, 'secret.js'), join(root, 'leak.js'));
  const server = Fastify();
  registerConsoleRoutes(server, { root });
  assert.equal((await server.inject({ url: '/console/' })).statusCode, 200);
  const leak = await server.inject({ url: '/console/leak.js' });
  assert.equal(leak.statusCode, 404);
  assert.doesNotMatch(leak.body, /secret/);
});
