import { test } from 'node:test';
import assert from 'node:assert/strict';
import pino from 'pino';
import { openStore } from '../store/open-store.ts';
import { BootEventLog } from './boot-events.ts';
import { persistBootEvents } from './persist-events.ts';

test('the boot timeline survives a restart, with the same words', async () => {
  const store = await openStore(':memory:');
  const log = pino({ level: 'silent' });
  const first = new BootEventLog();
  const stop = await persistBootEvents(first, store.events, log, { sinceMs: 0, limit: 100 });
  first.record({ mac: '52:54:00:00:00:01', ip: '10.0.0.5', kind: 'dhcp-ack', outcome: 'ok', detail: { arch: 0, bootFile: 'undionly.kpxe' }, at: 1000 });
  first.record({ ip: '10.0.0.5', kind: 'iscsi-login-failed', outcome: 'CHAP failed: wrong secret', detail: { initiator: 'iqn.x', target: null }, at: 2000 });
  first.record({ ip: '10.9.9.9', kind: 'tftp', outcome: 'ok', detail: {}, at: 3000 }); // no MAC known: not kept
  stop();
  await store.events.flush();
  const kept = await store.events.list();
  assert.deepEqual(kept.map((e) => [e.kind, e.outcome]), [['dhcp-ack', 'ok'], ['iscsi-login-failed', 'failed']]);

  const second = new BootEventLog();
  await persistBootEvents(second, store.events, log, { sinceMs: 0, limit: 100 });
  assert.deepEqual(second.list({ mac: '52:54:00:00:00:01' }), [
    { at: 1000, mac: '52:54:00:00:00:01', ip: '10.0.0.5', kind: 'dhcp-ack', outcome: 'ok', detail: { arch: 0, bootFile: 'undionly.kpxe' } },
    { at: 2000, mac: '52:54:00:00:00:01', ip: '10.0.0.5', kind: 'iscsi-login-failed', outcome: 'CHAP failed: wrong secret', detail: { initiator: 'iqn.x', target: null } },
  ]);
  await store.close();
});
