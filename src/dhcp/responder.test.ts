import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { BootDecision, BootPolicy, PxeClient } from '../boot/types.ts';
import type { SubnetConfig } from './addressing.ts';
import { LeaseTable } from './leases.ts';
import type { ResponderContext, Response } from './responder.ts';
import { respond } from './responder.ts';
import type { RequestSpec } from './test-requests.ts';
import { buildRequest, IPXE_PRL, PXE_BIOS_VENDOR, PXE_EFI64_VENDOR } from './test-requests.ts';
import { decodeDhcpMessage, encodeDhcpMessage, readMessageType } from './wire/packet.ts';
import type { DhcpMessage } from './wire/packet.ts';
import { BROADCAST_FLAG, DhcpOption, MessageType } from './wire/option-codes.ts';
import { decodeEncapsulated, findOption, readIpOption, readStringOption, readU32Option } from './wire/options.ts';

const SERVER = '10.0.0.1';
const LOCAL: SubnetConfig = {
  network: '10.0.0.0', prefixLength: 24, routers: ['10.0.0.254'], dnsServers: ['10.0.0.53'], leaseTimeSeconds: 3600,
  pool: { first: '10.0.0.100', last: '10.0.0.102' },
  reservations: [{ mac: '52:54:00:00:00:99', ip: '10.0.0.50', hostname: 'node50' }],
};
const REMOTE: SubnetConfig = { network: '10.9.0.0', prefixLength: 24, routers: ['10.9.0.1'], leaseTimeSeconds: 600, pool: { first: '10.9.0.10', last: '10.9.0.20' } };

const policy: BootPolicy = {
  decide(client: PxeClient, server: string): BootDecision | null {
    if (client.mac === '52:54:00:00:00:66') return null;
    switch (client.firmware) {
      case 'ipxe':
        return {
          bootFile: `http://${server}:8080/boot.ipxe`, nextServer: server, rootPath: `iscsi:${server}::3260:0:iqn.2026-11.test:disk`,
          initiatorIqn: 'iqn.2026-11.test:node', ipxe: { keepSan: true, username: 'user', password: 'secret' },
          pxelinux: { configFile: 'pxelinux.cfg/default', rebootTimeSeconds: 30 },
        };
      case 'pxe':
        return { bootFile: client.platform === 'bios' ? 'undionly.kpxe' : 'ipxe.efi', nextServer: server, vendorClass: 'PXEClient' };
      case 'http-boot':
        return { bootFile: `http://${server}/ipxe.efi`, nextServer: server, vendorClass: 'HTTPClient' };
      default:
        return null;
    }
  },
};

class Harness {
  readonly leases = new LeaseTable();
  nowMs = 1_000_000;
  constructor(readonly overrides: Partial<ResponderContext> = {}) {}

  send(spec: RequestSpec, arrival: ResponderContext['arrival'] = { port: 'dhcp', address: '0.0.0.0', sourcePort: 68 }): Response {
    const ctx: ResponderContext = {
      mode: 'full', serverAddress: SERVER, subnets: [LOCAL, REMOTE], leases: this.leases, policy, nowMs: this.nowMs,
      arrival, ports: { server: 67, client: 68 }, ...this.overrides,
    };
    // Through the codec both ways, as the server does.
    const request = decodeDhcpMessage(encodeDhcpMessage(buildRequest(spec)));
    const response = respond(request, ctx);
    this.leases.apply(response.leaseChanges);
    return response;
  }

  /** DISCOVER then REQUEST (SELECTING) for the offered address. */
  dora(spec: Omit<RequestSpec, 'type'>): DhcpMessage {
    const offer = reply(this.send({ ...spec, type: MessageType.Discover }));
    return reply(this.send({ ...spec, type: MessageType.Request, serverId: SERVER, requested: offer.yiaddr }));
  }
}

function reply(r: Response): DhcpMessage {
  if (r.kind !== 'reply') assert.fail(`expected a reply, got ignore: ${r.reason}`);
  // What goes on the wire must fit what the client takes.
  const bytes = encodeDhcpMessage(r.reply, { maxLength: r.maxLength });
  assert.ok(bytes.length <= r.maxLength);
  return decodeDhcpMessage(bytes);
}

