import { test } from 'node:test';
import assert from 'node:assert/strict';
import { renderMetrics } from './metrics.ts';

test('Prometheus text: per-target iSCSI series, DHCP and TFTP counters, escaped labels', () => {
  const text = renderMetrics({
    iscsiTargets: () => new Map([['iqn.2026-11.a:"b"', { bytesRead: 4096, bytesWritten: 512, commands: 9, sessions: 2 }]]),
    dhcp: () => ({ received: 10, malformed: 1, replies: 8, ignored: 1, errors: 0, byType: { DISCOVER: 5, REQUEST: 4 } }),
    tftp: () => ({ active: 0, started: 3, completed: 2, failed: 1, refused: 0, malformed: 0, bytes: 123 }),
  });
  assert.match(text, /^# HELP diskless_iscsi_sessions Live iSCSI sessions per target\.\n# TYPE diskless_iscsi_sessions gauge\ndiskless_iscsi_sessions\{target="iqn\.2026-11\.a:\\"b\\""\} 2\n/);
  assert.match(text, /\ndiskless_iscsi_read_bytes_total\{target="iqn\.2026-11\.a:\\"b\\""\} 4096\n/);
  assert.match(text, /\ndiskless_dhcp_messages_total\{type="DISCOVER"\} 5\ndiskless_dhcp_messages_total\{type="REQUEST"\} 4\n/);
  assert.match(text, /\ndiskless_tftp_transfers_total\{outcome="failed"\} 1\n/);
  assert.ok(text.endsWith('\n'));
});
