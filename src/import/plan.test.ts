// mergePlans across files (ietd.conf + dnsmasq, tgt's LUN renumbering, pxelinux completing a
// dnsmasq host, conflicts) and the shared helpers the parsers build plans with.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { parseDnsmasq } from './dnsmasq.ts';
import { parseIetd } from './ietd.ts';
import { bootFileUrl, bootProblem, DiskNamer, ImportError, mergePlans, normalizeMac, safeName, splitLines, uniqueName, type ImportPlan } from './plan.ts';
import { parsePxelinux } from './pxelinux.ts';
import { parseTgtTargets } from './tgt-targets.ts';

const vector = (name: string): string => readFileSync(new URL(`../../test/vectors/import/${name}`, import.meta.url), 'utf8');
const IQN = 'iqn.2007-01.org.exacnet:foobar.1';

describe('mergePlans', () => {
  test('seed 001: dnsmasq machines boot the target of ietd.conf, with nothing left to note about it', () => {
    const dnsmasq = parseDnsmasq(`dhcp-host=52:54:00:aa:00:01,pc1\ndhcp-option=17,iscsi:192.168.3.3::::${IQN}\n`, 'dnsmasq.conf');
    const plan = mergePlans(parseIetd(vector('seed-001-ietd.conf'), 'ietd.conf'), dnsmasq);
    assert.deepEqual(plan.disks.map((d) => d.name), ['foobar']);
    assert.deepEqual(plan.targets.map((t) => t.iqn), [IQN]);
    assert.deepEqual(plan.machines, [{ mac: '52:54:00:aa:00:01', name: 'pc1', boot: { kind: 'sanboot', disks: [{ target: IQN, lun: 0 }] }, origin: { file: 'dnsmasq.conf', line: 1 } }]);
    assert.deepEqual(plan.notes, [
      `dnsmasq.conf:2: root path iscsi:192.168.3.3::::${IQN} now boots ${IQN} from diskless's own portal instead of 192.168.3.3:3260`,
      "dnsmasq.conf: what machines without a dhcp-host line booted is diskless's unknownMachines setting, in its config file: not applied (shown with the plan)",
    ]);
    assert.deepEqual(plan.unknownMachines, { boot: { kind: 'sanboot', disks: [{ target: IQN, lun: 0 }] }, origin: { file: 'dnsmasq.conf', line: 0 } });
  });

  test("tgt: a root path on LUN 1 boots diskless's LUN 0; LUN 0 (the controller) is pointed at the disk", () => {
    const tgt = parseTgtTargets('<target iqn.2026-01.org.example:pc>\nbacking-store /srv/pc.img\n</target>\n', 'targets.conf');
    const hosts = parseDnsmasq(
      ['dhcp-host=52:54:00:00:00:01,set:one,pc1', 'dhcp-host=52:54:00:00:00:02,pc2', 'dhcp-option=tag:one,17,iscsi:10.0.0.1:::1:iqn.2026-01.org.example:pc', 'dhcp-option=17,iscsi:10.0.0.1::::iqn.2026-01.org.example:pc'].join('\n'),
      'dnsmasq.conf',
    );
    const plan = mergePlans(tgt, hosts);
    assert.deepEqual(plan.machines.map((m) => m.boot), [
      { kind: 'sanboot', disks: [{ target: 'iqn.2026-01.org.example:pc', lun: 0 }] },
      { kind: 'sanboot', disks: [{ target: 'iqn.2026-01.org.example:pc', lun: 0 }] },
    ]);
    const notes = plan.notes.join('\n');
    assert.match(notes, /dnsmasq\.conf:1: machine pc1 booted LUN 1 of iqn\.2026-01\.org\.example:pc, which diskless numbers 0 \(tgt keeps LUN 0 for its controller\)/);
    assert.deepEqual(plan.unknownMachines?.boot, { kind: 'sanboot', disks: [{ target: 'iqn.2026-01.org.example:pc', lun: 0 }] }, 'the fallback follows the renumbering too');
    assert.match(notes, /dnsmasq\.conf:2: machine pc2 pointed at LUN 0 of iqn\.2026-01\.org\.example:pc, tgt's controller rather than a disk, so it never booted; it now boots the target's first disk/);
  });

  test('references to targets no file defines, or to missing LUNs, are noted', () => {
    const plan = mergePlans(
      parseIetd(vector('seed-001-ietd.conf'), 'ietd.conf'),
      parseDnsmasq(`dhcp-host=52:54:00:00:00:01,pc1\ndhcp-host=52:54:00:00:00:02,set:x,pc2\ndhcp-option=17,iscsi:s::::iqn.2026-01.org.example:elsewhere\ndhcp-option=tag:x,17,iscsi:s:::5:${IQN}\n`, 'd.conf'),
    );
    const notes = plan.notes.join('\n');
    assert.match(notes, /d\.conf:1: machine pc1 boots target iqn\.2026-01\.org\.example:elsewhere, which no imported file defines: it must already exist on this server/);
    assert.match(notes, /d\.conf:2: machine pc2 boots LUN 5 of iqn\.2007-01\.org\.exacnet:foobar\.1, which has no such LUN/);
  });

  test('disks: one per path across files, clashing names renamed and the LUNs follow', () => {
    const a = parseIetd('Target iqn.2026-01.org.example:a\nLun 0 Path=/srv/a/disk.img\nLun 1 Path=/srv/shared.img,IOMode=ro\n', 'ietd.conf');
    const b = parseTgtTargets('<target iqn.2026-01.org.example:b>\nbacking-store /srv/b/disk.img\nbacking-store /srv/shared.img\n</target>\n', 'targets.conf');
    const plan = mergePlans(a, b);
    assert.deepEqual(plan.disks.map((d) => [d.name, d.path, d.readOnly]), [
      ['disk.img', '/srv/a/disk.img', false],
      ['shared.img', '/srv/shared.img', false],
      ['disk.img-2', '/srv/b/disk.img', false],
    ]);
    assert.deepEqual(plan.targets[1]?.luns.map((l) => l.disk), ['disk.img-2', 'shared.img']);
    assert.match(plan.notes.join('\n'), /targets\.conf:2: disk disk\.img renamed disk\.img-2, because another file already has a disk of that name for another path/);
  });

  test('a target twice: the same definition is imported once, another one is an error naming both lines', () => {
    const one = parseIetd(vector('seed-001-ietd.conf'), 'a/ietd.conf');
    const same = parseIetd(vector('seed-001-ietd.conf'), 'b/ietd.conf');
    assert.equal(mergePlans(one, same).targets.length, 1);
    assert.match(mergePlans(one, same).notes.join('\n'), /b\/ietd\.conf:3: target .* is defined the same way at a\/ietd\.conf:3; imported once/);
    const other = parseIetd(`Target ${IQN}\nLun 0 Path=/elsewhere\n`, 'c/ietd.conf');
    assert.throws(() => mergePlans(one, other), (err: unknown) => err instanceof ImportError && err.code === 'IMPORT_MERGE_CONFLICT' && /c\/ietd\.conf:1: target .* also defined at a\/ietd\.conf:3/.test(err.message));
  });

  test('a pxelinux.cfg file completes the dnsmasq host that boots pxelinux; names clash across files', () => {
    const dnsmasq = parseDnsmasq('dhcp-boot=pxelinux.0\ndhcp-host=52:54:00:12:34:56,kiosk\ndhcp-host=52:54:00:12:34:57,machine-525400aabbcc\n', 'dnsmasq.conf');
    const pxe = parsePxelinux('LABEL x\nKERNEL vmlinuz\n', 'pxelinux.cfg/01-52-54-00-12-34-56');
    const other = parsePxelinux('LABEL y\nLOCALBOOT 0\n', 'pxelinux.cfg/01-52-54-00-aa-bb-cc');
    const plan = mergePlans(pxe, dnsmasq, other);
    assert.deepEqual(plan.machines.map((m) => [m.mac, m.name, m.boot.kind]), [
      ['52:54:00:12:34:56', 'kiosk', 'kernel'],
      ['52:54:00:12:34:57', 'machine-525400aabbcc', 'pxelinux'],
      ['52:54:00:aa:bb:cc', 'machine-525400aabbcc-2', 'local'],
    ]);
    assert.match(plan.notes.join('\n'), /pxelinux\.cfg\/01-52-54-00-aa-bb-cc:1: machine 52:54:00:aa:bb:cc renamed machine-525400aabbcc-2/);
  });

  test('a target that allows one initiator gives the machine that name; two make a warning', () => {
    const target = (allowed: string): ImportPlan =>
      parseIetd(`Target ${IQN}\nLun 0 Path=/a\n`, 'ietd.conf', { initiatorsAllow: { file: 'initiators.allow', text: `${IQN} ${allowed}\n` } });
    const hosts = parseDnsmasq(`dhcp-host=52:54:00:00:00:01,pc1\ndhcp-option=17,iscsi:s::::${IQN}\n`, 'dnsmasq.conf');
    const one = mergePlans(target('iqn.1993-08.org.debian:01:pc1'), hosts);
    assert.equal(one.machines[0]?.initiatorIqn, 'iqn.1993-08.org.debian:01:pc1');
    assert.match(one.notes.join('\n'), /machine pc1 logs in as iqn\.1993-08\.org\.debian:01:pc1, the only initiator .* allows/);
    const two = mergePlans(target('iqn.1993-08.org.debian:01:a, iqn.1993-08.org.debian:01:b'), hosts);
    assert.equal(two.machines[0]?.initiatorIqn, undefined);
    assert.match(two.notes.join('\n'), /machine pc1 logs in as iqn\.2026-11\.org\.diskless:pc1, which .* does not allow \(iqn\.1993-08\.org\.debian:01:a, iqn\.1993-08\.org\.debian:01:b\): it will be refused/);
  });
});

