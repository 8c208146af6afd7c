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

test('warnings the server raised from live traffic show up, the latest of each code, unless a rule says it already', () => {
  const warning = (at: number, code: string, outcome: string) => event(at, 'warning', outcome, { code, fix: `fix ${code}`, ipxeError: code === 'uefi-mbr-disk' ? '0x7f22208e' : null });
  const steps = historySteps(
    [event(0, 'iscsi-login', 'ok', { target: 'iqn.t' }), event(1, 'iscsi-first-read', 'ok', { target: 'iqn.t' }), warning(2, 'uefi-mbr-disk', 'old'), warning(3, 'uefi-mbr-disk', 'pc1 boots with UEFI ...')],
    TARGETS,
    10,
  );
  assert.deepEqual(steps.map((s) => [s.id, s.status, s.fix, s.ipxeError]), [['history:warning:uefi-mbr-disk', 'warn', 'fix uefi-mbr-disk', '0x7f22208e']]);
  assert.match(steps[0]?.summary ?? '', /: pc1 boots with UEFI \.\.\.$/);
  const refused = historySteps([event(0, 'iscsi-login-failed', 'no target iqn.x', { target: 'iqn.x' }), warning(0, 'no-such-target', 'asked for iqn.x')], TARGETS, 10);
  assert.deepEqual(refused.map((s) => s.id), ['history:login-failed']);
  assert.deepEqual(historySteps([warning(0, 'second-writer', 'x')], TARGETS, 2 * 24 * 3600_000).map((s) => s.id), ['history:ok'], 'a day later it is history');
});