const type = (m: DhcpMessage): number | null => readMessageType(m);
const mac = (n: number): string => `52:54:00:00:00:${n.toString(16).padStart(2, '0')}`;

test('full: DORA gives a pool address with lease time, mask, router, DNS; ACK binds it', () => {
  const h = new Harness();
  const offerResponse = h.send({ type: MessageType.Discover, mac: mac(1) });
  assert.equal(offerResponse.kind, 'reply');
  assert.deepEqual(offerResponse.kind === 'reply' ? offerResponse.destination : null, { address: '255.255.255.255', port: 68, broadcast: true });
  const offer = reply(offerResponse);
  assert.equal(type(offer), MessageType.Offer);
  assert.equal(offer.yiaddr, '10.0.0.100');
  assert.equal(readIpOption(offer.options, DhcpOption.ServerIdentifier), SERVER);
  assert.equal(readU32Option(offer.options, DhcpOption.IpAddressLeaseTime), 3600);
  assert.equal(readU32Option(offer.options, DhcpOption.RenewalTime), 1800);
  assert.equal(readIpOption(offer.options, DhcpOption.SubnetMask), '255.255.255.0');
  assert.equal(readIpOption(offer.options, DhcpOption.Router), '10.0.0.254');
  assert.equal(readIpOption(offer.options, DhcpOption.DomainNameServer), '10.0.0.53');
  assert.equal(offer.file, '', 'no boot file for a plain client');
  assert.equal(h.leases.byIp('10.0.0.100')?.state, 'offered');
  const ack = reply(h.send({ type: MessageType.Request, mac: mac(1), serverId: SERVER, requested: '10.0.0.100' }));
  assert.equal(type(ack), MessageType.Ack);
  assert.equal(ack.yiaddr, '10.0.0.100');
  assert.equal(h.leases.byIp('10.0.0.100')?.state, 'bound');
  assert.equal(h.leases.byIp('10.0.0.100')?.expiresAtMs, h.nowMs + 3_600_000);
});

test('full: an offered address is held, so two DISCOVERs get different addresses until the hold ends', () => {
  const h = new Harness();
  const a = reply(h.send({ type: MessageType.Discover, mac: mac(1) }));
  const b = reply(h.send({ type: MessageType.Discover, mac: mac(2) }));
  assert.notEqual(a.yiaddr, b.yiaddr);
  // the same client asking again gets the same offer
  assert.equal(reply(h.send({ type: MessageType.Discover, mac: mac(1) })).yiaddr, a.yiaddr);
  h.nowMs += 31_000;
  h.send({ type: MessageType.Discover, mac: mac(3) });
  const d = reply(h.send({ type: MessageType.Discover, mac: mac(4) }));
  assert.equal(d.yiaddr, a.yiaddr, 'the lapsed hold is reused once fresh addresses run out');
});

test('full: pool exhaustion is a silent ignore', () => {
  const h = new Harness();
  for (const n of [1, 2, 3]) h.dora({ mac: mac(n) });
  const r = h.send({ type: MessageType.Discover, mac: mac(4) });
  assert.equal(r.kind, 'ignore');
  assert.match(r.kind === 'ignore' ? r.reason : '', /no free address/);
});

test('full: a reservation gives its address and hostname; nobody else gets it; the reserved client is NAKed elsewhere', () => {
  const h = new Harness();
  const ack = h.dora({ mac: '52:54:00:00:00:99', prl: [1, 3, 12] });
  assert.equal(ack.yiaddr, '10.0.0.50');
  assert.equal(readStringOption(ack.options, DhcpOption.HostName), 'node50');
  const other = reply(h.send({ type: MessageType.Request, mac: mac(1), requested: '10.0.0.50' }));
  assert.equal(type(other), MessageType.Nak);
  const wrong = reply(h.send({ type: MessageType.Request, mac: '52:54:00:00:00:99', requested: '10.0.0.100' }));
  assert.equal(type(wrong), MessageType.Nak);
});