test('mergePlans of any seed plans in any order throws nothing but ImportError', () => {
  const plans: ImportPlan[] = [
    parseIetd(vector('seed-001-ietd.conf'), 'ietd.conf'),
    parseTgtTargets(vector('tgt-targets.conf'), 'targets.conf'),
    parseDnsmasq(`${vector('seed-000-dnsmasq.conf')}dhcp-host=52:54:00:12:34:56,pc1\n`, 'a.conf'),
    parseDnsmasq(`${vector('seed-001-ipxe-dnsmasq.conf')}dhcp-host=52:54:00:12:34:56,set:t,pc2\ndhcp-option=tag:t,17,iscsi:s:::1:iqn.2008-09.com.example:server.shared\n`, 'b.conf'),
    parsePxelinux(vector('seed-002-pxelinux-boot'), 'pxelinux.cfg/01-52-54-00-12-34-56'),
    parsePxelinux(vector('seed-003-pxelinux-remote1'), 'pxelinux.cfg/01-52-54-00-12-34-56'),
    parsePxelinux('label a\nkernel k\n', 'pxelinux.cfg/default'),
  ];
  fc.assert(
    fc.property(fc.array(fc.constantFrom(...plans), { maxLength: 6 }), (picked) => {
      try {
        const merged = mergePlans(...picked);
        assert.equal(new Set(merged.machines.map((m) => m.name)).size, merged.machines.length, 'machine names stay unique');
        assert.equal(new Set(merged.disks.map((d) => d.name)).size, merged.disks.length, 'disk names stay unique');
      } catch (err) {
        if (!(err instanceof ImportError)) throw err;
      }
    }),
    { numRuns: 300 },
  );
});

