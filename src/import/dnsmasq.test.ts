// dnsmasq configs: the seeds' gPXE/iPXE tricks, dhcp-host variants, tag precedence as dnsmasq
// decides it, RFC 4173 root paths, keep-san, comments and quotes, and random text.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { looksLikeDnsmasq, looksLikeDnsmasqHostsFile, parseDnsmasq, parseIscsiRootPath } from './dnsmasq.ts';
import { ImportError, type ImportMachine } from './plan.ts';

const vector = (name: string): string => readFileSync(new URL(`../../test/vectors/import/${name}`, import.meta.url), 'utf8');
const IQN = 'iqn.2007-01.org.exacnet:foobar.1';
const machines = (text: string): Omit<ImportMachine, 'origin'>[] => parseDnsmasq(text, 'dnsmasq.conf').machines.map(({ origin: _o, ...m }) => m);

describe('parseDnsmasq: the seeds', () => {
  test('seed 000: gPXE tagged by option 175 boots WinPE; the incomplete root path is noted', () => {
    // The write-up has no dhcp-host; one is added so that there is a machine to import.
    assert.deepEqual(parseDnsmasq(`${vector('seed-000-dnsmasq.conf')}dhcp-host=52:54:00:12:34:56,win7\n`, 'dnsmasq.conf'), {
      disks: [],
      targets: [],
      machines: [{ mac: '52:54:00:12:34:56', name: 'win7', boot: { kind: 'chain', url: '/files/Boot/startrom.n12' }, origin: { file: 'dnsmasq.conf', line: 9 } }],
      notes: [
        'dnsmasq.conf:4: dhcp-match tag gpxe no longer needed: diskless tells iPXE apart and chainloads it itself',
        "dnsmasq.conf:7: Boot/startrom.n12 is chained from diskless's boot folder (/files/Boot/startrom.n12): copy it there",
        'dnsmasq.conf:8: root path iscsi: skipped: it has fewer than the six fields RFC 4173 requires',
        "dnsmasq.conf: what machines without a dhcp-host line booted is diskless's unknownMachines setting, in its config file: not applied (shown with the plan)",
      ],
      unknownMachines: { boot: { kind: 'chain', url: '/files/Boot/startrom.n12' }, origin: { file: 'dnsmasq.conf', line: 0 } },
    });
  });

  test('seed 000 with a complete root path: iPXE hooked the disk, then ran WinPE: an install entry', () => {
    const text = vector('seed-000-dnsmasq.conf').replace('"iscsi:"', `"iscsi:192.168.0.2::::${IQN}"`);
    assert.deepEqual(machines(`${text}dhcp-host=52:54:00:12:34:56,win7\n`), [
      { mac: '52:54:00:12:34:56', name: 'win7', boot: { kind: 'install', disk: { target: IQN, lun: 0 }, installer: { kind: 'chain', url: '/files/Boot/startrom.n12' } } },
    ]);
  });

  test('seed 001: the iPXE user-class trick chains the HTTP script; no dhcp-host, so only a note', () => {
    assert.deepEqual(parseDnsmasq(vector('seed-001-ipxe-dnsmasq.conf'), 'dnsmasq.conf'), {
      disks: [],
      targets: [],
      machines: [],
      notes: [
        'dnsmasq.conf:3: dhcp-boot undionly.kpxe no longer needed: diskless hands iPXE to PXE ROMs itself',
        'dnsmasq.conf:4: dhcp-userclass tag iPXE-booted no longer needed: diskless tells iPXE apart and chainloads it itself',
        'dnsmasq.conf:5: http://192.168.3.3/pxe/boot.gpxe is chained as before',
        "dnsmasq.conf:6: enable-tftp not imported: diskless serves TFTP and /files/ from its own boot folder; copy the boot files there",
        "dnsmasq.conf:7: tftp-root=/tmp not imported: diskless serves TFTP and /files/ from its own boot folder; copy the boot files there",
        "dnsmasq.conf: what machines without a dhcp-host line booted is diskless's unknownMachines setting, in its config file: not applied (shown with the plan)",
      ],
      unknownMachines: { boot: { kind: 'chain', url: 'http://192.168.3.3/pxe/boot.gpxe' }, origin: { file: 'dnsmasq.conf', line: 0 } },
    });
  });

  test('seed 001, gPXE spelling, with hosts: each gets the chained script', () => {
    assert.deepEqual(machines(`${vector('seed-001-gpxe-dnsmasq.conf')}dhcp-host=00:1B:21:0A:0B:0C,dos-pc\ndhcp-host=00-1b-21-0a-0b-0d\n`), [
      { mac: '00:1b:21:0a:0b:0c', name: 'dos-pc', boot: { kind: 'chain', url: 'http://192.168.3.3/pxe/boot.gpxe' } },
      { mac: '00:1b:21:0a:0b:0d', name: 'machine-001b210a0b0d', boot: { kind: 'chain', url: 'http://192.168.3.3/pxe/boot.gpxe' } },
    ]);
  });
});

