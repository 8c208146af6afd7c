// pxelinux.cfg files: the seeds' menus and labels, file names (01-<mac>, default, hex IP,
// extlinux.conf), the directives of syslinux.txt/menu.txt in odd case and spacing, random text.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { ImportError } from './plan.ts';
import { looksLikePxelinux, parsePxelinux } from './pxelinux.ts';

const vector = (name: string): string => readFileSync(new URL(`../../test/vectors/import/${name}`, import.meta.url), 'utf8');
const MAC_FILE = 'pxelinux.cfg/01-52-54-00-12-34-56';
const FILES = "paths relative to the TFTP root now point at diskless's boot folder (/files/...): copy those files there";

describe('parsePxelinux: the seeds', () => {
  test('seed 002 pxelinux.cfg/boot as a machine file: a menu; the bad IQN label is noted', () => {
    assert.deepEqual(parsePxelinux(vector('seed-002-pxelinux-boot'), MAC_FILE), {
      disks: [],
      targets: [],
      machines: [
        {
          mac: '52:54:00:12:34:56',
          name: 'machine-525400123456',
          boot: {
            kind: 'menu',
            items: [
              { id: 'boot_local', label: 'Boot Local System', entry: { kind: 'local' } },
              { id: 'WINDOWS_PE', label: 'Windows Preinstallation Exnvironment', entry: { kind: 'chain', url: '/files/windows.pe/pxeboot.0' } },
            ],
            default: 'boot_local',
            timeoutSeconds: 5,
          },
          origin: { file: MAC_FILE, line: 1 },
        },
      ],
      notes: [
        `${MAC_FILE}:12: label boot_san skipped: sanboot iscsi:<iscsi-host>::::iqn.example.com:win7: iqn.example.com:win7 is not an iSCSI name (RFC 7143 section 4.2.7)`,
        `${MAC_FILE}:17: ${FILES}`,
      ],
    });
  });

  test('seed 002 pxelinux.cfg/default: chaining ipxe.lkrn is what diskless already does', () => {
    assert.deepEqual(parsePxelinux(vector('seed-002-pxelinux-default'), 'pxelinux.cfg/default'), {
      disks: [],
      targets: [],
      machines: [],
      notes: [
        'pxelinux.cfg/default:5: label boot skipped: ipxe.lkrn starts iPXE, which diskless has already started',
        'pxelinux.cfg/default: no label in it can be imported, so no machine either',
      ],
    });
  });

  test('seed 002 memdisk labels: the ISO boots through memdisk; the cut-short label is noted', () => {
    const plan = parsePxelinux(vector('seed-002-pxelinux-memdisk'), MAC_FILE);
    assert.deepEqual(plan.machines[0]?.boot, { kind: 'memdisk', image: 'http://<ip-address>/winpe7_x64.iso', iso: true });
    assert.deepEqual(plan.notes, [`${MAC_FILE}:8: label SeaTools skipped: memdisk without an image diskless can fetch`]);
  });

  test('seed 003 in the file the write-up suggests (no 01- prefix): a kernel entry, and a warning', () => {
    assert.deepEqual(parsePxelinux(vector('seed-003-pxelinux-remote1'), 'pxelinux.cfg/aa-bb-cc-dd-ee-ff'), {
      disks: [],
      targets: [],
      machines: [
        {
          mac: 'aa:bb:cc:dd:ee:ff',
          name: 'machine-aabbccddeeff',
          boot: {
            kind: 'kernel',
            kernel: '/files/remote/vmlinuz-2.6.17-5mdv',
            initrds: ['/files/remote/initrd.img'],
            cmdline: 'iscsi_i=iqn.2007-01.com.example:server.remote1 iscsi_i_ip=10.1.1.165/255.255.255.192 iscsi_t=iqn.2007-01.com.example:storage.remote1 iscsi_a=10.1.1.180',
          },
          origin: { file: 'pxelinux.cfg/aa-bb-cc-dd-ee-ff', line: 1 },
        },
      ],
      notes: [`pxelinux.cfg/aa-bb-cc-dd-ee-ff:3: ${FILES}`, 'pxelinux.cfg/aa-bb-cc-dd-ee-ff: pxelinux only reads this file when named 01-aa-bb-cc-dd-ee-ff; imported for aa:bb:cc:dd:ee:ff anyway'],
    });
  });

  test('seed 004 extlinux.conf lives on the disk: nothing to import', () => {
    assert.deepEqual(parsePxelinux(vector('seed-004-extlinux.conf'), 'extlinux.conf'), {
      disks: [],
      targets: [],
      machines: [],
      notes: ['extlinux.conf: this is the boot loader configuration on the disk itself: nothing to import; it runs as before once the machine sanboots that disk'],
    });
  });
});

