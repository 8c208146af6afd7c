// A stable, human-readable rendering of a DHCP message: the golden files next to the captured
// vectors (test/vectors/dhcp/*.txt) and trace logs. Encapsulated options (43, 175) and the user
// class are shown decoded, since that is what a reader checks against the PXE/iPXE specs.
import type { DhcpMessage } from './packet.ts';
import { clientMac } from './packet.ts';
import { DhcpOption, MESSAGE_TYPE_NAMES, optionName } from './option-codes.ts';
import { decodeEncapsulated, decodeUserClass } from './options.ts';
import { DecodeError } from '../../lib/errors.ts';

const TEXT_OPTIONS = new Set<number>([
  DhcpOption.HostName, DhcpOption.DomainName, DhcpOption.RootPath, DhcpOption.Message, DhcpOption.VendorClassIdentifier,
  DhcpOption.TftpServerName, DhcpOption.BootfileName, DhcpOption.IscsiInitiatorIqn, DhcpOption.PxelinuxConfigFile, DhcpOption.PxelinuxPathPrefix,
]);
const IP_OPTIONS = new Set<number>([DhcpOption.SubnetMask, DhcpOption.Router, DhcpOption.DomainNameServer, DhcpOption.BroadcastAddress, DhcpOption.RequestedIpAddress, DhcpOption.ServerIdentifier]);
const ENCAPSULATED = new Set<number>([DhcpOption.VendorSpecific, DhcpOption.Ipxe]);

function printable(data: Buffer): boolean {
  return data.length > 0 && [...data].every((c) => c >= 0x20 && c < 0x7f);
}

function describeValue(code: number, data: Buffer): string {
  if (code === DhcpOption.MessageType && data.length === 1) return MESSAGE_TYPE_NAMES[data[0] ?? 0] ?? String(data[0]);
  if (TEXT_OPTIONS.has(code)) return JSON.stringify(data.toString('latin1'));
  if (IP_OPTIONS.has(code) && data.length % 4 === 0 && data.length > 0) {
    const ips: string[] = [];
    for (let i = 0; i < data.length; i += 4) ips.push([...data.subarray(i, i + 4)].join('.'));
    return ips.join(', ');
  }
  if (code === DhcpOption.ParameterRequestList) return [...data].join(' ');
  if (code === DhcpOption.UserClass) return decodeUserClass(data).map((c) => JSON.stringify(c)).join(', ');
  if (ENCAPSULATED.has(code)) {
    try {
      return `{ ${decodeEncapsulated(data, optionName(code)).map((s) => `${s.code}: ${printable(s.data) ? JSON.stringify(s.data.toString('latin1')) : s.data.toString('hex')}`).join(', ')} }`;
    } catch (err) {
      if (!(err instanceof DecodeError)) throw err;
    }
  }
  if ([2, 4].includes(data.length) && !printable(data)) return `${data.length === 2 ? data.readUInt16BE(0) : data.readUInt32BE(0)} (0x${data.toString('hex')})`;
  return data.toString('hex');
}

export function describeDhcpMessage(m: DhcpMessage): string {
  const lines = [
    `op ${m.op} htype ${m.htype} hlen ${m.hlen} hops ${m.hops} xid 0x${m.xid.toString(16).padStart(8, '0')} secs ${m.secs} flags 0x${m.flags.toString(16).padStart(4, '0')}`,
    `ciaddr ${m.ciaddr} yiaddr ${m.yiaddr} siaddr ${m.siaddr} giaddr ${m.giaddr}`,
    `chaddr ${clientMac(m)}`,
    `sname ${JSON.stringify(m.sname)} file ${JSON.stringify(m.file)}`,
    ...m.options.map((o) => `${String(o.code).padStart(3)} ${optionName(o.code)}: ${describeValue(o.code, o.data)}`),
    `padding ${m.padding?.length ?? 'default'} bytes`,
  ];
  return `${lines.join('\n')}\n`;
}
