// Which options a reply carries, as data: each candidate says whether it goes out always or only
// when the client listed it in option 55. RFC 2131 section 4.3.1 lets the server send what the
// client asked for; PXE 2.1 section 2.2 requires 60 (and 43) in answers to PXE clients; iPXE and
// pxelinux read their own options (175, 208-211) whether or not they asked.
import type { BootDecision, PxeClient } from '../boot/types.ts';
import type { DhcpMessage } from './wire/packet.ts';
import type { DhcpOptionEntry } from './wire/options.ts';
import { DhcpOption, IpxeOption, PXELINUX_MAGIC, PXE_DISCOVERY_USE_BOOTFILE, PxeVendorOption } from './wire/option-codes.ts';
import { encodeEncapsulated, findOption, ipBytes, readStringOption, u32Bytes } from './wire/options.ts';

export type Inclusion = 'always' | 'requested';

export interface Candidate {
  readonly code: number;
  readonly data: Buffer;
  readonly when: Inclusion;
}

const FILE_FIELD_LENGTH = 128;

/** Options in reply order: the 'always' ones as listed, then requested ones in option 55 order. */
export function selectOptions(request: DhcpMessage, candidates: readonly Candidate[]): DhcpOptionEntry[] {
  const prl = findOption(request.options, DhcpOption.ParameterRequestList);
  const out: DhcpOptionEntry[] = [];
  for (const c of candidates) if (c.when === 'always') out.push({ code: c.code, data: c.data });
  if (prl === null) {
    // A client without option 55 (old BOOTP-ish clients) gets everything we have.
    for (const c of candidates) if (c.when === 'requested') out.push({ code: c.code, data: c.data });
    return out;
  }
  for (const code of prl) {
    for (const c of candidates) if (c.when === 'requested' && c.code === code) out.push({ code: c.code, data: c.data });
  }
  return out;
}

const text = (s: string): Buffer => Buffer.from(s, 'latin1');
const ipList = (ips: readonly string[]): Buffer => Buffer.concat(ips.map(ipBytes));

export interface NetworkOptions {
  readonly subnetMask: string;
  readonly routers: readonly string[];
  readonly dnsServers: readonly string[];
  readonly domainName: string | undefined;
  readonly broadcastAddress: string;
}

/** 1, 3, 6, 15, 28: what makes the address usable. */
export function networkCandidates(n: NetworkOptions, hostname: string | undefined): Candidate[] {
  const out: Candidate[] = [{ code: DhcpOption.SubnetMask, data: ipBytes(n.subnetMask), when: 'always' }];
  if (n.routers.length > 0) out.push({ code: DhcpOption.Router, data: ipList(n.routers), when: 'always' });
  if (n.dnsServers.length > 0) out.push({ code: DhcpOption.DomainNameServer, data: ipList(n.dnsServers), when: 'always' });
  out.push({ code: DhcpOption.BroadcastAddress, data: ipBytes(n.broadcastAddress), when: 'requested' });
  if (n.domainName !== undefined) out.push({ code: DhcpOption.DomainName, data: text(n.domainName), when: 'requested' });
  if (hostname !== undefined) out.push({ code: DhcpOption.HostName, data: text(hostname), when: 'requested' });
  return out;
}

/** 51, 58, 59: lease time with the RFC 2131 section 4.4.5 defaults T1 = 0.5, T2 = 0.875. */
export function leaseTimeCandidates(leaseSeconds: number): Candidate[] {
  return [
    { code: DhcpOption.IpAddressLeaseTime, data: u32Bytes(leaseSeconds), when: 'always' },
    { code: DhcpOption.RenewalTime, data: u32Bytes(Math.floor(leaseSeconds * 0.5)), when: 'always' },
    { code: DhcpOption.RebindingTime, data: u32Bytes(Math.floor(leaseSeconds * 0.875)), when: 'always' },
  ];
}

const ECHOED = [DhcpOption.ClientIdentifier, DhcpOption.RelayAgentInformation, DhcpOption.ClientMachineId] as const;

/** Options echoed from the request: 61 (RFC 6842), 82 (RFC 3046 section 2.2), 97 (PXE). */
export function echoCandidates(request: DhcpMessage): Candidate[] {
  const out: Candidate[] = [];
  for (const code of ECHOED) {
    const data = findOption(request.options, code);
    if (data !== null) out.push({ code, data, when: 'always' });
  }
  return out;
}

export interface BootFields {
  readonly siaddr: string;
  readonly file: string;
  readonly candidates: readonly Candidate[];
}

