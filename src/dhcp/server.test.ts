// The thin server on loopback with unprivileged ports: malformed datagrams are dropped and
// counted, unicast exchanges answered, leases journaled across a restart, port 4011 served.
import assert from 'node:assert/strict';
import dgram from 'node:dgram';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import pino from 'pino';
import type { BootPolicy } from '../boot/types.ts';
import { nativeUdpUnavailable } from '../lib/native-udp.ts';
import type { LeaseStore } from './lease-store.ts';
import type { DhcpBootEvent, DhcpServerOptions } from './server.ts';
import { startDhcpServer } from './server.ts';
import { buildRequest, PXE_BIOS_VENDOR } from './test-requests.ts';
import { decodeDhcpMessage, encodeDhcpMessage, readMessageType } from './wire/packet.ts';
import type { DhcpMessage } from './wire/packet.ts';
import { MessageType } from './wire/option-codes.ts';

const policy: BootPolicy = { decide: (client, server) => ({ bootFile: client.platform === 'bios' ? 'undionly.kpxe' : 'ipxe.efi', nextServer: server }) };
const base = 20000 + Math.floor(Math.random() * 20000);
let portSeq = 0;
const nextPorts = (): { dhcp: number; pxe: number; client: number } => {
  portSeq += 3;
  return { dhcp: base + portSeq, pxe: base + portSeq + 1, client: base + portSeq + 2 };
};

function options(ports: ReturnType<typeof nextPorts>, extra: Partial<DhcpServerOptions> = {}): DhcpServerOptions {
  return {
    mode: 'full', serverAddress: '127.0.0.1', policy, log: pino({ level: 'silent' }), ports,
    subnets: [{ network: '127.0.0.0', prefixLength: 8, leaseTimeSeconds: 600, pool: { first: '127.0.0.2', last: '127.0.0.20' } }],
    ...extra,
  };
}

async function exchange(client: dgram.Socket, request: DhcpMessage, port: number): Promise<DhcpMessage> {
  const reply = new Promise<DhcpMessage>((resolve) => client.once('message', (b) => resolve(decodeDhcpMessage(b))));
  client.send(encodeDhcpMessage(request), port, '127.0.0.1');
  return reply;
}

async function clientSocket(port: number): Promise<dgram.Socket> {
  const s = dgram.createSocket({ type: 'udp4', reuseAddr: true });
  await new Promise<void>((resolve) => s.bind(port, '0.0.0.0', resolve));
  return s;
}

