// A PXE ROM's DHCP steps, scripted for the proxy-mode interop test; runs inside the client
// network namespace: `node --import tsx test/helpers/pxe-client.ts discover IFACE-MAC`
// broadcasts a PXE DISCOVER and prints every OFFER (2 s), `request SERVER YIADDR SERVER-ID MAC`
// takes the DHCP server's address (broadcast REQUEST), `pxe BOOTSERVER CIADDR MAC` asks the boot
// server on port 4011 (PXE 2.1 section 2.2.2). Output: one JSON line per reply.
// A ROM sends raw frames; a UDP socket on an unconfigured interface needs a route for
// 255.255.255.255 (`ip route add 255.255.255.255 dev IFACE`), which the test adds.
import dgram from 'node:dgram';
import { buildRequest, PXE_BIOS_VENDOR } from '../../src/dhcp/test-requests.ts';
import { decodeDhcpMessage, encodeDhcpMessage, readMessageType } from '../../src/dhcp/wire/packet.ts';
import type { DhcpMessage } from '../../src/dhcp/wire/packet.ts';
import { BROADCAST_FLAG, DhcpOption, MessageType } from '../../src/dhcp/wire/option-codes.ts';
import { readIpOption, readStringOption } from '../../src/dhcp/wire/options.ts';

const PXE = { vendorClass: PXE_BIOS_VENDOR, arch: 0, prl: [1, 3, 43, 60, 66, 67], uuid: '11112222333344445555666677778888' } as const;

function summary(m: DhcpMessage, from: string): string {
  return JSON.stringify({
    from, type: readMessageType(m), yiaddr: m.yiaddr, siaddr: m.siaddr, file: m.file, ciaddr: m.ciaddr,
    serverId: readIpOption(m.options, DhcpOption.ServerIdentifier), vendorClass: readStringOption(m.options, DhcpOption.VendorClassIdentifier),
    bootfileName: readStringOption(m.options, DhcpOption.BootfileName),
  });
}

async function main(): Promise<void> {
  const [step = '', ...args] = process.argv.slice(2);
  const socket = dgram.createSocket({ type: 'udp4', reuseAddr: true });
  await new Promise<void>((resolve) => socket.bind(68, '0.0.0.0', resolve));
  socket.setBroadcast(true);
  const xid = Math.floor(Math.random() * 0xffffffff);
  socket.on('message', (b, rinfo) => {
    try {
      const m = decodeDhcpMessage(b);
      if (m.xid === xid && m.op === 2) process.stdout.write(`${summary(m, `${rinfo.address}:${rinfo.port}`)}\n`);
    } catch {
      // not ours
    }
  });
  const send = (m: DhcpMessage, port: number, address: string): void => {
    socket.send(encodeDhcpMessage(m), port, address, (err) => {
      if (err) {
        process.stderr.write(`send to ${address}:${port} failed: ${err.message}\n`);
        process.exit(1);
      }
    });
  };
  if (step === 'discover') {
    send(buildRequest({ type: MessageType.Discover, xid, mac: args[0] ?? '', flags: BROADCAST_FLAG, ...PXE }), 67, '255.255.255.255');
  } else if (step === 'request') {
    const [yiaddr = '', serverId = '', mac = ''] = args;
    send(buildRequest({ type: MessageType.Request, xid, mac, flags: BROADCAST_FLAG, requested: yiaddr, serverId, ...PXE }), 67, '255.255.255.255');
  } else if (step === 'pxe') {
    const [bootServer = '', ciaddr = '', mac = ''] = args;
    send(buildRequest({ type: MessageType.Request, xid, mac, ciaddr, ...PXE }), 4011, bootServer);
  } else {
    throw new Error(`unknown step ${step}`);
  }
  await new Promise((r) => setTimeout(r, 2000));
  socket.close();
}

await main();
