import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { BootEvent, BootEventKind } from '../events/boot-events.ts';
import { firmwareFromEvents, historySteps } from './history-steps.ts';

const MAC = '52:54:00:00:00:01';
const event = (at: number, kind: BootEventKind, outcome = 'ok', detail: BootEvent['detail'] = {}): BootEvent => ({ at, mac: MAC, ip: '10.0.0.5', kind, outcome, detail });
const TARGETS = ['iqn.2026-11.org.example:pc1'];

test('the firmware comes from the last DHCP request that named an architecture', () => {
  assert.equal(firmwareFromEvents([]), 'unknown');
  assert.equal(firmwareFromEvents([event(1, 'dhcp-discover', 'ok', { arch: 7 }), event(2, 'dhcp-request', 'ok', { arch: null })]), 'uefi');
  assert.equal(firmwareFromEvents([event(1, 'dhcp-discover', 'ok', { arch: 7 }), event(2, 'dhcp-discover', 'ok', { arch: 0 })]), 'bios');
});

test('no events: nothing to say; a clean boot: ok', () => {
  assert.deepEqual(historySteps([], TARGETS, 0).map((s) => s.status), ['skip']);
  const clean = [event(1, 'iscsi-login', 'ok', { target: TARGETS[0] ?? '' }), event(2, 'iscsi-first-read', 'ok', { target: TARGETS[0] ?? '' })];
  assert.deepEqual(historySteps(clean, TARGETS, 10).map((s) => [s.id, s.status]), [['history:ok', 'ok']]);
});

test('a failed last login is a warning, with the closest IQN for a missing target', () => {
  const steps = historySteps([event(0, 'iscsi-login-failed', 'no target iqn.2026-11.org.example:pc2', { initiator: 'iqn.x:pc1', target: 'iqn.2026-11.org.example:pc2' })], TARGETS, 10);
  assert.equal(steps[0]?.id, 'history:login-failed');
  assert.equal(steps[0]?.cause, 'The last login from iqn.x:pc1 to iqn.2026-11.org.example:pc2 was refused: no target iqn.2026-11.org.example:pc2; did you mean iqn.2026-11.org.example:pc1?');
});

test('a login that never read LBA 0 is a warning once it has had time to', () => {
  const login = event(0, 'iscsi-login', 'ok', { target: 'iqn.t' });
  assert.deepEqual(historySteps([login], TARGETS, 30_000).map((s) => s.id), ['history:ok'], 'still booting');
  assert.deepEqual(historySteps([login], TARGETS, 61_000).map((s) => s.id), ['history:no-first-read']);
  assert.deepEqual(historySteps([login, event(5, 'iscsi-logout', 'closed', { target: 'iqn.t' })], TARGETS, 10).map((s) => s.id), ['history:no-first-read']);
});
