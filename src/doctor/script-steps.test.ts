import { test } from 'node:test';
import assert from 'node:assert/strict';
import { classifyUrl, urlsInScript, urlStep } from './script-steps.ts';

const CTX = { server: '10.0.0.1', iscsiPort: 3260, httpPort: 8080 };

test('finds each http and tftp URL once, but not TFTP prefixes', () => {
  const script = ['#!ipxe', 'kernel http://10.0.0.1:8080/files/vmlinuz quiet || goto failed', 'initrd http://10.0.0.1:8080/files/vmlinuz || goto failed', 'set 210:string tftp://10.0.0.1/', 'chain tftp://10.0.0.1/pxelinux.0 || goto failed'].join('\n');
  assert.deepEqual(urlsInScript(script), ['http://10.0.0.1:8080/files/vmlinuz', 'tftp://10.0.0.1/pxelinux.0']);
});

test('classifies URLs against this server', () => {
  assert.deepEqual(classifyUrl('http://10.0.0.1:8080/boot.ipxe?mac=52-54-00-00-00-01', CTX), { kind: 'script' });
  assert.deepEqual(classifyUrl('http://10.0.0.1:8080/files/iso/win%2010.iso', CTX), { kind: 'file', via: 'http', path: 'iso/win 10.iso' });
  assert.deepEqual(classifyUrl('tftp://10.0.0.1/pxelinux.0', CTX), { kind: 'file', via: 'tftp', path: 'pxelinux.0' });
  assert.deepEqual(classifyUrl('http://10.0.0.1:8080/other', CTX), { kind: 'unknown-route', path: '/other' });
  assert.deepEqual(classifyUrl('https://10.0.0.1:8080/files/x', CTX), { kind: 'https-self' });
  assert.deepEqual(classifyUrl('http://10.0.0.1/files/x', CTX), { kind: 'external' }, 'port 80 is not ours');
  assert.deepEqual(classifyUrl('http://boot.example.org/x', CTX), { kind: 'external' });
  assert.deepEqual(classifyUrl('http://[fd00::1]:8080/boot.ipxe', { ...CTX, server: 'fd00::1' }), { kind: 'script' });
});

test('a missing file fails with the fix and the code iPXE shows', () => {
  const step = urlStep('http://10.0.0.1:8080/files/vmlinuz', { kind: 'file', via: 'http', path: 'vmlinuz' }, { found: false, refused: false }, { tftpEnabled: true, bootFolder: '/data/boot' });
  assert.deepEqual(
    { status: step.status, fix: step.fix, ipxeError: step.ipxeError },
    { status: 'fail', fix: 'put vmlinuz into /data/boot (served over TFTP and under /files/), or fix the path in the boot entry', ipxeError: '0x2d0c613b' },
  );
  assert.equal(urlStep('tftp://10.0.0.1/pxelinux.0', { kind: 'file', via: 'tftp', path: 'pxelinux.0' }, { found: true, size: 42 }, { tftpEnabled: false, bootFolder: '/b' }).status, 'fail');
  assert.equal(urlStep('http://10.0.0.1:8080/files/a', { kind: 'file', via: 'http', path: 'a' }, { found: true, size: 2048 }, { tftpEnabled: false, bootFolder: '/b' }).summary, 'http://10.0.0.1:8080/files/a: 2 KiB');
});