test('full: RFC 2131 4.3.2 REQUEST states', () => {
  const h = new Harness();
  const ack = h.dora({ mac: mac(1) });
  // INIT-REBOOT, off-network address → NAK, broadcast
  const offNet = h.send({ type: MessageType.Request, mac: mac(1), requested: '192.168.1.5' });
  assert.equal(offNet.kind === 'reply' ? type(offNet.reply) : null, MessageType.Nak);
  assert.equal(offNet.kind === 'reply' ? offNet.destination.address : null, '255.255.255.255');
  // INIT-REBOOT for another client's bound address → NAK
  assert.equal(type(reply(h.send({ type: MessageType.Request, mac: mac(2), requested: ack.yiaddr }))), MessageType.Nak);
  // INIT-REBOOT for its own address → ACK
  assert.equal(type(reply(h.send({ type: MessageType.Request, mac: mac(1), requested: ack.yiaddr }))), MessageType.Ack);
  // RENEWING: unicast from ciaddr, answered to ciaddr:68 with ciaddr echoed
  const renew = h.send({ type: MessageType.Request, mac: mac(1), ciaddr: ack.yiaddr });
  assert.ok(renew.kind === 'reply');
  assert.deepEqual(renew.destination, { address: ack.yiaddr, port: 68, broadcast: false });
  assert.equal(renew.reply.ciaddr, ack.yiaddr);
  assert.equal(type(renew.reply), MessageType.Ack);
  // REQUEST with no 54, 50 or ciaddr → ignore
  assert.equal(h.send({ type: MessageType.Request, mac: mac(1) }).kind, 'ignore');
});

test('full: a client that chose another server is ignored and its held offer released', () => {
  const h = new Harness();
  const offer = reply(h.send({ type: MessageType.Discover, mac: mac(1) }));
  const r = h.send({ type: MessageType.Request, mac: mac(1), serverId: '10.0.0.2', requested: '10.0.0.77' });
  assert.equal(r.kind, 'ignore');
  assert.equal(h.leases.byIp(offer.yiaddr), undefined);
});

test('full: INIT-REBOOT from an unknown client is ACKed when authoritative, ignored when not', () => {
  assert.equal(type(reply(new Harness().send({ type: MessageType.Request, mac: mac(5), requested: '10.0.0.101' }))), MessageType.Ack);
  assert.equal(new Harness({ authoritative: false }).send({ type: MessageType.Request, mac: mac(5), requested: '10.0.0.101' }).kind, 'ignore');
});

test('full: DECLINE quarantines the address; the client gets another one', () => {
  const h = new Harness();
  const ack = h.dora({ mac: mac(1) });
  const r = h.send({ type: MessageType.Decline, mac: mac(1), serverId: SERVER, requested: ack.yiaddr });
  assert.equal(r.kind, 'ignore');
  assert.equal(h.leases.byIp(ack.yiaddr)?.state, 'declined');
  const next = reply(h.send({ type: MessageType.Discover, mac: mac(1) }));
  assert.notEqual(next.yiaddr, ack.yiaddr);
  assert.notEqual(reply(h.send({ type: MessageType.Discover, mac: mac(2) })).yiaddr, ack.yiaddr);
  // a DECLINE of someone else's address changes nothing
  assert.deepEqual(h.send({ type: MessageType.Decline, mac: mac(9), serverId: SERVER, requested: next.yiaddr }).leaseChanges, []);
});

test('full: RELEASE frees the address; the same client gets it back first', () => {
  const h = new Harness();
  const ack = h.dora({ mac: mac(1) });
  h.send({ type: MessageType.Release, mac: mac(1), ciaddr: ack.yiaddr, serverId: SERVER });
  assert.equal(h.leases.byIp(ack.yiaddr)?.state, 'released');
  assert.equal(reply(h.send({ type: MessageType.Discover, mac: mac(1) })).yiaddr, ack.yiaddr);
  // a RELEASE for an address the client does not hold is ignored
  assert.deepEqual(h.send({ type: MessageType.Release, mac: mac(2), ciaddr: ack.yiaddr }).leaseChanges, []);
});

