import { test } from 'node:test';
import assert from 'node:assert/strict';
import { peekDhcp } from './dhcp-peek.ts';
import { macBytes, TcpFlag, tcpFrame, udpFrame } from './packet-frames.ts';
import { LinkType, toEthernet } from './link-layer.ts';
import { PcapStreamReader } from './pcap-stream.ts';
import { LINKTYPE_ETHERNET, pcapFileHeader, pcapRecord } from './pcap-format.ts';
import { sendArguments } from './socket-taps.ts';
import { readPcap } from './test-pcap-reader.ts';
import { encodeDhcpMessage } from '../dhcp/wire/packet.ts';
import { buildRequest } from '../dhcp/test-requests.ts';
import { MessageType } from '../dhcp/wire/option-codes.ts';

const machine = { mac: '52:54:00:12:34:56', ip: '10.0.0.5', port: 68 };
const server = { mac: '02:00:00:00:00:01', ip: '10.0.0.1', port: 67 };
const file = (...frames: Buffer[]) => Buffer.concat([pcapFileHeader(), ...frames.map((f, i) => pcapRecord(1_700_000_000_123_456 + i, f))]);

test('a pcap file: the header, LINKTYPE_ETHERNET, microsecond times, UDP with valid checksums', () => {
  const payload = Buffer.from('hello, odd length');
  const { linkType, packets } = readPcap(file(udpFrame(machine, server, payload, 7)));
  assert.equal(linkType, LINKTYPE_ETHERNET);
  const [p] = packets;
  assert.deepEqual([p?.srcMac, p?.dstMac, p?.srcIp, p?.dstIp, p?.srcPort, p?.dstPort, p?.protocol, p?.etherType], [machine.mac, server.mac, '10.0.0.5', '10.0.0.1', 68, 67, 'udp', 0x0800]);
  assert.deepEqual(p?.payload, payload);
  assert.equal(p?.checksumsOk, true);
  assert.equal(p?.atMicros, 1_700_000_000_123_456);
});

test('IPv6 and mixed families (an IPv4 peer of a dual-stack socket) get IPv6 headers with valid checksums', () => {
  const { packets } = readPcap(file(udpFrame({ ...machine, ip: 'fe80::1' }, { ...server, ip: '::ffff:10.0.0.1' }, Buffer.from('x')), tcpFrame({ ...machine, ip: '2001:db8::5' }, { ...server, ip: '10.0.0.1' }, { seq: 1, ack: 2, flags: TcpFlag.ACK }, Buffer.from('yz'))));
  assert.deepEqual(packets.map((p) => [p.etherType, p.checksumsOk]), [[0x86dd, true], [0x86dd, true]]);
  assert.equal(packets[0]?.srcIp, 'fe80:0000:0000:0000:0000:0000:0000:0001');
  assert.equal(packets[1]?.dstIp, '0000:0000:0000:0000:0000:ffff:0a00:0001');
});

