import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BootEventLog } from './boot-events.ts';

test('events are kept per machine, tied to a MAC through the address, and streamed', () => {
  const log = new BootEventLog(3);
  const seen: string[] = [];
  const stop = log.subscribe((e) => seen.push(`${e.mac ?? '-'} ${e.kind}`));
  log.record({ at: 1, mac: '52:54:00:00:00:01', ip: '10.0.0.100', kind: 'dhcp-ack', outcome: 'ok', detail: {} });
  // iSCSI knows only the address: the MAC comes from the DHCP event.
  const login = log.record({ at: 2, ip: '10.0.0.100', kind: 'iscsi-login', outcome: 'ok', detail: { target: 'iqn.2026-11.a:b' } });
  assert.equal(login.mac, '52:54:00:00:00:01');
  log.record({ at: 3, ip: '10.9.9.9', kind: 'iscsi-login-failed', outcome: 'authentication failed', detail: {} });
  assert.deepEqual(seen, ['52:54:00:00:00:01 dhcp-ack', '52:54:00:00:00:01 iscsi-login', '- iscsi-login-failed']);
  stop();
  for (let i = 4; i < 8; i++) log.record({ at: i, mac: '52:54:00:00:00:01', ip: null, kind: 'tftp', outcome: 'ok', detail: {} });
  assert.deepEqual(log.list({ mac: '52:54:00:00:00:01' }).map((e) => e.at), [5, 6, 7], 'a bounded ring per machine');
  assert.deepEqual(log.list({ since: 5 }).map((e) => e.at), [6, 7]);
  assert.equal(seen.length, 3, 'no events after unsubscribing');
});