/** PXE 2.1 table 2-1, sub-option 6 = 8: use the boot file in this offer, skip discovery. */
const PXE_VENDOR_OPTIONS = encodeEncapsulated([{ code: PxeVendorOption.DiscoveryControl, data: Buffer.from([PXE_DISCOVERY_USE_BOOTFILE]) }], { end: true });

function flag(on: boolean | undefined): Buffer | null {
  return on === true ? Buffer.from([1]) : null;
}

/** iPXE sub-options (175) from the decision; 176 no-pxedhcp forced on in full mode. */
function ipxeSubOptions(decision: BootDecision, mode: 'full' | 'proxy'): DhcpOptionEntry[] {
  const o = decision.ipxe ?? {};
  const values: readonly (readonly [number, Buffer | null])[] = [
    [IpxeOption.KeepSan, flag(o.keepSan)],
    [IpxeOption.SkipSanBoot, flag(o.skipSanBoot)],
    // In full mode no ProxyDHCP server exists to wait for (iPXE waits ~2 s otherwise).
    [IpxeOption.NoPxeDhcp, flag(mode === 'full' || o.noPxeDhcp === true)],
    [IpxeOption.Username, o.username === undefined ? null : text(o.username)],
    [IpxeOption.Password, o.password === undefined ? null : text(o.password)],
    [IpxeOption.ReverseUsername, o.reverseUsername === undefined ? null : text(o.reverseUsername)],
    [IpxeOption.ReversePassword, o.reversePassword === undefined ? null : text(o.reversePassword)],
  ];
  return values.flatMap(([code, data]) => (data === null ? [] : [{ code, data }]));
}

function pxelinuxCandidates(decision: BootDecision): Candidate[] {
  const p = decision.pxelinux;
  if (p === undefined) return [];
  const out: Candidate[] = [{ code: DhcpOption.PxelinuxMagic, data: PXELINUX_MAGIC, when: 'always' }];
  if (p.configFile !== undefined) out.push({ code: DhcpOption.PxelinuxConfigFile, data: text(p.configFile), when: 'always' });
  if (p.pathPrefix !== undefined) out.push({ code: DhcpOption.PxelinuxPathPrefix, data: text(p.pathPrefix), when: 'always' });
  if (p.rebootTimeSeconds !== undefined) out.push({ code: DhcpOption.PxelinuxRebootTime, data: u32Bytes(p.rebootTimeSeconds), when: 'always' });
  return out;
}

/**
 * The boot part of a reply: siaddr and `file` (BOOTP fields every PXE ROM reads), and the
 * options: 66/67 when asked (67 always when the name does not fit the 128-byte field), 60 and 43
 * for PXE and HTTP boot clients, 17, 203, 175, 208-211.
 */
export function bootFields(request: DhcpMessage, client: PxeClient, decision: BootDecision, mode: 'full' | 'proxy'): BootFields {
  const fileFits = Buffer.byteLength(decision.bootFile, 'latin1') < FILE_FIELD_LENGTH;
  const candidates: Candidate[] = [];
  const requestVendor = readStringOption(request.options, DhcpOption.VendorClassIdentifier) ?? '';
  const vendorEcho = decision.vendorClass ?? (requestVendor.startsWith('PXEClient') ? 'PXEClient' : requestVendor.startsWith('HTTPClient') ? 'HTTPClient' : undefined);
  if (vendorEcho !== undefined) candidates.push({ code: DhcpOption.VendorClassIdentifier, data: text(vendorEcho), when: 'always' });
  if (requestVendor.startsWith('PXEClient')) candidates.push({ code: DhcpOption.VendorSpecific, data: PXE_VENDOR_OPTIONS, when: 'always' });
  candidates.push({ code: DhcpOption.TftpServerName, data: text(decision.nextServer), when: 'requested' });
  candidates.push({ code: DhcpOption.BootfileName, data: text(decision.bootFile), when: fileFits ? 'requested' : 'always' });
  if (decision.rootPath !== undefined) candidates.push({ code: DhcpOption.RootPath, data: text(decision.rootPath), when: 'requested' });
  if (decision.initiatorIqn !== undefined) candidates.push({ code: DhcpOption.IscsiInitiatorIqn, data: text(decision.initiatorIqn), when: 'requested' });
  if (client.firmware === 'ipxe') {
    const sub = ipxeSubOptions(decision, mode);
    if (sub.length > 0) candidates.push({ code: DhcpOption.Ipxe, data: encodeEncapsulated(sub, { end: false }), when: 'always' });
  }
  candidates.push(...pxelinuxCandidates(decision));
  return { siaddr: decision.nextServer, file: fileFits ? decision.bootFile : '', candidates };
}