test('tcpdump\'s stream read in pieces (either byte order, ns times); cooked frames become Ethernet frames', () => {
  const frame = tcpFrame({ ...machine, port: 50000 }, { ...server, port: 3260 }, { seq: 1, ack: 2, flags: TcpFlag.PSH | TcpFlag.ACK }, Buffer.from('login'));
  const stream = file(frame, frame);
  const reader = new PcapStreamReader();
  const records = [...stream].flatMap((byte) => reader.push(Buffer.from([byte])));
  assert.deepEqual([reader.linkType, records.length, records[1]?.atMicros], [LINKTYPE_ETHERNET, 2, 1_700_000_000_123_457]);
  assert.deepEqual(records[0]?.data, frame);
  // Big-endian, nanosecond times, as another machine's tcpdump may write.
  const header = Buffer.alloc(24);
  header.writeUInt32BE(0xa1b23c4d, 0);
  header.writeUInt32BE(LinkType.LINUX_SLL2, 20);
  const record = Buffer.alloc(16);
  record.writeUInt32BE(10, 0);
  record.writeUInt32BE(5_000_999, 4);
  record.writeUInt32BE(3, 8);
  record.writeUInt32BE(3, 12);
  const be = new PcapStreamReader();
  assert.deepEqual(be.push(Buffer.concat([header, record, Buffer.from('abc')])), [{ atMicros: 10_005_000, data: Buffer.from('abc') }]);
  assert.equal(be.linkType, LinkType.LINUX_SLL2);
  assert.throws(() => new PcapStreamReader().push(Buffer.alloc(24)), /not a pcap stream/);

  const ip = frame.subarray(14);
  const sll2 = (packetType: number, hardware = 1) => {
    const h = Buffer.alloc(20);
    h.writeUInt16BE(0x0800, 0);
    h.writeUInt16BE(hardware, 8);
    h[10] = packetType;
    return Buffer.concat([h, ip]);
  };
  const sides = { machineMac: machine.mac, serverMac: server.mac };
  const incoming = toEthernet(LinkType.LINUX_SLL2, sll2(0), sides);
  assert.deepEqual(incoming, Buffer.concat([macBytes(server.mac), macBytes(machine.mac), Buffer.from([8, 0]), ip]));
  const outgoing = toEthernet(LinkType.LINUX_SLL2, sll2(4), sides);
  assert.deepEqual(outgoing?.subarray(0, 12), Buffer.concat([macBytes(machine.mac), macBytes(server.mac)]));
  assert.equal(toEthernet(LinkType.LINUX_SLL2, sll2(4, 772), sides), null, 'loopback: the sent copy of a packet also seen received');
  const sll = Buffer.concat([Buffer.from([0, 0, 0, 1, 0, 6]), Buffer.alloc(8), Buffer.from([8, 0]), ip]);
  assert.deepEqual(toEthernet(LinkType.LINUX_SLL, sll, sides)?.subarray(12), Buffer.concat([Buffer.from([8, 0]), ip]));
  assert.equal(toEthernet(LINKTYPE_ETHERNET, frame, sides), frame);
  assert.equal(toEthernet(228, ip, sides), null, 'raw IP and others are not converted');
});

test('whose DHCP message it is: op, chaddr, ciaddr, yiaddr; anything else is not DHCP', () => {
  const bytes = encodeDhcpMessage(buildRequest({ type: MessageType.Discover, mac: machine.mac, ciaddr: '10.0.0.9' }));
  assert.deepEqual(peekDhcp(bytes), { op: 1, mac: machine.mac, ciaddr: '10.0.0.9', yiaddr: '0.0.0.0' });
  assert.equal(peekDhcp(Buffer.alloc(300)), null);
  assert.equal(peekDhcp(Buffer.from([0, 1, 0x74, 0x65])), null, 'a TFTP RRQ');
});

test('the datagram and destination of every dgram send() overload', () => {
  const peer = () => ({ address: '10.0.0.7', port: 69 });
  const data = Buffer.from('abcdef');
  assert.deepEqual(sendArguments([data, 68, '255.255.255.255', () => undefined], peer), { bytes: data, to: { address: '255.255.255.255', port: 68 } });
  assert.deepEqual(sendArguments([[Buffer.from('ab'), Buffer.from('cd')], 1234, '10.0.0.5'], peer), { bytes: Buffer.from('abcd'), to: { address: '10.0.0.5', port: 1234 } });
  assert.deepEqual(sendArguments([data, 1, 3, 4000, '10.0.0.5'], peer), { bytes: Buffer.from('bcd'), to: { address: '10.0.0.5', port: 4000 } });
  assert.deepEqual(sendArguments([data, 2, 2], peer), { bytes: Buffer.from('cd'), to: peer() }, 'a connected socket');
  assert.deepEqual(sendArguments(['text', 9], peer), { bytes: Buffer.from('text'), to: { address: '127.0.0.1', port: 9 } });
});