describe('plan helpers', () => {
  test('normalizeMac, safeName, uniqueName', () => {
    assert.equal(normalizeMac('52-54-00-AB-0-1'), '52:54:00:ab:00:01');
    assert.equal(normalizeMac('52:54:00:ab:00'), null);
    assert.equal(normalizeMac('52:54:00:ab:00:zz'), null);
    assert.equal(safeName('.my disk (1).img'), 'my-disk-1-.img');
    assert.equal(safeName('x'.repeat(80)).length, 63);
    const taken = new Set(['a']);
    assert.deepEqual([uniqueName('a', taken), uniqueName('a', taken), uniqueName('b', taken)], ['a-2', 'a-3', 'b']);
  });

  test('DiskNamer: names from the file, a fallback for odd paths, one disk per path', () => {
    const namer = new DiskNamer();
    const at = { file: 'f', line: 1 };
    assert.deepEqual([namer.add('/srv/pc1.img', true, at, 'x'), namer.add('/', false, at, 'pc1-lun0'), namer.add('/srv/pc1.img', false, at, 'x')], ['pc1.img', 'pc1-lun0', 'pc1.img']);
    assert.deepEqual(namer.disks.map((d) => d.readOnly), [false, false]);
  });

  test('bootFileUrl: TFTP paths under /files/, URLs kept, other schemes refused', () => {
    assert.equal(bootFileUrl('pxelinux.0'), '/files/pxelinux.0');
    assert.equal(bootFileUrl('/boot/vmlinuz'), '/files/boot/vmlinuz');
    assert.equal(bootFileUrl('::/boot/vmlinuz'), '/files/boot/vmlinuz');
    assert.equal(bootFileUrl('Boot\\pxeboot.n12'), '/files/Boot/pxeboot.n12');
    assert.equal(bootFileUrl('HTTP://x/y'), 'HTTP://x/y');
    assert.equal(bootFileUrl('ftp://x/y'), null);
    assert.equal(bootFileUrl(''), null);
  });

  test('bootProblem names what the API would refuse', () => {
    assert.equal(bootProblem({ kind: 'local' }), null);
    assert.match(bootProblem({ kind: 'sanboot', disks: [] }) ?? '', /disks: sanboot needs at least one disk/);
  });

  test('splitLines refuses binary input with the line of the NUL', () => {
    assert.deepEqual(splitLines('a\r\nb\rc\n', 'f'), ['a', 'b', 'c', '']);
    assert.throws(() => splitLines('a\nb\0', 'f'), (err: unknown) => err instanceof ImportError && err.code === 'IMPORT_NOT_TEXT' && err.line === 2);
  });
});
