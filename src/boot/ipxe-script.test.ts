import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatIscsiRootPath, renderIdentifyScript, renderMachineScript, renderNotRegisteredScript } from './ipxe-script.ts';
import type { SanDisk } from './boot-entry.ts';

const disk = (lun: number, target = 'iqn.2026-11.org.diskless:pc1'): SanDisk => ({ server: '10.0.0.1', port: 3260, lun, target });
const text = (...lines: string[]) => lines.join('\n') + '\n';

test('root path follows iPXE iscsi:server:proto:port:lun:target', () => {
  assert.equal(formatIscsiRootPath(disk(0)), 'iscsi:10.0.0.1::3260:0:iqn.2026-11.org.diskless:pc1');
  assert.equal(formatIscsiRootPath({ ...disk(1), server: 'fd00::1' }), 'iscsi:[fd00::1]::3260:1:iqn.2026-11.org.diskless:pc1');
});

test('one disk: sanboot with a retry loop', () => {
  assert.equal(
    renderMachineScript({ title: 'pc1 (52:54:00:00:00:01)', identity: {}, boot: { kind: 'sanboot', disks: [disk(0)] } }),
    text(
      '#!ipxe',
      '# diskless: pc1 (52:54:00:00:00:01)',
      ':boot',
      'sanboot iscsi:10.0.0.1::3260:0:iqn.2026-11.org.diskless:pc1 || goto failed',
      'goto boot',
      ':failed',
      'echo diskless: could not boot pc1 (52:54:00:00:00:01)',
      'echo diskless: trying again in 5 seconds (Ctrl-C for a shell)',
      'sleep 5 || shell',
      'goto boot',
    ),
  );
});

test('two disks: sanhook 0x81, sanboot 0x80, unhook before retrying; identity and CHAP first', () => {
  assert.equal(
    renderMachineScript({
      title: 'pc2',
      identity: { initiatorIqn: 'iqn.2026-11.org.diskless:pc2', chap: { user: 'pc2', secret: 's3cret-pc2-12' }, mutualChap: { user: 'tgt', secret: 'tgt-secret-123' } },
      boot: { kind: 'sanboot', disks: [disk(0), disk(1)], keepSan: true },
      retrySeconds: 3,
    }),
    text(
      '#!ipxe',
      '# diskless: pc2',
      'set initiator-iqn iqn.2026-11.org.diskless:pc2',
      'set username pc2',
      'set password s3cret-pc2-12',
      'set reverse-username tgt',
      'set reverse-password tgt-secret-123',
      ':boot',
      'set keep-san 1',
      'sanhook --drive 0x81 iscsi:10.0.0.1::3260:1:iqn.2026-11.org.diskless:pc1 || goto failed',
      'sanboot --drive 0x80 iscsi:10.0.0.1::3260:0:iqn.2026-11.org.diskless:pc1 || goto failed',
      'goto boot',
      ':failed',
      'echo diskless: could not boot pc2',
      'echo diskless: trying again in 3 seconds (Ctrl-C for a shell)',
      'sleep 3 || shell',
      'sanunhook --drive 0x81 ||',
      'goto boot',
    ),
  );
});

test('Windows install onto a blank iSCSI disk: keep-san, hook as 0x80, installer ISO not described', () => {
  const script = renderMachineScript({
    title: 'win',
    identity: {},
    boot: { kind: 'install', disk: disk(0), installer: { kind: 'iso', url: 'http://10.0.0.1:8080/files/win10.iso' } },
  });
  assert.equal(
    script.split('\n').slice(2, 7).join('\n'),
    [
      ':boot',
      'set keep-san 1',
      'sanhook --drive 0x80 iscsi:10.0.0.1::3260:0:iqn.2026-11.org.diskless:pc1 || goto failed',
      'sanboot --no-describe http://10.0.0.1:8080/files/win10.iso || goto failed',
      'goto boot',
    ].join('\n'),
  );
  assert.match(script, /sanunhook --drive 0x80 \|\|\ngoto boot\n$/);
});

