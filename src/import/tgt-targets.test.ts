// tgt targets.conf: blocks, LUN numbering as tgt-admin does it (explicit first, then backing
// stores and direct stores in path order, from 1) and its shift to diskless's 0, notes, errors.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { ImportError } from './plan.ts';
import { looksLikeTgt, parseTgtTargets } from './tgt-targets.ts';

const vector = (name: string): string => readFileSync(new URL(`../../test/vectors/import/${name}`, import.meta.url), 'utf8');
const at = (line: number) => ({ file: 'targets.conf', line });

describe('parseTgtTargets', () => {
  test('the example file: CHAP, allow-lists, tgt-admin LUN order, renumbering, notes', () => {
    assert.deepEqual(parseTgtTargets(vector('tgt-targets.conf'), 'targets.conf'), {
      disks: [
        { name: 'pc1.img', path: '/srv/iscsi/pc1.img', readOnly: false, origin: at(8) },
        { name: 'zz-data.img', path: '/srv/iscsi/zz-data.img', readOnly: true, origin: at(16) },
        { name: 'os.img', path: '/srv/iscsi/os.img', readOnly: true, origin: at(17) },
        { name: 'sdd', path: '/dev/sdd', readOnly: true, origin: at(21) },
        { name: 'aa-scratch.img', path: '/srv/iscsi/aa-scratch.img', readOnly: true, origin: at(22) },
      ],
      targets: [
        {
          iqn: 'iqn.2008-09.com.example:server.target1',
          chap: { user: 'pc1', secret: 'secretpass12' },
          mutualChap: { user: 'target1', secret: 'secretpassA' },
          luns: [{ lun: 0, disk: 'pc1.img', sourceLun: 1 }],
          origin: at(7),
        },
        {
          iqn: 'iqn.2008-09.com.example:server.shared',
          allowedInitiators: ['iqn.1993-08.org.debian:01:pc2'],
          luns: [
            // tgt-admin: os.img asked for LUN 3; backing stores by path get 1 and 2; the direct store 4.
            { lun: 0, disk: 'aa-scratch.img', readOnly: true, sourceLun: 1 },
            { lun: 1, disk: 'zz-data.img', readOnly: true, sourceLun: 2 },
            { lun: 2, disk: 'os.img', readOnly: true, sourceLun: 3 },
            { lun: 3, disk: 'sdd', readOnly: true, sourceLun: 4 },
          ],
          origin: at(15),
        },
      ],
      machines: [],
      notes: [
        'targets.conf:4: include /etc/tgt/conf.d/*.conf not followed: pass those files to diskless import as well',
        "targets.conf:7: LUNs of iqn.2008-09.com.example:server.target1 renumbered from tgt's 1, 2, ... to 0, 1, ...: tgt keeps LUN 0 for its controller, diskless puts the first disk there so that it is what machines boot",
        'targets.conf:10: incominguser pc1b not imported: diskless takes one CHAP user per target (kept pc1)',
        'targets.conf:12: initiator-address 192.168.1.2 cannot be expressed (diskless allows initiators by name): iqn.2008-09.com.example:server.target1 is now open to every initiator that passes its CHAP',
        'targets.conf:15: tgt-admin numbered the stores of iqn.2008-09.com.example:server.shared by path, not in file order: /srv/iscsi/aa-scratch.img was LUN 1, /srv/iscsi/zz-data.img was LUN 2, /dev/sdd was LUN 4',
        "targets.conf:15: LUNs of iqn.2008-09.com.example:server.shared renumbered from tgt's 1, 2, ... to 0, 1, ...: tgt keeps LUN 0 for its controller, diskless puts the first disk there so that it is what machines boot",
        'targets.conf:19: vendor_id MyVendor ignored (diskless reports its own INQUIRY data)',
        "targets.conf:21: direct-store /dev/sdd imported as a plain disk: diskless does not pass the device's own identity through",
        'targets.conf:24: write-cache off ignored (diskless reports its own caching and flushes on SYNCHRONIZE CACHE)',
        'targets.conf:26: MaxConnections 1 ignored (diskless negotiates it per session)',
      ],
    });
  });

  test('spacing, key = value, escaped #, C comments, continuation lines and case in block names', () => {
    const text = [
      '/* a C comment',
      '   over two lines */',
      '<TARGET   iqn.2026-01.org.example:pc9 >',
      '  backing-store = "/srv/with\\#hash.img"',
      '  incominguser pc9 \\',
      '      secretpass99',
      '</Target>',
    ].join('\n');
    const plan = parseTgtTargets(text, 'targets.conf');
    assert.deepEqual(plan.disks, [{ name: 'with-hash.img', path: '/srv/with#hash.img', readOnly: false, origin: at(4) }]);
    assert.deepEqual(plan.targets[0]?.chap, { user: 'pc9', secret: 'secretpass99' });
    assert.deepEqual(plan.targets[0]?.luns, [{ lun: 0, disk: 'with-hash.img', sourceLun: 1 }]);
  });

  test('stores diskless cannot serve are skipped and noted', () => {
    const plan = parseTgtTargets(
      ['<target iqn.2026-01.org.example:odd>', '<backing-store /srv/cd.iso>', 'device-type cd', '</backing-store>', '<backing-store rbd/pool/img>', 'bs-type rbd', '</backing-store>', '</target>', '<target not-an-iqn>', 'backing-store /x', '</target>'].join('\n'),
      'targets.conf',
    );
    assert.deepEqual(plan.disks, []);
    assert.deepEqual(plan.targets.map((t) => [t.iqn, t.luns.length]), [['iqn.2026-01.org.example:odd', 0]]);
    assert.deepEqual(plan.notes, [
      'targets.conf:1: target iqn.2026-01.org.example:odd has no store it could import; it is created without disks',
      'targets.conf:3: /srv/cd.iso skipped: device-type cd, and diskless exports disks only',
      'targets.conf:6: rbd/pool/img skipped: bs-type rbd is not a file or block device diskless can open',
      'targets.conf:9: <target not-an-iqn> skipped: not an iSCSI name (RFC 7143 section 4.2.7)',
    ]);
  });

  test('unbalanced blocks, duplicate targets and LUNs are errors with the line', () => {
    const fails = (text: string, code: string, line: number): void =>
      assert.throws(() => parseTgtTargets(text, 'targets.conf'), (err: unknown) => err instanceof ImportError && err.code === code && err.line === line);
    fails('<target iqn.2026-01.org.example:a>\nbacking-store /a\n', 'IMPORT_UNBALANCED_BLOCK', 1);
    fails('</target>\n', 'IMPORT_UNBALANCED_BLOCK', 1);
    fails('<target iqn.2026-01.org.example:a>\n<backing-store /a>\n</target>\n', 'IMPORT_UNBALANCED_BLOCK', 3);
    fails('<target iqn.2026-01.org.example:a>\n</target>\n<target iqn.2026-01.org.example:a>\n</target>\n', 'IMPORT_DUPLICATE_TARGET', 3);
    fails('<target iqn.2026-01.org.example:a>\n<backing-store /a>\nlun 2\n</backing-store>\n<backing-store /b>\nlun 2\n</backing-store>\n</target>\n', 'IMPORT_DUPLICATE_LUN', 6);
  });

  test('recognised by name or content', () => {
    assert.equal(looksLikeTgt('/etc/tgt/targets.conf', ''), true);
    assert.equal(looksLikeTgt('/etc/tgt/conf.d/pc1.conf', ''), true);
    assert.equal(looksLikeTgt('x', '<target iqn.2026-01.org.example:a>\n</target>'), true);
    assert.equal(looksLikeTgt('ietd.conf', 'Target iqn.2026-01.org.example:a\n'), false);
  });

  test('random text throws nothing but ImportError', () => {
    const words = fc.constantFrom('<target iqn.2026-01.org.x:y>', '</target>', '<backing-store /a>', '</backing-store>', '<direct-store /b>', 'lun 1', 'lun 0', 'backing-store /c', 'incominguser a', 'readonly 1', '#', '/*', '*/', '\\', '\n', ' ', '=', '"', '<', '>');
    fc.assert(
      fc.property(fc.array(fc.oneof(words, fc.string()), { maxLength: 60 }), (parts) => {
        try {
          parseTgtTargets(parts.join(''), 'targets.conf');
        } catch (err) {
          if (!(err instanceof ImportError)) throw err;
        }
      }),
      { numRuns: 2000, interruptAfterTimeLimit: 4000 },
    );
  });
});
