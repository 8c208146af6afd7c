// The capture service against real sockets on loopback: a "DHCP server" UDP socket made after
// the service exists (as main.ts makes them), clients made before it (so their own sockets are
// not tapped), and a stand-in tcpdump. Only the machine's traffic lands in the file.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { BootEventLog } from '../events/boot-events.ts';
import { buildRequest } from '../dhcp/test-requests.ts';
import { MessageType } from '../dhcp/wire/option-codes.ts';
import { encodeDhcpMessage } from '../dhcp/wire/packet.ts';
import { CaptureService } from './capture-service.ts';
import { TcpFlag, tcpFrame } from './packet-frames.ts';
import { pcapFileHeader, pcapRecord } from './pcap-format.ts';
import { readPcap } from './test-pcap-reader.ts';

const MAC = '52:54:00:ca:00:01';
const OTHER = '52:54:00:ca:00:02';
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function bindUdp(socket: UdpSocket): Promise<number> {
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
  return socket.address().port;
}

/** A UDP "DHCP server" that answers each message with a BOOTREPLY giving 10.0.0.42. */
function answerDhcp(server: UdpSocket): void {
  server.on('message', (msg, rinfo) => {
    const reply = Buffer.from(msg);
    reply[0] = 2;
    Buffer.from([10, 0, 0, 42]).copy(reply, 16);
    server.send(reply, rinfo.port, rinfo.address);
  });
}

async function freeUdpPort(): Promise<number> {
  const probe = createSocket('udp4');
  const port = await bindUdp(probe);
  await new Promise<void>((resolve) => probe.close(() => resolve()));
  return port;
}

/** A stand-in for tcpdump: says it listens, writes `pcap` to stdout, notes its arguments, waits. */
function fakeTcpdump(dir: string, pcap: Buffer): string {
  const path = join(dir, 'tcpdump');
  writeFileSync(join(dir, 'tcpdump.pcap'), pcap);
  writeFileSync(path, `#!/bin/sh\necho "$@" > ${join(dir, 'tcpdump.args')}\necho "listening on lo, link-type EN10MB" >&2\ncat ${join(dir, 'tcpdump.pcap')}\nexec sleep 30\n`, { mode: 0o755 });
  return path;
}

test('TFTP-like datagrams by address, iSCSI from tcpdump with a filter for the port and the addresses', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'dl-cap-unit-'));
  const client = createSocket('udp4');
  await bindUdp(client);
  const iscsi = tcpFrame({ mac: MAC, ip: '127.0.0.1', port: 40000 }, { mac: '00:00:00:00:00:00', ip: '127.0.0.1', port: 3260 }, { seq: 1, ack: 1, flags: TcpFlag.PSH | TcpFlag.ACK }, Buffer.from('login'));
  const tcpdump = fakeTcpdump(dir, Buffer.concat([pcapFileHeader(), pcapRecord(1_000_000, iscsi)]));
  const service = new CaptureService({ dir, events: new BootEventLog(), dhcpPorts: [], serverAddress: '127.0.0.1', iscsi: { port: 3260, interface: 'lo' }, tcpdump, log: pino({ level: 'silent' }) });
  const server = createSocket('udp4');
  try {
    const serverPort = await bindUdp(server);
    answerDhcp(server);
    const status = await service.start(MAC, { seconds: 30, addresses: ['127.0.0.1'] });
    assert.deepEqual([status.state, status.addresses, status.download], ['running', ['127.0.0.1'], `/api/machines/${MAC}/capture`]);
    assert.deepEqual(status.notes, ['iSCSI through tcpdump on lo (127.0.0.1)']);
    assert.equal(readFileSync(join(dir, 'tcpdump.args'), 'utf8').trim(), '-i lo -U -n --immediate-mode -s 0 -w - tcp port 3260 and (host 127.0.0.1)');
    for (const mac of [MAC, OTHER]) client.send(encodeDhcpMessage(buildRequest({ type: MessageType.Discover, mac, xid: 7 })), serverPort, '127.0.0.1');
    await sleep(100);
    await service.stop(MAC);
    const { packets } = readPcap(readFileSync(join(dir, `${MAC.replace(/:/g, '')}.pcap`)));
    assert.ok(packets.every((p) => p.checksumsOk), 'every checksum adds up');
    // Not on a DHCP port: recognised by address, and on loopback both MACs come from 127.0.0.1.
    assert.equal(packets.filter((p) => p.protocol === 'udp').length, 4);
    const fromTcpdump = packets.filter((p) => p.protocol === 'tcp');
    assert.deepEqual(fromTcpdump.map((p) => [p.atMicros, p.payload.toString()]), [[1_000_000, 'login']]);
  } finally {
    await service.close();
    client.close();
    server.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('no tcpdump: the capture says so and goes on with DHCP and TFTP', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'dl-cap-unit-'));
  const service = new CaptureService({ dir, events: new BootEventLog(), dhcpPorts: [], serverAddress: '127.0.0.1', iscsi: { port: 3260, interface: 'lo' }, tcpdump: join(dir, 'no-such-tcpdump'), log: pino({ level: 'silent' }) });
  try {
    const status = await service.start(MAC, { addresses: ['10.0.0.5'] });
    assert.deepEqual([status.state, status.notes], ['running', ['iSCSI not captured: tcpdump is not installed (apt-get install tcpdump)']]);
    const none = await service.start(OTHER);
    assert.deepEqual(none.notes, [], 'no address yet: tcpdump waits for one');
  } finally {
    await service.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('DHCP is told apart by the MAC inside and teaches the capture its address; the size bound stops it', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'dl-cap-unit-'));
  const client = createSocket('udp4');
  await bindUdp(client);
  const dhcpPort = await freeUdpPort();
  const service = new CaptureService({ dir, events: new BootEventLog(), dhcpPorts: [dhcpPort], serverAddress: '127.0.0.1', iscsi: { port: 3260, interface: 'lo' }, tcpdump: join(dir, 'no-such-tcpdump'), log: pino({ level: 'silent' }) });
  const server = createSocket({ type: 'udp4', reuseAddr: true });
  try {
    await new Promise<void>((resolve) => server.bind(dhcpPort, '127.0.0.1', resolve));
    answerDhcp(server);
    await service.start(MAC, { seconds: 30, maxBytes: 4096 });
    for (const mac of [OTHER, MAC]) client.send(encodeDhcpMessage(buildRequest({ type: MessageType.Discover, mac, xid: 9 })), dhcpPort, '127.0.0.1');
    await sleep(100);
    const status = service.status(MAC);
    assert.deepEqual(status?.addresses, ['10.0.0.42'], 'learnt from the reply (yiaddr)');
    assert.equal(status?.packets, 2, "the machine's DISCOVER and its reply; not the other MAC's");
    for (let i = 0; i < 20; i++) client.send(encodeDhcpMessage(buildRequest({ type: MessageType.Discover, mac: MAC, xid: i })), dhcpPort, '127.0.0.1');
    await sleep(100);
    const bounded = service.status(MAC);
    assert.deepEqual([bounded?.state, bounded?.reason], ['done', 'size limit']);
    assert.ok((bounded?.bytes ?? 0) <= 4096);
    const { packets } = readPcap(readFileSync(join(dir, `${MAC.replace(/:/g, '')}.pcap`)));
    assert.equal(packets.length, bounded?.packets);
    assert.equal(packets[0]?.srcMac, MAC);
  } finally {
    await service.close();
    client.close();
    server.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
