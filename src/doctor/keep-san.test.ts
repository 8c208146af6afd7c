import { test } from 'node:test';
import assert from 'node:assert/strict';
import { renderMachineScript } from '../boot/ipxe-script.ts';
import type { SanDisk } from '../boot/boot-entry.ts';
import { hooksOf, installerWithoutKeepSan, iscsiHooks } from './keep-san.ts';

const disk: SanDisk = { server: '10.0.0.1', port: 3260, lun: 1, target: 'iqn.2026-11.org.example:pc1' };
const identity = { initiatorIqn: 'iqn.2026-11.org.example:host' };

test('the scripts diskless renders: sanboot with and without keep-san, install always keeps the disk', () => {
  const plain = renderMachineScript({ title: 'pc1', identity, boot: { kind: 'sanboot', disks: [disk] } });
  assert.deepEqual(hooksOf(plain, disk.target).map((h) => [h.command, h.lun, h.keepSan]), [['sanboot', 1, false]]);
  const kept = renderMachineScript({ title: 'pc1', identity, boot: { kind: 'sanboot', disks: [disk], keepSan: true } });
  assert.deepEqual(hooksOf(kept, disk.target.toUpperCase()).map((h) => h.keepSan), [true], 'IQNs compare case-insensitively');
  const install = renderMachineScript({ title: 'pc1', identity, boot: { kind: 'install', disk, installer: { kind: 'iso', url: 'http://10.0.0.1/win.iso' } } });
  assert.deepEqual(hooksOf(install, disk.target).map((h) => [h.command, h.keepSan]), [['sanhook', true]]);
  assert.equal(installerWithoutKeepSan(install), null);
  assert.equal(installerWithoutKeepSan(plain), null, 'a plain sanboot starts no installer');
});

test('a hand-written install flow without keep-san is found; keep-san in the preamble or the block counts', () => {
  const script = ['#!ipxe', ':install', 'sanhook --drive 0x80 iscsi:10.0.0.1::3260:0:iqn.2026-11.org.example:pc1 || goto failed', 'kernel http://10.0.0.1/wimboot', 'boot'].join('\n');
  const found = installerWithoutKeepSan(script);
  assert.equal(found?.hook.target, 'iqn.2026-11.org.example:pc1');
  assert.equal(found?.installer, 'kernel http://10.0.0.1/wimboot');
  assert.equal(installerWithoutKeepSan(script.replace('#!ipxe', '#!ipxe\nset keep-san 1')), null);
  assert.equal(installerWithoutKeepSan(script.replace(':install', ':install\nset netX/keep-san 1')), null);
  assert.notEqual(installerWithoutKeepSan(script.replace(':install', ':other\nset keep-san 1\n:install')), null, 'keep-san in another label does not count');
});

test('root paths: IPv6 portals, empty fields, targets with colons', () => {
  const hooks = iscsiHooks('sanboot iscsi:[fe80::1]::::iqn.2026-11.org.example:a:b\nsanhook iscsi:10.0.0.1::::iqn.x:y');
  assert.deepEqual(hooks.map((h) => [h.target, h.lun]), [['iqn.2026-11.org.example:a:b', 0], ['iqn.x:y', 0]]);
});
