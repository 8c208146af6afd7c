import { test } from 'node:test';
import assert from 'node:assert/strict';
import { subnetFromConfig } from './subnet-from-config.ts';

test('subnet and default pool from the interface address and mask', () => {
  assert.deepEqual(subnetFromConfig({ serverAddress: '10.250.0.1', netmask: '255.255.255.0', dns: [], leaseSeconds: 3600 }), {
    network: '10.250.0.0',
    prefixLength: 24,
    leaseTimeSeconds: 3600,
    pool: { first: '10.250.0.128', last: '10.250.0.254' },
  });
  const given = subnetFromConfig({ serverAddress: '192.168.1.5', netmask: '255.255.0.0', pool: { first: '192.168.9.1', last: '192.168.9.50' }, router: '192.168.1.1', dns: ['192.168.1.1'], leaseSeconds: 600 });
  assert.equal(given.network, '192.168.0.0');
  assert.equal(given.prefixLength, 16);
  assert.deepEqual(given.pool, { first: '192.168.9.1', last: '192.168.9.50' });
  assert.deepEqual(given.routers, ['192.168.1.1']);
});
