import { test } from 'node:test';
import assert from 'node:assert/strict';
import dgram from 'node:dgram';
import pino from 'pino';
import { startDhcpServer } from '../dhcp/server.ts';
import { buildRequest } from '../dhcp/test-requests.ts';
import { MessageType } from '../dhcp/wire/option-codes.ts';
import { decodeDhcpMessage, encodeDhcpMessage, readMessageType } from '../dhcp/wire/packet.ts';
import { Histogram } from '../lib/histogram.ts';
import { VirtualProvider } from '../tftp/files.ts';
import { startTftpServer } from '../tftp/server.ts';
import { encodeClientPacket } from '../tftp/wire-client.ts';
import { decodeServerPacket } from '../tftp/wire.ts';
import { RawInitiator } from '../../test/helpers/initiator.ts';
import { startTestServer, TEST_IQN } from '../../test/helpers/server.ts';
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
  assert.doesNotMatch(text, /_bucket/, 'no histogram samples without histograms');
  assert.ok(text.endsWith('\n'));
});

test('Prometheus text: histograms as cumulative _bucket (le, +Inf last), _sum and _count, labels escaped', () => {
  const h = (values: number[]): Histogram => {
    const histogram = new Histogram([0.001, 0.01, 1]);
    for (const v of values) histogram.observe(v);
    return histogram;
  };
  const text = renderMetrics({
    iscsiTargets: () => new Map([['iqn.x:a\\b\n"c"', { bytesRead: 0, bytesWritten: 0, commands: 4, sessions: 1, commandSeconds: { read: h([0.0005, 0.001, 0.25]), write: h([2]), other: h([]) } }]]),
    dhcp: () => ({ received: 1, malformed: 0, replies: 1, ignored: 0, errors: 0, byType: {}, replySeconds: { ACK: h([0.0078125]) } }),
    tftp: () => ({ active: 0, started: 1, completed: 1, failed: 0, refused: 0, malformed: 0, bytes: 1, transferSeconds: h([0.5]) }),
  });
  const t = 'target="iqn.x:a\\\\b\\n\\"c\\""';
  const expected = [
    '# HELP diskless_iscsi_command_seconds SCSI command latency per target and operation (read, write, other), from admission to the last response PDU queued for sending.',
    '# TYPE diskless_iscsi_command_seconds histogram',
    `diskless_iscsi_command_seconds_bucket{${t},op="read",le="0.001"} 2`,
    `diskless_iscsi_command_seconds_bucket{${t},op="read",le="0.01"} 2`,
    `diskless_iscsi_command_seconds_bucket{${t},op="read",le="1"} 3`,
    `diskless_iscsi_command_seconds_bucket{${t},op="read",le="+Inf"} 3`,
    `diskless_iscsi_command_seconds_sum{${t},op="read"} 0.2515`,
    `diskless_iscsi_command_seconds_count{${t},op="read"} 3`,
    `diskless_iscsi_command_seconds_bucket{${t},op="write",le="0.001"} 0`,
    `diskless_iscsi_command_seconds_bucket{${t},op="write",le="0.01"} 0`,
    `diskless_iscsi_command_seconds_bucket{${t},op="write",le="1"} 0`,
    `diskless_iscsi_command_seconds_bucket{${t},op="write",le="+Inf"} 1`,
    `diskless_iscsi_command_seconds_sum{${t},op="write"} 2`,
    `diskless_iscsi_command_seconds_count{${t},op="write"} 1`,
    `diskless_iscsi_command_seconds_bucket{${t},op="other",le="0.001"} 0`,
    `diskless_iscsi_command_seconds_bucket{${t},op="other",le="0.01"} 0`,
    `diskless_iscsi_command_seconds_bucket{${t},op="other",le="1"} 0`,
    `diskless_iscsi_command_seconds_bucket{${t},op="other",le="+Inf"} 0`,
    `diskless_iscsi_command_seconds_sum{${t},op="other"} 0`,
    `diskless_iscsi_command_seconds_count{${t},op="other"} 0`,
    '',
  ].join('\n');
  assert.ok(text.includes(`\n${expected}`), text);
  assert.match(text, /\n# TYPE diskless_dhcp_reply_seconds histogram\ndiskless_dhcp_reply_seconds_bucket\{reply="ACK",le="0\.001"\} 0\ndiskless_dhcp_reply_seconds_bucket\{reply="ACK",le="0\.01"\} 1\n(?:.*\n){2}diskless_dhcp_reply_seconds_sum\{reply="ACK"\} 0\.0078125\ndiskless_dhcp_reply_seconds_count\{reply="ACK"\} 1\n/);
  assert.match(text, /\n# TYPE diskless_tftp_transfer_seconds histogram\ndiskless_tftp_transfer_seconds_bucket\{le="0\.001"\} 0\n(?:.*\n){3}diskless_tftp_transfer_seconds_sum 0\.5\ndiskless_tftp_transfer_seconds_count 1\n$/);
});

test('Prometheus text: +Inf, -Inf and NaN in Go float syntax', () => {
  const h = new Histogram([1]);
  h.observe(Infinity);
  const text = renderMetrics({ iscsiTargets: () => new Map([['t', { bytesRead: Number.NaN, bytesWritten: 0, commands: -Infinity, sessions: 0, commandSeconds: { read: h, write: h, other: h } }]]) });
  assert.match(text, /\ndiskless_iscsi_read_bytes_total\{target="t"\} NaN\n/);
  assert.match(text, /\ndiskless_iscsi_commands_total\{target="t"\} -Inf\n/);
  assert.match(text, /\ndiskless_iscsi_command_seconds_sum\{target="t",op="read"\} \+Inf\n/);
});

const KEYS: Array<[string, string]> = [
  ['TargetName', TEST_IQN],
  ['SessionType', 'Normal'],
  ['ImmediateData', 'Yes'],
  ['MaxRecvDataSegmentLength', '65536'],
];

function cdb10(opcode: number, lba: number, blocks: number): Buffer {
  const cdb = Buffer.alloc(10);
  cdb[0] = opcode;
  cdb.writeUInt32BE(lba, 2);
  cdb.writeUInt16BE(blocks, 7);
  return cdb;
}

/** One histogram series of diskless_iscsi_command_seconds, parsed back from the text. */
function commandSeconds(text: string, op: string): { le: string[]; buckets: number[]; sum: number; count: number } {
  const labels = `target="${TEST_IQN}",op="${op}"`;
  const le: string[] = [];
  const buckets: number[] = [];
  for (const m of text.matchAll(/^diskless_iscsi_command_seconds_bucket\{(.*),le="([^"]+)"\} (\S+)$/gm)) {
    if (m[1] !== labels) continue;
    le.push(m[2] ?? '');
    buckets.push(Number(m[3]));
  }
  const value = (suffix: string): number => Number(new RegExp(`^diskless_iscsi_command_seconds_${suffix}\\{${labels.replace(/[.:]/g, '\\$&')}\\} (\\S+)$`, 'm').exec(text)?.[1]);
  return { le, buckets, sum: value('sum'), count: value('count') };
}

function assertHistogram(text: string, op: string, count: number): void {
  const h = commandSeconds(text, op);
  assert.deepEqual(h.le, ['0.00005', '0.0001', '0.00025', '0.0005', '0.001', '0.0025', '0.005', '0.01', '0.025', '0.05', '0.1', '0.25', '1', '+Inf'], `${op}: the disk-server buckets`);
  assert.equal(h.count, count, `${op}: _count`);
  assert.equal(h.buckets.at(-1), count, `${op}: +Inf equals _count`);
  for (let i = 1; i < h.buckets.length; i++) assert.ok((h.buckets[i] ?? 0) >= (h.buckets[i - 1] ?? 0), `${op}: cumulative buckets never decrease`);
  assert.ok(h.sum > 0 && h.sum < count * 5, `${op}: _sum ${h.sum} is plausible`);
}

test('/metrics: command latency per target and operation, kept after the session ends', async () => {
  const s = await startTestServer();
  try {
    const ini = await RawInitiator.connect(s.iscsiPort);
    assert.equal((await ini.login(KEYS)).statusClass, 0);
    for (let i = 0; i < 3; i++) await ini.command(cdb10(0x28, i * 8, 8), 4096);
    // Two WRITE(10)s of one block, the data sent as immediate data.
    for (let lba = 100; lba < 102; lba++) {
      ini.send({
        kind: 'scsi-command', immediate: false, final: true, read: false, write: true, taskAttribute: 1, lun: 0n,
        initiatorTaskTag: ini.itt++, expectedDataTransferLength: 512, cmdSn: ini.cmdSn++, expStatSn: ini.expStatSn,
        cdb: Buffer.concat([cdb10(0x2a, lba, 1), Buffer.alloc(6)]), ahs: Buffer.alloc(0), data: Buffer.alloc(512, lba),
      });
      const response = await ini.next();
      assert.equal(response?.kind === 'scsi-response' ? response.status : response?.kind, 0, 'the write succeeds');
    }
    await ini.command(Buffer.alloc(6), 0); // TEST UNIT READY
    const live = (await s.server.http.inject({ url: '/metrics' })).body;
    assert.match(live, /\n# TYPE diskless_iscsi_command_seconds histogram\n/);
    assertHistogram(live, 'read', 3);
    assertHistogram(live, 'write', 2);
    assertHistogram(live, 'other', 1);

    ini.close();
    await ini.waitClosed();
    for (let i = 0; i < 100 && s.server.iscsi.sessions().length > 0; i++) await new Promise((r) => setTimeout(r, 10));
    const after = (await s.server.http.inject({ url: '/metrics' })).body;
    assert.match(after, new RegExp(`\\ndiskless_iscsi_sessions\\{target="${TEST_IQN.replace(/[.:]/g, '\\$&')}"\\} 0\\n`), 'the session ended');
    assert.deepEqual(commandSeconds(after, 'read'), commandSeconds(live, 'read'), 'latencies survive the session');
    assertHistogram(after, 'write', 2);
  } finally {
    await s.stop();
  }
});

/** A UDP socket on loopback and the next datagram it receives. */
async function udpClient(port = 0): Promise<{ socket: dgram.Socket; next: () => Promise<{ msg: Buffer; port: number }> }> {
  const socket = dgram.createSocket({ type: 'udp4', reuseAddr: true });
  await new Promise<void>((resolve) => socket.bind(port, '127.0.0.1', resolve));
  const next = () => new Promise<{ msg: Buffer; port: number }>((resolve) => socket.once('message', (msg, rinfo) => resolve({ msg, port: rinfo.port })));
  return { socket, next };
}

test('/metrics: DHCP reply time by reply type and TFTP transfer time, as main.ts wires the stats', async () => {
  const log = pino({ level: 'silent' });
  const base = 20000 + Math.floor(Math.random() * 20000);
  const ports = { dhcp: base, pxe: base + 1, client: base + 2 };
  const dhcp = await startDhcpServer({
    mode: 'full', serverAddress: '127.0.0.1', log, ports,
    policy: { decide: (_client, server) => ({ bootFile: 'undionly.kpxe', nextServer: server }) },
    subnets: [{ network: '127.0.0.0', prefixLength: 8, leaseTimeSeconds: 600, pool: { first: '127.0.0.2', last: '127.0.0.20' } }],
  });
  const tftp = await startTftpServer({ address: '127.0.0.1', port: 0, log, provider: new VirtualProvider(new Map([['boot.bin', Buffer.alloc(100, 7)]])) });
  const dhcpClient = await udpClient(ports.client);
  const tftpClient = await udpClient();
  try {
    const reply = dhcpClient.next();
    dhcpClient.socket.send(encodeDhcpMessage(buildRequest({ type: MessageType.Inform, ciaddr: '127.0.0.1', mac: '52:54:00:00:00:01' })), ports.dhcp, '127.0.0.1');
    assert.equal(readMessageType(decodeDhcpMessage((await reply).msg)), MessageType.Ack);

    // One block (100 bytes < 512) and its ACK: the whole transfer.
    const data = tftpClient.next();
    tftpClient.socket.send(encodeClientPacket({ kind: 'rrq', filename: 'boot.bin', mode: 'octet', options: [] }), tftp.port, '127.0.0.1');
    const { msg, port } = await data;
    const packet = decodeServerPacket(msg);
    assert.equal(packet.kind, 'data');
    tftpClient.socket.send(encodeClientPacket({ kind: 'ack', block: 1 }), port, '127.0.0.1');
    for (let i = 0; i < 200 && tftp.stats.completed === 0; i++) await new Promise((r) => setTimeout(r, 5));

    const text = renderMetrics({ iscsiTargets: () => new Map(), dhcp: () => dhcp.stats, tftp: () => tftp.stats });
    assert.match(text, /\n# TYPE diskless_dhcp_reply_seconds histogram\n/);
    assert.match(text, /\ndiskless_dhcp_reply_seconds_bucket\{reply="ACK",le="\+Inf"\} 1\n/);
    assert.match(text, /\ndiskless_dhcp_reply_seconds_count\{reply="ACK"\} 1\n/);
    assert.match(text, /\n# TYPE diskless_tftp_transfer_seconds histogram\n/);
    assert.match(text, /\ndiskless_tftp_transfer_seconds_bucket\{le="\+Inf"\} 1\n/);
    assert.match(text, /\ndiskless_tftp_transfer_seconds_count 1\n/);
    const sum = Number(/\ndiskless_tftp_transfer_seconds_sum (\S+)\n/.exec(text)?.[1]);
    assert.ok(sum > 0 && sum < 5, `transfer took ${sum} s`);
  } finally {
    dhcpClient.socket.close();
    tftpClient.socket.close();
    await tftp.close();
    await dhcp.close();
  }
});
