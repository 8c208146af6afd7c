import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError, loadConfigFile, validateConfig } from './load.ts';

test('the IET ietd.conf example from the seeds is expressible in YAML', () => {
  // Target iqn.2007-01.org.exacnet:foobar.1 / IncomingUser / OutgoingUser /
  // Lun 0 Path=/media/stuff/iscsi/foobar,Type=fileio / Alias foobar
  const dir = mkdtempSync(join(tmpdir(), 'diskless-config-'));
  const file = join(dir, 'diskless.yaml');
  writeFileSync(
    file,
    [
      'targets:',
      '  - iqn: iqn.2007-01.org.exacnet:foobar.1',
      '    alias: foobar',
      '    luns:',
      '      - { lun: 0, path: /media/stuff/iscsi/foobar }',
      '    chap: { user: foobar, secret: incoming-secret }',
      '    mutualChap: { user: target, secret: outgoing-secret }',
      '    initiators: [iqn.2001-01.org.exacnet:foobar]',
    ].join('\n'),
  );
  const config = loadConfigFile(file);
  const target = config.targets[0];
  assert.equal(target?.iqn, 'iqn.2007-01.org.exacnet:foobar.1');
  assert.equal(target?.alias, 'foobar');
  assert.deepEqual(target?.luns, [{ lun: 0, path: '/media/stuff/iscsi/foobar', readOnly: false }]);
  assert.equal(target?.chap?.user, 'foobar');
  assert.equal(target?.mutualChap?.secret, 'outgoing-secret');
  assert.deepEqual(target?.initiators, ['iqn.2001-01.org.exacnet:foobar']);
  assert.equal(config.iscsi.port, 3260);
  assert.ok(Object.isFrozen(config) && Object.isFrozen(config.targets[0]), 'config is frozen after validation');
});

test('errors name the field and say what is expected', () => {
  assert.throws(
    () => validateConfig({ targets: [{ iqn: 'not an iqn', luns: [{ lun: 0, path: '/x' }] }] }),
    (err: unknown) => err instanceof ConfigError && /targets\.0\.iqn: must be an iSCSI name/.test(err.message),
  );
  assert.throws(
    () => validateConfig({ targets: [{ iqn: 'iqn.2026-11.a:b', luns: [] }] }),
    (err: unknown) => err instanceof ConfigError && /targets\.0\.luns: a target needs at least one LUN/.test(err.message),
  );
  assert.throws(
    () => validateConfig({ targets: [{ iqn: 'iqn.2026-11.a:b', luns: [{ lun: 0, path: '/a' }, { lun: 0, path: '/b' }] }] }),
    /has LUN 0 twice/,
  );
});