describe('parsePxelinux: directives', () => {
  test('case, spacing, global APPEND/IPAPPEND, INITRD, APPEND -, MENU HIDE, TEXT HELP, COM32 modules', () => {
    const text = [
      '# odd spacing and case',
      'default  Linux',
      'Append quiet',
      'ipappend 2',
      'label linux',
      '  KERNEL vmlinuz root=/dev/sda1',
      '  initrd initrd.img,extra.img',
      'label rescue',
      '  menu label Rescue ^shell',
      '  linux http://10.0.0.1/rescue/vmlinuz',
      '  append - ',
      '  text help',
      '    boots the rescue kernel',
      '  endtext',
      'label hidden',
      '  menu hide',
      '  kernel secret',
      'label disk',
      '  com32 chain.c32',
      '  append hd0',
      'label other',
      '  kernel pxechn.c32',
      '  append 10.0.0.9::pxelinux.0',
      'label san',
      '  com32 gpxecmd.c32',
      '  append sanboot iscsi:10.0.0.1::::iqn.2026-01.org.example:pc1',
      'say Hello',
    ].join('\n');
    const bootif = 'BOOTIF=01-${netX/mac:hexhyp}';
    assert.deepEqual(parsePxelinux(text, MAC_FILE), {
      disks: [],
      targets: [],
      machines: [
        {
          mac: '52:54:00:12:34:56',
          name: 'machine-525400123456',
          boot: {
            kind: 'menu',
            items: [
              { id: 'linux', label: 'linux', entry: { kind: 'kernel', kernel: '/files/vmlinuz', initrds: ['/files/initrd.img', '/files/extra.img'], cmdline: `root=/dev/sda1 ${bootif}` } },
              { id: 'rescue', label: 'Rescue shell', entry: { kind: 'kernel', kernel: 'http://10.0.0.1/rescue/vmlinuz', initrds: [], cmdline: bootif } },
              { id: 'disk', label: 'disk', entry: { kind: 'local' } },
              { id: 'other', label: 'other', entry: { kind: 'chain', url: 'tftp://10.0.0.9/pxelinux.0' } },
              { id: 'san', label: 'san', entry: { kind: 'sanboot', disks: [{ target: 'iqn.2026-01.org.example:pc1', lun: 0 }] } },
            ],
            default: 'linux',
            timeoutSeconds: 1,
          },
          origin: { file: MAC_FILE, line: 1 },
        },
      ],
      notes: [
        `${MAC_FILE}:2: pxelinux booted linux at once (no PROMPT); the menu boots it after 1 second, leaving the other labels one keypress away`,
        `${MAC_FILE}:5: IPAPPEND 2 approximated with iPXE settings: ${bootif}`,
        `${MAC_FILE}:5: ${FILES}`,
        `${MAC_FILE}:8: IPAPPEND 2 approximated with iPXE settings: ${bootif}`,
        `${MAC_FILE}:15: label hidden skipped: MENU HIDE`,
        `${MAC_FILE}:18: label disk: chain.c32 hd0 approximated as a local boot (the firmware's next boot device)`,
        `${MAC_FILE}:24: label san: sanboot now reaches iqn.2026-01.org.example:pc1 on diskless's own portal instead of 10.0.0.1`,
        `${MAC_FILE}:27: say ignored (it only changes what the screen or console shows)`,
      ],
    });
  });

  test('UI menu with TIMEOUT in tenths, MENU DEFAULT over DEFAULT, labels with spaces', () => {
    const text = ['UI vesamenu.c32', 'MENU TITLE Lab', 'TIMEOUT 95', 'DEFAULT one', 'LABEL one', ' LOCALBOOT 0', 'LABEL Two Words', ' MENU DEFAULT', ' KERNEL memdisk', ' INITRD dos.img'].join('\n');
    assert.deepEqual(parsePxelinux(text, MAC_FILE).machines[0]?.boot, {
      kind: 'menu',
      title: 'Lab',
      items: [
        { id: 'one', label: 'one', entry: { kind: 'local' } },
        { id: 'Two-Words', label: 'Two Words', entry: { kind: 'memdisk', image: '/files/dos.img', iso: false } },
      ],
      default: 'Two-Words',
      timeoutSeconds: 10,
    });
  });

  test('DEFAULT that names no label is a kernel command line; files without a MAC give a note', () => {
    const plan = parsePxelinux('DEFAULT vmlinuz initrd=initrd.gz ro\n', 'pxelinux.cfg/C0A800B5');
    assert.deepEqual(plan.machines, []);
    assert.equal(
      plan.notes[1],
      'pxelinux.cfg/C0A800B5: the file name gives no MAC address, so no machine: register the machines it served with `diskless machine add --boot \'{"kind":"kernel","kernel":"/files/vmlinuz","initrds":["/files/initrd.gz"],"cmdline":"ro"}\'`',
    );
    const fallback = parsePxelinux('label a\nkernel vmlinuz\n', 'pxelinux.cfg/default');
    assert.deepEqual(fallback.machines, []);
    assert.deepEqual(fallback.unknownMachines, { boot: { kind: 'kernel', kernel: '/files/vmlinuz', initrds: [] }, origin: { file: 'pxelinux.cfg/default', line: 0 } });
    assert.match(fallback.notes.join('\n'), /pxelinux\.cfg\/default: what machines without a file of their own booted is diskless's unknownMachines setting/);
  });

  test('recognised by name or content', () => {
    assert.equal(looksLikePxelinux('/srv/tftp/pxelinux.cfg/01-52-54-00-12-34-56', ''), true);
    assert.equal(looksLikePxelinux('default', ''), true);
    assert.equal(looksLikePxelinux('menu.cfg', 'LABEL x\n  KERNEL y\n'), true);
    assert.equal(looksLikePxelinux('dnsmasq.conf', 'dhcp-boot=pxelinux.0\n'), false);
  });

  test('random text throws nothing but ImportError', () => {
    const words = fc.constantFrom('LABEL ', 'KERNEL ', 'LINUX ', 'APPEND ', 'initrd=', 'INITRD ', 'DEFAULT ', 'MENU ', 'LABEL', 'HIDE', 'DEFAULT', 'TEXT HELP', 'ENDTEXT', 'COM32 ', 'gpxecmd.c32', 'sanboot iscsi:', 'memdisk', 'IPAPPEND 7', 'TIMEOUT ', 'UI menu.c32', 'x.0', '\n', ' ', ',', '\0');
    fc.assert(
      fc.property(fc.array(fc.oneof(words, fc.string()), { maxLength: 60 }), fc.constantFrom(MAC_FILE, 'default', 'x', 'extlinux.conf'), (parts, name) => {
        try {
          parsePxelinux(parts.join(''), name);
        } catch (err) {
          if (!(err instanceof ImportError)) throw err;
        }
      }),
      { numRuns: 2000, interruptAfterTimeLimit: 4000 },
    );
  });
});
