import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { AddressPlan } from './leases.ts';
import { chooseAddress, isAvailableFor, LeaseTable } from './leases.ts';

const plan: AddressPlan = {
  pool: { first: '10.0.0.10', last: '10.0.0.12' },
  reservations: [{ mac: 'aa:00:00:00:00:99', ip: '10.0.0.11' }],
  excluded: ['10.0.0.12'],
};

test('reserved and excluded addresses are never offered from the pool', () => {
  const t = new LeaseTable();
  assert.equal(chooseAddress(t, plan, 'aa:00:00:00:00:01', null, 0), '10.0.0.10');
  t.apply([{ op: 'put', lease: { ip: '10.0.0.10', mac: 'aa:00:00:00:00:01', state: 'bound', expiresAtMs: 100 } }]);
  assert.equal(chooseAddress(t, plan, 'aa:00:00:00:00:02', null, 0), null);
  assert.equal(chooseAddress(t, plan, 'aa:00:00:00:00:99', null, 0), '10.0.0.11');
});

test('a requested address is honoured when free; an expired lease is reusable; the owner keeps its own', () => {
  const t = new LeaseTable([{ ip: '10.0.0.10', mac: 'aa:00:00:00:00:01', state: 'bound', expiresAtMs: 100 }]);
  const open: AddressPlan = { pool: { first: '10.0.0.10', last: '10.0.0.20' }, reservations: [], excluded: [] };
  assert.equal(chooseAddress(t, open, 'aa:00:00:00:00:02', '10.0.0.15', 0), '10.0.0.15');
  assert.equal(isAvailableFor(t, open, 'aa:00:00:00:00:02', '10.0.0.10', 50), false);
  assert.equal(isAvailableFor(t, open, 'aa:00:00:00:00:02', '10.0.0.10', 100), true);
  assert.equal(chooseAddress(t, open, 'aa:00:00:00:00:01', '10.0.0.15', 500), '10.0.0.10', 'previous address first');
  assert.equal(isAvailableFor(t, open, 'aa:00:00:00:00:02', '10.0.0.99', 0), false, 'outside the pool');
});

test('LeaseTable indexes by MAC, and a declined address is not the decliner\'s', () => {
  const t = new LeaseTable();
  t.apply([{ op: 'put', lease: { ip: '10.0.0.10', mac: 'm1', state: 'bound', expiresAtMs: 1 } }]);
  t.apply([{ op: 'put', lease: { ip: '10.0.0.10', mac: 'm1', state: 'declined', expiresAtMs: 1 } }]);
  assert.equal(t.byMac('m1'), undefined);
  t.apply([{ op: 'put', lease: { ip: '10.0.0.11', mac: 'm1', state: 'bound', expiresAtMs: 1 } }, { op: 'delete', ip: '10.0.0.10' }]);
  assert.equal(t.byMac('m1')?.ip, '10.0.0.11');
  assert.equal(t.size, 1);
});