describe('parseDnsmasq: hosts, tags and options', () => {
  test('a root path per host tag: sanboot of that target and LUN, keep-san from option 175.8', () => {
    const text = [
      'dhcp-host=52:54:00:00:00:01,set:diskless,pc1',
      'dhcp-host=52:54:00:00:00:02 , set:diskless , pc2 , 10.0.0.12 , infinite',
      'dhcp-host=52:54:00:00:00:03,pc3',
      `dhcp-option=tag:diskless,17,"iscsi:10.0.0.1::3260:1:${IQN}"`,
      `dhcp-option=option:root-path,iscsi:10.0.0.1::::iqn.2026-01.org.example:other`,
      'dhcp-option=encap:175, 8, 1',
    ].join('\n');
    assert.deepEqual(machines(text), [
      { mac: '52:54:00:00:00:01', name: 'pc1', group: 'diskless', boot: { kind: 'sanboot', disks: [{ target: IQN, lun: 1 }], keepSan: true } },
      { mac: '52:54:00:00:00:02', name: 'pc2', group: 'diskless', boot: { kind: 'sanboot', disks: [{ target: IQN, lun: 1 }], keepSan: true } },
      { mac: '52:54:00:00:00:03', name: 'pc3', boot: { kind: 'sanboot', disks: [{ target: 'iqn.2026-01.org.example:other', lun: 0 }], keepSan: true } },
    ]);
  });

  test('tagged beats untagged, and the last matching line wins (dnsmasq prepends its lists)', () => {
    const text = [
      'dhcp-host=52:54:00:00:00:01,net:a,pc1',
      'dhcp-boot=tag:a,http://x/first.ipxe',
      'dhcp-boot=http://x/untagged.ipxe',
      'dhcp-boot=tag:a,http://x/second.ipxe',
      'dhcp-boot=tag:a,tag:!known,http://x/never.ipxe',
    ].join('\n');
    assert.deepEqual(machines(text).map((m) => m.boot), [{ kind: 'chain', url: 'http://x/second.ipxe' }]);
  });

  test('dhcp-host fields: several MACs, hardware type, client id, ignore, wildcard, odd names', () => {
    const plan = parseDnsmasq(
      [
        'dhcp-boot=pxelinux.0,boothost,10.0.0.5',
        'dhcp-host=11:22:33:44:55:66,12:34:56:78:90:12,laptop,192.168.0.2',
        'dhcp-host=06-00:20:e0:3b:13:af,wap',
        'dhcp-host=id:01:02:03:04,clientid-only',
        'dhcp-host=52:54:00:00:00:09,ignore',
        'dhcp-host=52:54:00:*:*:*,wild',
        'dhcp-host=52:54:00:00:00:0a,my host!',
        'dhcp-host=52:54:00:00:00:0b,tag:lab,pc11',
      ].join('\n'),
      'dnsmasq.conf',
    );
    assert.deepEqual(
      plan.machines.map((m) => [m.mac, m.name, m.boot.kind]),
      [
        ['11:22:33:44:55:66', 'laptop', 'pxelinux'],
        ['12:34:56:78:90:12', 'laptop-2', 'pxelinux'],
        ['00:20:e0:3b:13:af', 'wap', 'pxelinux'],
        ['52:54:00:00:00:0a', 'my-host', 'pxelinux'],
        ['52:54:00:00:00:0b', 'pc11', 'pxelinux'],
      ],
    );
    assert.deepEqual(plan.notes, [
      "dnsmasq.conf:1: pxelinux.0 becomes diskless's pxelinux entry: import the pxelinux.cfg files too, and copy what they load into diskless's boot folder",
      'dnsmasq.conf:2: dhcp-host 11:22:33:44:55:66,12:34:56:78:90:12: 192.168.0.2 not imported (diskless does not reserve addresses or lease times per machine)',
      'dnsmasq.conf:4: dhcp-host id:01:02:03:04,clientid-only not imported: it matches a client ID, and diskless knows machines by MAC',
      'dnsmasq.conf:5: dhcp-host 52:54:00:00:00:09,ignore not imported: dnsmasq ignores that client',
      'dnsmasq.conf:6: dhcp-host 52:54:00:*:*:* skipped: diskless registers whole MAC addresses, not wildcards',
      'dnsmasq.conf:6: dhcp-host 52:54:00:*:*:*,wild not imported: it has no MAC address',
      "dnsmasq.conf:7: dhcp-host name my host! is not a machine name (letters, digits, '.', '-', '_'); used my-host instead",
      'dnsmasq.conf:8: dhcp-host condition tag:lab dropped: the machine is imported as if it always applied',
      "dnsmasq.conf: what machines without a dhcp-host line booted is diskless's unknownMachines setting, in its config file: not applied (shown with the plan)",
    ]);
    assert.deepEqual(plan.unknownMachines?.boot, { kind: 'pxelinux' });
  });

  test('a boot file on another TFTP server is fetched from there; option 203 names the initiator', () => {
    const text = ['dhcp-host=52:54:00:00:00:01,pc1', 'dhcp-boot=boot/menu.ipxe,,192.168.1.5', 'dhcp-option=203,iqn.1993-08.org.debian:01:pc1'].join('\n');
    assert.deepEqual(machines(text), [{ mac: '52:54:00:00:00:01', name: 'pc1', initiatorIqn: 'iqn.1993-08.org.debian:01:pc1', boot: { kind: 'chain', url: 'tftp://192.168.1.5/boot/menu.ipxe' } }]);
  });

  test('a host with nothing to boot, an NFS root and an iPXE loop are noted, not imported', () => {
    const plan = parseDnsmasq(['dhcp-host=52:54:00:00:00:01,pc1', 'dhcp-option=17,192.168.0.1:/nfsroot', 'dhcp-boot=undionly.kpxe'].join('\n'), 'dnsmasq.conf');
    assert.deepEqual(plan.machines, []);
    assert.deepEqual(plan.notes, [
      'dnsmasq.conf:1: dhcp-host 52:54:00:00:00:01 not imported: no boot file or iSCSI root path applies to it',
      'dnsmasq.conf:2: root path 192.168.0.1:/nfsroot not imported: diskless boots iSCSI disks',
      'dnsmasq.conf:3: dhcp-boot undionly.kpxe no longer needed: diskless hands iPXE to PXE ROMs itself',
    ]);
  });

  test("comments: '#' after white space or first; net:# negates; quotes keep commas and '#'", () => {
    const text = [
      '   # a comment line',
      'dhcp-match=set:ipxe,175',
      'dhcp-boot=net:#ipxe,undionly.kpxe   # first stage',
      'dhcp-boot=tag:ipxe,"http://x/a,b#c.ipxe" # the script',
      'dhcp-host=52:54:00:00:00:01,pc1#not-a-comment',
    ].join('\n');
    assert.deepEqual(machines(text), [{ mac: '52:54:00:00:00:01', name: 'pc1-not-a-comment', boot: { kind: 'chain', url: 'http://x/a,b#c.ipxe' } }]);
    assert.throws(() => parseDnsmasq('dhcp-boot="http://x/unterminated\n', 'dnsmasq.conf'), (err: unknown) => err instanceof ImportError && err.code === 'IMPORT_UNTERMINATED_QUOTE' && err.line === 1);
  });

  test('a dhcp-hostsfile is read as dhcp-host lines', () => {
    const plan = parseDnsmasq('# hosts\n52:54:00:00:00:01,pc1\n52:54:00:00:00:02,pc2,infinite\n', 'hosts', { hostsFile: true });
    assert.deepEqual(plan.machines, []);
    assert.match(plan.notes.join('\n'), /hosts:2: dhcp-host 52:54:00:00:00:01 not imported: no boot file/);
    assert.equal(looksLikeDnsmasqHostsFile('hosts', '# hosts\n52:54:00:00:00:01,pc1\n'), true);
    assert.equal(looksLikeDnsmasq('/etc/dnsmasq.d/pxe.conf', ''), true);
    assert.equal(looksLikeDnsmasq('x', 'dhcp-boot=pxelinux.0\n'), true);
  });
});