/** The same tests on both kinds of socket (sockets.ts): native batch receive, and Node's dgram. */
function suite(kind: 'native' | 'node'): void {
  const opts = (ports: ReturnType<typeof nextPorts>, extra: Partial<DhcpServerOptions> = {}): DhcpServerOptions => options(ports, { sockets: kind, ...extra });

  test('malformed datagrams are dropped and counted; the server keeps answering', async () => {
    const ports = nextPorts();
    const events: DhcpBootEvent[] = [];
    const server = await startDhcpServer(opts(ports, { onEvent: (e) => events.push(e) }));
    const client = await clientSocket(ports.client);
    try {
      client.send(Buffer.from('not dhcp at all'), ports.dhcp, '127.0.0.1');
      client.send(Buffer.alloc(300, 0xff), ports.dhcp, '127.0.0.1');
      const ack = await exchange(client, buildRequest({ type: MessageType.Inform, ciaddr: '127.0.0.1', mac: '52:54:00:00:00:01' }), ports.dhcp);
      assert.equal(readMessageType(ack), MessageType.Ack);
      assert.equal(server.stats.malformed, 2);
      assert.equal(server.sockets, kind);
      assert.equal(server.stats.replies, 1);
      assert.deepEqual(events.map((e) => e.kind), ['inform', 'ack']);
    } finally {
      client.close();
      await server.close();
    }
  });

  test('a renewed lease is journaled and still there after a restart', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'dl-dhcp-server-'));
    const ports = nextPorts();
    const client = await clientSocket(ports.client);
    try {
      const first = await startDhcpServer(opts(ports, { leaseDir: dir }));
      const ack = await exchange(client, buildRequest({ type: MessageType.Request, ciaddr: '127.0.0.5', mac: '52:54:00:00:00:05' }), ports.dhcp);
      assert.equal(ack.yiaddr, '127.0.0.5');
      await first.close();
      const second = await startDhcpServer(opts(ports, { leaseDir: dir }));
      assert.deepEqual(second.leases().map((l) => [l.ip, l.mac, l.state]), [['127.0.0.5', '52:54:00:00:00:05', 'bound']]);
      await second.close();
    } finally {
      client.close();
      await rm(dir, { recursive: true, force: true });
    }
  });

  test('an ACK leaves only once its lease is durable; the ACKs of one journal write leave together', async () => {
    const ports = nextPorts();
    let release: () => void = () => undefined;
    const durable = new Promise<void>((resolve) => {
      release = resolve;
    });
    const recorded: string[] = [];
    const leaseStore: LeaseStore = {
      load: () => Promise.resolve([]),
      record: (changes) => {
        for (const c of changes) if (c.op === 'put') recorded.push(`${c.lease.ip} ${c.lease.state}`);
        return durable; // one write for everything recorded until it settles, as the journal does
      },
      close: () => Promise.resolve(),
    };
    const server = await startDhcpServer(opts(ports, { leaseStore }));
    const client = await clientSocket(ports.client);
    try {
      const acks: DhcpMessage[] = [];
      client.on('message', (b) => acks.push(decodeDhcpMessage(b)));
      for (const n of [5, 6]) client.send(encodeDhcpMessage(buildRequest({ type: MessageType.Request, ciaddr: `127.0.0.${n}`, mac: `52:54:00:00:00:0${n}` })), ports.dhcp, '127.0.0.1');
      await new Promise((r) => setTimeout(r, 200));
      assert.deepEqual(recorded, ['127.0.0.5 bound', '127.0.0.6 bound']);
      assert.equal(acks.length, 0, 'no ACK before the journal says the leases are on disk');
      release();
      await new Promise((r) => setTimeout(r, 200));
      assert.deepEqual(acks.map((a) => [readMessageType(a), a.yiaddr]).sort(), [[MessageType.Ack, '127.0.0.5'], [MessageType.Ack, '127.0.0.6']]);
    } finally {
      client.close();
      await server.close();
    }
  });

  test('proxy mode answers a PXE REQUEST on the 4011 port at its source, with the boot file', async () => {
    const ports = nextPorts();
    const server = await startDhcpServer(opts(ports, { mode: 'proxy', subnets: [] }));
    const client = await clientSocket(ports.client);
    try {
      const ack = await exchange(client, buildRequest({ type: MessageType.Request, ciaddr: '127.0.0.9', vendorClass: PXE_BIOS_VENDOR, arch: 0 }), ports.pxe);
      assert.equal(readMessageType(ack), MessageType.Ack);
      assert.equal(ack.yiaddr, '0.0.0.0');
      assert.equal(ack.file, 'undionly.kpxe');
    } finally {
      client.close();
      await server.close();
    }
  });

  test('boundAddress: the address bound to a MAC now; none once expired, released or never leased', async () => {
    const ports = nextPorts();
    let nowMs = Date.now();
    const server = await startDhcpServer(opts(ports, { now: () => nowMs }));
    const client = await clientSocket(ports.client);
    try {
      const mac = '52:54:00:00:00:07';
      assert.equal(server.boundAddress(mac), null, 'nothing leased yet');
      const ack = await exchange(client, buildRequest({ type: MessageType.Request, ciaddr: '127.0.0.7', mac }), ports.dhcp);
      assert.equal(ack.yiaddr, '127.0.0.7');
      assert.equal(server.boundAddress(mac), '127.0.0.7');
      assert.equal(server.boundAddress('52:54:00:00:00:08'), null, 'another MAC');
      nowMs += 601_000;
      assert.equal(server.boundAddress(mac), null, 'the 600 s lease has expired');
      nowMs -= 601_000;
      client.send(encodeDhcpMessage(buildRequest({ type: MessageType.Release, ciaddr: '127.0.0.7', mac })), ports.dhcp, '127.0.0.1');
      const deadline = Date.now() + 2000;
      while (server.boundAddress(mac) !== null && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
      assert.equal(server.boundAddress(mac), null, 'released');
    } finally {
      client.close();
      await server.close();
    }
  });
}

describe('DHCP server on native sockets', { skip: nativeUdpUnavailable() ?? undefined }, () => suite('native'));
describe("DHCP server on Node's dgram sockets", () => suite('node'));