test('menu with sanboot, kernel/initrd, memdisk ISO and floppy, shell and local entries', () => {
  assert.equal(
    renderMachineScript({
      title: 'lab',
      identity: {},
      boot: {
        kind: 'menu',
        title: 'Lab PC',
        defaultItem: 'disk',
        timeoutSeconds: 5,
        items: [
          { id: 'disk', label: 'Windows (iSCSI)', entry: { kind: 'sanboot', disks: [disk(0)] } },
          { id: 'debian', label: 'Debian installer', entry: { kind: 'kernel', kernel: 'http://s/linux', initrds: ['http://s/initrd.gz'], cmdline: 'priority=low' } },
          { id: 'iso', label: 'Rescue ISO', entry: { kind: 'memdisk', memdiskUrl: 'http://s/memdisk', image: 'http://s/rescue.iso', iso: true } },
          { id: 'floppy', label: 'BIOS update', entry: { kind: 'memdisk', memdiskUrl: 'http://s/memdisk', image: 'http://s/bios.img', iso: false } },
          { id: 'shell', label: 'iPXE shell', entry: { kind: 'shell' } },
          { id: 'local', label: 'Local disk', entry: { kind: 'local' } },
        ],
      },
    }),
    text(
      '#!ipxe',
      '# diskless: lab',
      ':menu',
      'menu Lab PC',
      'item disk Windows (iSCSI)',
      'item debian Debian installer',
      'item iso Rescue ISO',
      'item floppy BIOS update',
      'item shell iPXE shell',
      'item local Local disk',
      'choose --default disk --timeout 5000 selected || shell',
      'goto item-${selected}',
      ':item-disk',
      'sanboot iscsi:10.0.0.1::3260:0:iqn.2026-11.org.diskless:pc1 || goto failed',
      'goto menu',
      ':item-debian',
      'kernel http://s/linux priority=low || goto failed',
      'initrd http://s/initrd.gz || goto failed',
      'boot || goto failed',
      'goto menu',
      ':item-iso',
      'kernel http://s/memdisk iso raw || goto failed',
      'initrd http://s/rescue.iso || goto failed',
      'boot || goto failed',
      'goto menu',
      ':item-floppy',
      'kernel http://s/memdisk || goto failed',
      'initrd http://s/bios.img || goto failed',
      'boot || goto failed',
      'goto menu',
      ':item-shell',
      'shell',
      'goto menu',
      ':item-local',
      'echo diskless: booting from the local disk',
      'exit',
      'goto menu',
      ':failed',
      'echo diskless: could not boot lab',
      'echo diskless: trying again in 5 seconds (Ctrl-C for a shell)',
      'sleep 5 || shell',
      'goto menu',
    ),
  );
});

test('pxelinux chain sets the option 210 prefix', () => {
  const script = renderMachineScript({ title: 'old', identity: {}, boot: { kind: 'pxelinux', tftpServer: '10.0.0.1' } });
  assert.match(script, /\nset 210:string tftp:\/\/10\.0\.0\.1\/\nchain tftp:\/\/10\.0\.0\.1\/pxelinux\.0 \|\| goto failed\n/);
});

test('identify and not-registered scripts', () => {
  assert.equal(
    renderIdentifyScript('http://10.0.0.1:8080/boot.ipxe'),
    text('#!ipxe', '# diskless: identify this machine by the MAC it booted from', 'chain http://10.0.0.1:8080/boot.ipxe?mac=${netX/mac:hexhyp} || shell'),
  );
  const screen = renderNotRegisteredScript('52:54:00:00:00:09', 'register it with: diskless machine add 52:54:00:00:00:09', 'http://s/boot.ipxe?mac=52-54-00-00-00-09');
  assert.match(screen, /echo diskless: this machine \(52:54:00:00:00:09\) is not registered\./);
  assert.match(screen, /chain http:\/\/s\/boot\.ipxe\?mac=52-54-00-00-00-09 \|\| goto wait\n$/);
});

test('values with line breaks cannot inject commands', () => {
  assert.throws(() => renderMachineScript({ title: 'x', identity: { chap: { user: 'a\nshell', secret: 'b' } }, boot: { kind: 'shell' } }), RangeError);
  assert.throws(() => renderMachineScript({ title: 'x', identity: {}, boot: { kind: 'chain', url: 'http://a\r\nshell' } }), RangeError);
});