describe('parseIscsiRootPath (RFC 4173 section 5)', () => {
  test('fields, defaults, IPv6 servers, hexadecimal LUNs and bad paths', () => {
    assert.deepEqual(parseIscsiRootPath(`iscsi:192.168.1.14::::${IQN}`), { ok: true, server: '192.168.1.14', port: 3260, ref: { target: IQN, lun: 0 }, hexLun: false });
    assert.deepEqual(parseIscsiRootPath(`iscsi:[fe80::1]:6:3261:10:${IQN}`), { ok: true, server: 'fe80::1', port: 3261, ref: { target: IQN, lun: 16 }, hexLun: true });
    assert.deepEqual(parseIscsiRootPath(`iscsi:s:::4001-0000:${IQN}`), { ok: true, server: 's', port: 3260, ref: { target: IQN, lun: 1 }, hexLun: false });
    assert.equal(parseIscsiRootPath(`iscsi:s:17:::${IQN}`).ok, false);
    assert.equal(parseIscsiRootPath('iscsi:s::::iqn.example.com:win7').ok, false);
    assert.equal(parseIscsiRootPath(`iscsi:s::99999::${IQN}`).ok, false);
    assert.equal(parseIscsiRootPath(`iscsi:s:::zz:${IQN}`).ok, false);
    assert.equal(parseIscsiRootPath('nfs:/x').ok, false);
  });

  test('the root paths of the seeds', () => {
    // seed 004 (OpenELEC): the Synology target; seed 001: the IET target of its ietd.conf.
    assert.deepEqual(parseIscsiRootPath('iscsi:192.168.1.14::::iqn.2000-01.com.synology:pandora.openelec'), {
      ok: true,
      server: '192.168.1.14',
      port: 3260,
      ref: { target: 'iqn.2000-01.com.synology:pandora.openelec', lun: 0 },
      hexLun: false,
    });
    assert.deepEqual(parseIscsiRootPath('iscsi:192.168.3.3::::iqn.2001-01.org.exacnet:foobar.1').ok, true);
    // seed 000 gives the template with placeholders, and the bare "iscsi:" of its dnsmasq line.
    assert.deepEqual(parseIscsiRootPath('iscsi:<iscsi server ip>::<iscsi port>:<iscsi lun>:<iscsi target id>'), { ok: false, why: 'port <iscsi port> is not a TCP port' });
    assert.deepEqual(parseIscsiRootPath('iscsi:'), { ok: false, why: 'it has fewer than the six fields RFC 4173 requires' });
  });
});

test('parseDnsmasq: random text throws nothing but ImportError', () => {
  const words = fc.constantFrom('dhcp-host=', 'dhcp-boot=', 'dhcp-option=', 'dhcp-match=', 'tag-if=', 'tag:', 'set:', 'net:#', '17,', '175,', 'encap:175,', 'iscsi:', '::::', '52:54:00:00:00:01', ',', '"', '\\', '#', ' ', '\n', '=');
  fc.assert(
    fc.property(fc.array(fc.oneof(words, fc.string()), { maxLength: 60 }), fc.boolean(), (parts, hostsFile) => {
      try {
        parseDnsmasq(parts.join(''), 'dnsmasq.conf', { hostsFile });
      } catch (err) {
        if (!(err instanceof ImportError)) throw err;
      }
    }),
    { numRuns: 2000, interruptAfterTimeLimit: 4000 },
  );
});
