// IET ietd.conf and initiators.allow: the seed's file exactly, the keywords of ietd.conf(5),
// case and spacing, what is noted instead of imported, and random text.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { isIetInitiatorsAllow, looksLikeIetd, parseIetd } from './ietd.ts';
import { ImportError } from './plan.ts';

const vector = (name: string): string => readFileSync(new URL(`../../test/vectors/import/${name}`, import.meta.url), 'utf8');

describe('parseIetd', () => {
  test('seed 001: one target, one fileio LUN, an alias, empty CHAP placeholders', () => {
    assert.deepEqual(parseIetd(vector('seed-001-ietd.conf'), 'ietd.conf'), {
      disks: [{ name: 'foobar', path: '/media/stuff/iscsi/foobar', readOnly: false, origin: { file: 'ietd.conf', line: 6 } }],
      targets: [{ iqn: 'iqn.2007-01.org.exacnet:foobar.1', alias: 'foobar', luns: [{ lun: 0, disk: 'foobar' }], origin: { file: 'ietd.conf', line: 3 } }],
      machines: [],
      notes: [],
    });
  });

  test('CHAP, IOMode=ro, blockio, nullio, odd case and spacing, session keys noted', () => {
    const text = [
      '# global discovery CHAP',
      'IncomingUser disc secretsecret12',
      '  target   iqn.2001-04.com.example:storage.disk2',
      '\tIncomingUser joe secret12chars',
      '\tincominguser jim othersecret12',
      '\tOutgoingUser jack 12charsecret',
      '\tLun 0 Path=/dev/vg0/pc1,Type=blockio,ScsiSN=SN1',
      '    LUN   1   Path=/srv/iscsi/shared disk.img , type=FILEIO , IOMode=ro',
      '\tLun 2 Blocks=100,BlockSize=512,Type=nullio',
      '\tAlias Test disk',
      '\tMaxConnections 1',
      '\t#Lun 3 Path=/commented/out',
      '\tWthreads 8',
    ].join('\n');
    assert.deepEqual(parseIetd(text, 'ietd.conf'), {
      disks: [
        { name: 'pc1', path: '/dev/vg0/pc1', readOnly: false, origin: { file: 'ietd.conf', line: 7 } },
        { name: 'shared-disk.img', path: '/srv/iscsi/shared disk.img', readOnly: true, origin: { file: 'ietd.conf', line: 8 } },
      ],
      targets: [
        {
          iqn: 'iqn.2001-04.com.example:storage.disk2',
          alias: 'Test disk',
          chap: { user: 'joe', secret: 'secret12chars' },
          mutualChap: { user: 'jack', secret: '12charsecret' },
          luns: [
            { lun: 0, disk: 'pc1' },
            { lun: 1, disk: 'shared-disk.img', readOnly: true },
          ],
          origin: { file: 'ietd.conf', line: 3 },
        },
      ],
      machines: [],
      notes: [
        "ietd.conf:2: IncomingUser disc before any Target is discovery CHAP: not imported, set iscsi.discoveryAuth in diskless's config",
        'ietd.conf:5: IncomingUser jim not imported: diskless takes one CHAP user per target (kept joe)',
        'ietd.conf:7: Lun 0: Type=blockio imported as a plain path; diskless opens /dev/vg0/pc1 like a file',
        'ietd.conf:7: Lun 0: ScsiSN=SN1 not kept: diskless derives its own; Windows may see a new disk',
        'ietd.conf:9: Lun 2 skipped: Type=nullio is a disk of nothing, which diskless does not have',
        'ietd.conf:11: MaxConnections 1 ignored (diskless negotiates it per session)',
        'ietd.conf:13: Wthreads 8 ignored (a tuning knob of IET itself)',
      ],
    });
  });

  test('the same path in two targets is one disk, writable if any LUN writes it', () => {
    const plan = parseIetd(
      ['Target iqn.2026-01.org.example:a', 'Lun 0 Path=/img/base,IOMode=ro', 'Target iqn.2026-01.org.example:b', 'Lun 0 Path=/img/base', 'Lun 1 Path=/other/base'].join('\n'),
      'ietd.conf',
    );
    assert.deepEqual(
      plan.disks.map((d) => [d.name, d.path, d.readOnly]),
      [
        ['base', '/img/base', false],
        ['base-2', '/other/base', false],
      ],
    );
    assert.deepEqual(plan.targets[0]?.luns, [{ lun: 0, disk: 'base', readOnly: true }]);
    assert.deepEqual(plan.targets[1]?.luns, [{ lun: 0, disk: 'base' }, { lun: 1, disk: 'base-2' }]);
  });

  test('a target whose name is not an IQN is skipped with its LUNs; a duplicate target is an error', () => {
    const plan = parseIetd('Target foo\nLun 0 Path=/x\nTarget iqn.2026-01.org.example:ok\nLun 0 Path=/y\n', 'ietd.conf');
    assert.deepEqual(plan.targets.map((t) => t.iqn), ['iqn.2026-01.org.example:ok']);
    assert.deepEqual(plan.disks.map((d) => d.path), ['/y']);
    assert.deepEqual(plan.notes, ['ietd.conf:1: Target foo skipped, with its LUNs: not an iSCSI name (RFC 7143 section 4.2.7)']);
    assert.throws(
      () => parseIetd('Target iqn.2026-01.org.example:a\nTarget IQN.2026-01.org.example:A\n', 'ietd.conf'),
      (err: unknown) => err instanceof ImportError && err.code === 'IMPORT_DUPLICATE_TARGET' && err.line === 2,
    );
    assert.throws(() => parseIetd('Target iqn.2026-01.org.example:a\nLun 0 Path=/a\nLun 0 Path=/b\n', 'ietd.conf'), /ietd\.conf:3: target .* already has LUN 0/);
  });

  test('initiators.allow: names restrict, addresses are noted, ALL applies to every target', () => {
    const plan = parseIetd('Target iqn.2026-01.org.example:a\nLun 0 Path=/a\nTarget iqn.2026-01.org.example:b\nLun 0 Path=/b\n', 'ietd.conf', {
      initiatorsAllow: {
        file: 'initiators.allow',
        text: '# who may log in\niqn.2026-01.org.example:a iqn.1993-08.org.debian:01:pc1, 192.168.22.0/24\nALL iqn.1993-08.org.debian:01:admin\niqn.2026-01.org.example:c ALL\niqn.2026-01.org.example:b 10.0.0.0/8\n',
      },
    });
    assert.deepEqual(plan.targets.map((t) => t.allowedInitiators), [['iqn.1993-08.org.debian:01:pc1', 'iqn.1993-08.org.debian:01:admin'], ['iqn.1993-08.org.debian:01:admin']]);
    assert.deepEqual(plan.notes, [
      'initiators.allow:2: 192.168.22.0/24 not imported: diskless allows initiators by name, not by address',
      'initiators.allow:4: iqn.2026-01.org.example:c is not a target of the imported ietd.conf; line ignored',
      'initiators.allow:5: 10.0.0.0/8 not imported: diskless allows initiators by name, not by address',
    ]);
  });

  test('an address-only allow line leaves the target open, and says so', () => {
    const plan = parseIetd('Target iqn.2026-01.org.example:a\nLun 0 Path=/a\n', 'ietd.conf', { initiatorsAllow: { file: 'initiators.allow', text: 'iqn.2026-01.org.example:a 192.168.1.0/24\n' } });
    assert.equal(plan.targets[0]?.allowedInitiators, undefined);
    assert.match(plan.notes.join('\n'), /initiators\.allow:1: iqn\.2026-01\.org\.example:a was limited by address only: it is now open to every initiator/);
  });

  test('recognised by name or content', () => {
    assert.equal(looksLikeIetd('/etc/iet/ietd.conf', ''), true);
    assert.equal(looksLikeIetd('mine.txt', vector('seed-001-ietd.conf')), true);
    assert.equal(looksLikeIetd('dnsmasq.conf', 'dhcp-boot=pxelinux.0\n'), false);
    assert.equal(isIetInitiatorsAllow('/etc/iet/initiators.allow'), true);
  });

  test('random text throws nothing but ImportError', () => {
    const words = fc.constantFrom('Target', 'Lun', 'Path=', 'IncomingUser', 'OutgoingUser', 'Alias', '#', ',', '=', ' ', '\t', '\n', '0', '16384', 'iqn.2026-01.org.x:y', 'Type=nullio', 'IOMode=ro', '\0');
    fc.assert(
      fc.property(fc.array(fc.oneof(words, fc.string()), { maxLength: 60 }), fc.string(), (parts, allow) => {
        try {
          parseIetd(parts.join(''), 'ietd.conf', { initiatorsAllow: { file: 'initiators.allow', text: allow } });
        } catch (err) {
          if (!(err instanceof ImportError)) throw err;
        }
      }),
      { numRuns: 2000, interruptAfterTimeLimit: 4000 },
    );
  });
});
