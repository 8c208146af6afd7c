import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatIscsiRootPath, renderSanbootScript } from './boot-script.ts';

const disk = { server: '10.0.2.2', port: 3260, lun: 0, target: 'iqn.2026-11.org.diskless:demo' };

test('root path follows iPXE iscsi:server:proto:port:lun:target', () => {
  assert.equal(formatIscsiRootPath(disk), 'iscsi:10.0.2.2::3260:0:iqn.2026-11.org.diskless:demo');
  assert.equal(formatIscsiRootPath({ ...disk, server: 'fd00::1' }), 'iscsi:[fd00::1]::3260:0:iqn.2026-11.org.diskless:demo');
});

test('plain sanboot script, exact text', () => {
  assert.equal(
    renderSanbootScript({ disk }),
    [
      '#!ipxe',
      '# diskless: boot from iqn.2026-11.org.diskless:demo LUN 0',
      ':boot',
      'sanboot iscsi:10.0.2.2::3260:0:iqn.2026-11.org.diskless:demo || goto failed',
      ':failed',
      'echo diskless: could not boot from iscsi:10.0.2.2::3260:0:iqn.2026-11.org.diskless:demo',
      'echo diskless: trying again in 5 seconds (Ctrl-C for a shell)',
      'sleep 5 || shell',
      'goto boot',
      '',
    ].join('\n'),
  );
});

test('CHAP, mutual CHAP and initiator IQN become iPXE settings', () => {
  const text = renderSanbootScript({
    disk,
    initiatorIqn: 'iqn.2026-11.org.diskless:pc1',
    chap: { user: 'pc1', secret: 'secret-one-12' },
    mutualChap: { user: 'target', secret: 'secret-two-12' },
    retrySeconds: 2,
  });
  assert.equal(
    text.split('\n').slice(2, 7).join('\n'),
    [
      'set initiator-iqn iqn.2026-11.org.diskless:pc1',
      'set username pc1',
      'set password secret-one-12',
      'set reverse-username target',
      'set reverse-password secret-two-12',
    ].join('\n'),
  );
  assert.match(text, /sleep 2 \|\| shell/);
});

test('a value with a line break cannot inject script lines', () => {
  assert.throws(() => renderSanbootScript({ disk, chap: { user: 'x\nshell', secret: 'y' } }), RangeError);
});