test('full: INFORM is ACKed without yiaddr or lease time, to ciaddr', () => {
  const r = new Harness().send({ type: MessageType.Inform, mac: mac(1), ciaddr: '10.0.0.7' });
  assert.ok(r.kind === 'reply');
  assert.deepEqual(r.destination, { address: '10.0.0.7', port: 68, broadcast: false });
  const m = reply(r);
  assert.equal(type(m), MessageType.Ack);
  assert.equal(m.yiaddr, '0.0.0.0');
  assert.equal(findOption(m.options, DhcpOption.IpAddressLeaseTime), null);
  assert.equal(readIpOption(m.options, DhcpOption.SubnetMask), '255.255.255.0');
});

test('full: relayed requests get the relay subnet, go to giaddr:67; a relayed NAK has the broadcast bit', () => {
  const h = new Harness();
  const r = h.send({ type: MessageType.Discover, mac: mac(1), giaddr: '10.9.0.1' });
  assert.ok(r.kind === 'reply');
  assert.deepEqual(r.destination, { address: '10.9.0.1', port: 67, broadcast: false });
  assert.equal(r.reply.yiaddr, '10.9.0.10');
  assert.equal(r.reply.giaddr, '10.9.0.1');
  assert.equal(readU32Option(r.reply.options, DhcpOption.IpAddressLeaseTime), 600);
  const nak = h.send({ type: MessageType.Request, mac: mac(1), giaddr: '10.9.0.1', requested: '10.0.0.100' });
  assert.ok(nak.kind === 'reply');
  assert.equal(type(nak.reply), MessageType.Nak);
  assert.equal(nak.reply.flags & BROADCAST_FLAG, BROADCAST_FLAG);
  assert.equal(nak.destination.address, '10.9.0.1');
  assert.equal(h.send({ type: MessageType.Discover, mac: mac(2), giaddr: '172.16.0.1' }).kind, 'ignore');
});

test('full: a BIOS PXE ROM gets undionly.kpxe in file and siaddr, 60 PXEClient, 43 discovery control, 67 when asked', () => {
  const h = new Harness();
  const noPrl = reply(h.send({ type: MessageType.Discover, mac: mac(1), vendorClass: PXE_BIOS_VENDOR, arch: 0, prl: [1, 3] }));
  assert.equal(noPrl.file, 'undionly.kpxe');
  assert.equal(noPrl.siaddr, SERVER);
  assert.equal(readStringOption(noPrl.options, DhcpOption.VendorClassIdentifier), 'PXEClient');
  assert.deepEqual(findOption(noPrl.options, DhcpOption.VendorSpecific), Buffer.from([6, 1, 8, 255]));
  assert.equal(findOption(noPrl.options, DhcpOption.BootfileName), null, '67 only when requested');
  assert.equal(findOption(noPrl.options, DhcpOption.Ipxe), null, '175 only for iPXE');
  const asked = reply(h.send({ type: MessageType.Discover, mac: mac(1), vendorClass: PXE_EFI64_VENDOR, arch: 7, prl: [1, 3, 66, 67] }));
  assert.equal(asked.file, 'ipxe.efi');
  assert.equal(readStringOption(asked.options, DhcpOption.BootfileName), 'ipxe.efi');
  assert.equal(readStringOption(asked.options, DhcpOption.TftpServerName), SERVER);
});

