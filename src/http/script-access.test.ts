import assert from 'node:assert/strict';
import { test } from 'node:test';
import { plainAddress, scriptAccess, type ScriptAccessInput } from './script-access.ts';

const base: ScriptAccessInput = { policy: 'lease-holder', carriesSecret: true, leaseAddress: '10.0.0.5', remoteAddress: '10.0.0.5', localAddress: '10.0.0.1' };

test('lease-holder: the leased address, and only it, gets a script with a secret', () => {
  assert.deepEqual(scriptAccess(base), { allowed: true, why: 'lease-holder' });
  assert.deepEqual(scriptAccess({ ...base, remoteAddress: '::ffff:10.0.0.5' }), { allowed: true, why: 'lease-holder' });
  assert.deepEqual(scriptAccess({ ...base, remoteAddress: '10.0.0.6' }), { allowed: false, leaseAddress: '10.0.0.5', client: '10.0.0.6' });
  assert.deepEqual(scriptAccess({ ...base, remoteAddress: undefined }), { allowed: false, leaseAddress: '10.0.0.5', client: '' });
});

test('this host: loopback, or a connection from our own address to it (curl on the server)', () => {
  for (const remoteAddress of ['127.0.0.1', '127.8.9.10', '::1', '::ffff:127.0.0.1']) assert.deepEqual(scriptAccess({ ...base, remoteAddress }), { allowed: true, why: 'same-host' });
  assert.deepEqual(scriptAccess({ ...base, remoteAddress: '10.0.0.1' }), { allowed: true, why: 'same-host' });
  assert.deepEqual(scriptAccess({ ...base, remoteAddress: '::ffff:10.0.0.1', localAddress: '::ffff:10.0.0.1' }), { allowed: true, why: 'same-host' });
  // An unknown local address is no licence: an empty peer is not "the same".
  assert.equal(scriptAccess({ ...base, remoteAddress: '10.0.0.7', localAddress: undefined }).allowed, false);
});

test('no lease, no secret, or policy anyone: served', () => {
  assert.deepEqual(scriptAccess({ ...base, leaseAddress: null, remoteAddress: '10.0.0.6' }), { allowed: true, why: 'no-lease' });
  assert.deepEqual(scriptAccess({ ...base, carriesSecret: false, remoteAddress: '10.0.0.6' }), { allowed: true, why: 'no-secret' });
  assert.deepEqual(scriptAccess({ ...base, policy: 'anyone', remoteAddress: '10.0.0.6' }), { allowed: true, why: 'anyone' });
});

test('plainAddress unwraps IPv4-mapped IPv6 only', () => {
  assert.equal(plainAddress('::ffff:10.1.2.3'), '10.1.2.3');
  assert.equal(plainAddress('::FFFF:10.1.2.3'), '10.1.2.3');
  assert.equal(plainAddress('fe80::1'), 'fe80::1');
  assert.equal(plainAddress('::ffff:zz'), '::ffff:zz');
  assert.equal(plainAddress(undefined), '');
});
