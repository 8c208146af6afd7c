import assert from 'node:assert/strict';
import { appendFile, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { JournalLeaseStore } from './lease-store.ts';
import type { Lease } from './leases.ts';

const bound = (ip: string, mac: string, expiresAtMs = 10_000): Lease => ({ ip, mac, state: 'bound', expiresAtMs });

async function withDir(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'dl-dhcp-leases-'));
  try {
    await fn(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

test('leases survive a reopen; offers are not written; deletes apply', () => withDir(async (dir) => {
  const store = await JournalLeaseStore.open(dir, 0);
  assert.deepEqual(await store.load(), []);
  await store.record([{ op: 'put', lease: bound('10.0.0.5', 'aa:aa:aa:aa:aa:01') }]);
  await store.record([{ op: 'put', lease: { ip: '10.0.0.6', mac: 'aa:aa:aa:aa:aa:02', state: 'offered', expiresAtMs: 5 } }]);
  await store.record([{ op: 'put', lease: bound('10.0.0.7', 'aa:aa:aa:aa:aa:03') }, { op: 'delete', ip: '10.0.0.7' }]);
  await store.record([{ op: 'put', lease: { ...bound('10.0.0.5', 'aa:aa:aa:aa:aa:01'), state: 'released', hostname: 'h' } }]);
  await store.close();
  const again = await JournalLeaseStore.open(dir, 0);
  assert.deepEqual(await again.load(), [{ ip: '10.0.0.5', mac: 'aa:aa:aa:aa:aa:01', state: 'released', expiresAtMs: 10_000, hostname: 'h' }]);
  await again.close();
}));

test('changes of one event-loop burst share one write and one fdatasync (group commit)', () => withDir(async (dir) => {
  const store = await JournalLeaseStore.open(dir, 0);
  const promises = Array.from({ length: 50 }, (_, i) => store.record([{ op: 'put', lease: bound(`10.0.1.${i}`, `aa:aa:aa:aa:ab:${i.toString(16).padStart(2, '0')}`) }]));
  assert.equal(new Set(promises).size, 1, 'one promise for the whole burst (the server groups its ACKs by it)');
  await Promise.all(promises);
  assert.deepEqual({ writes: store.stats().writes, syncs: store.stats().syncs }, { writes: 1, syncs: 1 });
  const next = store.record([{ op: 'put', lease: bound('10.0.2.1', 'aa:aa:aa:aa:ac:01') }]);
  assert.notEqual(next, promises[0], 'the next burst has its own');
  await next;
  await store.close();
  const lines = (await readFile(join(dir, 'leases.jsonl'), 'utf8')).trim().split('\n');
  assert.equal(lines.length, 51);
}));

test('start-up compacts the journal, drops ended quarantines and skips a torn last line', () => withDir(async (dir) => {
  const store = await JournalLeaseStore.open(dir, 0);
  for (let i = 0; i < 5; i++) await store.record([{ op: 'put', lease: bound('10.0.0.5', 'aa:aa:aa:aa:aa:01', 1000 + i) }]);
  await store.record([{ op: 'put', lease: { ip: '10.0.0.9', mac: 'aa:aa:aa:aa:aa:09', state: 'declined', expiresAtMs: 500 } }]);
  await store.close();
  await appendFile(join(dir, 'leases.jsonl'), '{"op":"put","ip":"10.0.0.8","ma');
  const again = await JournalLeaseStore.open(dir, 600);
  assert.deepEqual(await again.load(), [bound('10.0.0.5', 'aa:aa:aa:aa:aa:01', 1004)]);
  assert.equal(again.stats().skippedLines, 1);
  await again.close();
  assert.equal((await readFile(join(dir, 'leases.jsonl'), 'utf8')).trim().split('\n').length, 1);
}));