test('full: iPXE gets the script URL, 175 with keep-san, no-pxedhcp and CHAP, 17, 203, pxelinux, and 97 echoed', () => {
  const h = new Harness();
  const uuid = '00112233445566778899aabbccddeeff';
  const offer = reply(h.send({
    type: MessageType.Discover, mac: mac(1), vendorClass: PXE_BIOS_VENDOR, arch: 0, userClass: 'iPXE', prl: IPXE_PRL, uuid, maxMessageSize: 1472,
  }));
  assert.equal(offer.file, `http://${SERVER}:8080/boot.ipxe`);
  assert.equal(readStringOption(offer.options, DhcpOption.BootfileName), offer.file);
  assert.equal(readStringOption(offer.options, DhcpOption.RootPath), `iscsi:${SERVER}::3260:0:iqn.2026-11.test:disk`);
  assert.equal(readStringOption(offer.options, DhcpOption.IscsiInitiatorIqn), 'iqn.2026-11.test:node');
  const ipxe = decodeEncapsulated(findOption(offer.options, DhcpOption.Ipxe) ?? Buffer.alloc(0), '175');
  assert.deepEqual(ipxe.map((o) => [o.code, o.data.toString('latin1')]), [[8, '\x01'], [176, '\x01'], [190, 'user'], [191, 'secret']]);
  assert.deepEqual(findOption(offer.options, DhcpOption.PxelinuxMagic), Buffer.from([0xf1, 0x00, 0x74, 0x7e]));
  assert.equal(readStringOption(offer.options, DhcpOption.PxelinuxConfigFile), 'pxelinux.cfg/default');
  assert.equal(readU32Option(offer.options, DhcpOption.PxelinuxRebootTime), 30);
  assert.deepEqual(findOption(offer.options, DhcpOption.ClientMachineId), Buffer.concat([Buffer.from([0]), Buffer.from(uuid, 'hex')]));
});

test('full: a client the policy refuses still gets an address, without a boot file', () => {
  const offer = reply(new Harness().send({ type: MessageType.Discover, mac: '52:54:00:00:00:66', vendorClass: PXE_BIOS_VENDOR, userClass: 'iPXE' }));
  assert.equal(offer.yiaddr, '10.0.0.100');
  assert.equal(offer.file, '');
});

test('full: a boot URL longer than the file field goes in option 67 only', () => {
  const longPolicy: BootPolicy = { decide: (_c, server) => ({ bootFile: `http://${server}/${'x'.repeat(200)}`, nextServer: server }) };
  const offer = reply(new Harness({ policy: longPolicy }).send({ type: MessageType.Discover, mac: mac(1), userClass: 'iPXE', prl: [1] }));
  assert.equal(offer.file, '');
  assert.equal(readStringOption(offer.options, DhcpOption.BootfileName)?.length, 200 + 16);
});

test('full: without option 57 the reply fits 548 bytes, overloading when needed', () => {
  const big: BootPolicy = {
    decide: (_c, server) => ({ bootFile: 'boot.ipxe', nextServer: server, rootPath: 'r'.repeat(250), initiatorIqn: 'i'.repeat(60) }),
  };
  const r = new Harness({ policy: big }).send({ type: MessageType.Discover, mac: mac(1), userClass: 'iPXE', prl: [1, 3, 6, 17, 203] });
  assert.ok(r.kind === 'reply');
  assert.equal(r.maxLength, 548);
  const bytes = encodeDhcpMessage(r.reply, { maxLength: r.maxLength });
  assert.ok(bytes.length <= 548);
  const back = decodeDhcpMessage(bytes);
  assert.equal(readStringOption(back.options, DhcpOption.RootPath)?.length, 250);
  assert.equal(readStringOption(back.options, DhcpOption.IscsiInitiatorIqn)?.length, 60);
  assert.equal(back.file, 'boot.ipxe');
});

test('full: requested options that cannot fit even with overload are dropped, last requested first', () => {
  const huge: BootPolicy = {
    decide: (_c, server) => ({ bootFile: 'boot.ipxe', nextServer: server, rootPath: 'r'.repeat(250), initiatorIqn: 'i'.repeat(200) }),
  };
  const r = new Harness({ policy: huge }).send({ type: MessageType.Discover, mac: mac(1), userClass: 'iPXE', prl: [1, 3, 6, 17, 203] });
  const m = reply(r);
  assert.equal(readStringOption(m.options, DhcpOption.RootPath)?.length, 250);
  assert.equal(findOption(m.options, DhcpOption.IscsiInitiatorIqn), null);
});

const proxy = (): Harness => new Harness({ mode: 'proxy', subnets: [] });

