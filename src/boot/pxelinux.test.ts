import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ipToPxelinuxHex, parsePxelinuxPath, renderPxelinuxConfig } from './pxelinux.ts';

test('pxelinux lookup paths, in the client order', () => {
  assert.deepEqual(parsePxelinuxPath('pxelinux.cfg/b8945908-d6a6-41a9-611d-74a6ab80b83d'), { kind: 'uuid', uuid: 'b8945908-d6a6-41a9-611d-74a6ab80b83d' });
  assert.deepEqual(parsePxelinuxPath('pxelinux.cfg/01-88-99-AA-BB-CC-DD'), { kind: 'mac', mac: '88:99:aa:bb:cc:dd' });
  assert.deepEqual(parsePxelinuxPath('/pxelinux.cfg/C0A8025B'), { kind: 'ip-prefix', hex: 'C0A8025B' });
  assert.deepEqual(parsePxelinuxPath('pxelinux.cfg/C'), { kind: 'ip-prefix', hex: 'C' });
  assert.deepEqual(parsePxelinuxPath('pxelinux.cfg\\default'), { kind: 'default' });
  assert.equal(parsePxelinuxPath('pxelinux.0'), null);
  assert.equal(parsePxelinuxPath('pxelinux.cfg/../etc/passwd'), null);
  assert.equal(ipToPxelinuxHex('192.168.2.91'), 'C0A8025B');
});

test('a kernel machine boots directly; others go through iPXE', () => {
  assert.equal(
    renderPxelinuxConfig({ title: 'node1', identity: {}, boot: { kind: 'kernel', kernel: 'http://s/vmlinuz', initrds: ['http://s/initrd.img'], cmdline: 'root=/dev/sda1' } }),
    '# diskless: node1\nDEFAULT diskless\nPROMPT 0\nTIMEOUT 0\nLABEL diskless\n  KERNEL http://s/vmlinuz\n  INITRD http://s/initrd.img\n  APPEND root=/dev/sda1\n',
  );
  assert.match(renderPxelinuxConfig({ title: 'pc', identity: {}, boot: { kind: 'sanboot', disks: [{ server: 's', port: 3260, lun: 0, target: 'iqn.2026-11.a:b' }] } }), /KERNEL ipxe\.lkrn\n$/);
});
