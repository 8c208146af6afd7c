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

test('a new client costs a lookup or two, not a walk over every lease, even after older leases are bound', () => {
  const big: AddressPlan = { pool: { first: '10.1.0.0', last: '10.1.255.255' }, reservations: [], excluded: [] };
  const t = new LeaseTable();
  const offer = (mac: string): string => {
    const ip = chooseAddress(t, big, mac, null, 0);
    assert.ok(ip !== null);
    t.apply([{ op: 'put', lease: { ip, mac, state: 'offered', expiresAtMs: 30_000 } }]);
    return ip;
  };
  const first = offer('m0');
  for (let i = 1; i < 5000; i++) offer(`m${i}`);
  // The first client binds its address: the cursor must stay after the 5000th.
  t.apply([{ op: 'put', lease: { ip: first, mac: 'm0', state: 'bound', expiresAtMs: 3_600_000 } }]);
  let lookups = 0;
  const counting = { byIp: (ip: string) => t.byIp(ip), byMac: (mac: string) => t.byMac(mac), scanHint: () => t.scanHint(), byIpNumber: (n: number) => (lookups++, t.byIpNumber(n)) };
  assert.equal(chooseAddress(counting, big, 'new', null, 0), '10.1.19.136');
  assert.ok(lookups <= 2, `${lookups} lookups`);
});