test('proxy: ignores clients that are not PXE, and REQUESTs on port 67', () => {
  const h = proxy();
  assert.equal(h.send({ type: MessageType.Discover, mac: mac(1) }).kind, 'ignore');
  assert.equal(h.send({ type: MessageType.Discover, mac: mac(1), userClass: 'iPXE' }).kind, 'ignore');
  assert.equal(h.send({ type: MessageType.Request, mac: mac(1), vendorClass: PXE_BIOS_VENDOR, serverId: '10.0.0.254', requested: '10.0.0.5' }).kind, 'ignore');
  assert.equal(h.send({ type: MessageType.Discover, mac: '52:54:00:00:00:66', vendorClass: PXE_BIOS_VENDOR }).kind, 'ignore');
});

test('proxy: a PXE DISCOVER on port 67 gets an OFFER without an address: 60, 54, 43 and the boot file', () => {
  const r = proxy().send({ type: MessageType.Discover, mac: mac(1), vendorClass: PXE_BIOS_VENDOR, arch: 0, flags: BROADCAST_FLAG });
  assert.ok(r.kind === 'reply');
  assert.equal(r.destination.address, '255.255.255.255');
  const offer = reply(r);
  assert.equal(type(offer), MessageType.Offer);
  assert.equal(offer.yiaddr, '0.0.0.0');
  assert.equal(offer.file, 'undionly.kpxe');
  assert.equal(offer.siaddr, SERVER);
  assert.equal(readStringOption(offer.options, DhcpOption.VendorClassIdentifier), 'PXEClient');
  assert.equal(readIpOption(offer.options, DhcpOption.ServerIdentifier), SERVER);
  assert.deepEqual(findOption(offer.options, DhcpOption.VendorSpecific), Buffer.from([6, 1, 8, 255]));
  assert.equal(findOption(offer.options, DhcpOption.IpAddressLeaseTime), null);
  assert.equal(findOption(offer.options, DhcpOption.SubnetMask), null);
  assert.deepEqual(r.leaseChanges, []);
});

test('proxy: iPXE in proxy mode gets 60 PXEClient (so it sees a ProxyDHCP offer) and no 176', () => {
  const offer = reply(proxy().send({ type: MessageType.Discover, mac: mac(1), vendorClass: PXE_BIOS_VENDOR, userClass: 'iPXE', prl: IPXE_PRL }));
  assert.equal(readStringOption(offer.options, DhcpOption.VendorClassIdentifier), 'PXEClient');
  assert.equal(offer.file, `http://${SERVER}:8080/boot.ipxe`);
  const sub = decodeEncapsulated(findOption(offer.options, DhcpOption.Ipxe) ?? Buffer.alloc(0), '175').map((o) => o.code);
  assert.ok(!sub.includes(176));
});

test('proxy: a port 4011 REQUEST is ACKed to its source with the boot file and never an address', () => {
  const r = proxy().send(
    { type: MessageType.Request, mac: mac(1), vendorClass: PXE_EFI64_VENDOR, arch: 7, ciaddr: '10.0.0.120', prl: [67] },
    { port: 'pxe', address: '10.0.0.120', sourcePort: 68 },
  );
  assert.ok(r.kind === 'reply');
  assert.deepEqual(r.destination, { address: '10.0.0.120', port: 68, broadcast: false });
  const ack = reply(r);
  assert.equal(type(ack), MessageType.Ack);
  assert.equal(ack.yiaddr, '0.0.0.0');
  assert.equal(ack.ciaddr, '10.0.0.120');
  assert.equal(ack.file, 'ipxe.efi');
  assert.equal(readStringOption(ack.options, DhcpOption.BootfileName), 'ipxe.efi');
});

test('not a BOOTREQUEST, or no option 53: ignored', () => {
  const h = new Harness();
  const ctx: ResponderContext = {
    mode: 'full', serverAddress: SERVER, subnets: [LOCAL], leases: h.leases, policy, nowMs: 0,
    arrival: { port: 'dhcp', address: '0.0.0.0', sourcePort: 68 }, ports: { server: 67, client: 68 },
  };
  const req = buildRequest({ type: MessageType.Discover });
  assert.equal(respond({ ...req, op: 2 }, ctx).kind, 'ignore');
  assert.equal(respond({ ...req, options: [] }, ctx).kind, 'ignore');
});
