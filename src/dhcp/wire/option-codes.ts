// DHCPv4 option codes and message types as data. Names follow RFC 2132 (and the RFC cited per
// line) so a reader can check them against the spec; OPTION_NAMES drives logs and pretty-prints.

/** DHCP option codes (RFC 2132 unless noted). */
export const DhcpOption = {
  Pad: 0,
  SubnetMask: 1,
  Router: 3,
  DomainNameServer: 6,
  HostName: 12,
  DomainName: 15,
  RootPath: 17,
  BroadcastAddress: 28,
  VendorSpecific: 43,
  RequestedIpAddress: 50,
  IpAddressLeaseTime: 51,
  OptionOverload: 52,
  MessageType: 53,
  ServerIdentifier: 54,
  ParameterRequestList: 55,
  Message: 56,
  MaxMessageSize: 57,
  RenewalTime: 58,
  RebindingTime: 59,
  VendorClassIdentifier: 60,
  ClientIdentifier: 61,
  TftpServerName: 66,
  BootfileName: 67,
  UserClass: 77, // RFC 3004
  RelayAgentInformation: 82, // RFC 3046
  ClientSystemArchitecture: 93, // RFC 4578
  ClientNetworkInterfaceId: 94, // RFC 4578
  ClientMachineId: 97, // RFC 4578 (UUID/GUID)
  Ipxe: 175, // iPXE encapsulated options (include/ipxe/dhcp.h)
  IscsiInitiatorIqn: 203, // iPXE
  PxelinuxMagic: 208, // RFC 5071
  PxelinuxConfigFile: 209,
  PxelinuxPathPrefix: 210,
  PxelinuxRebootTime: 211,
  End: 255,
} as const;

export const OPTION_NAMES: Readonly<Record<number, string>> = Object.fromEntries(
  Object.entries(DhcpOption).map(([name, code]) => [code, name]),
);

export function optionName(code: number): string {
  return OPTION_NAMES[code] ?? `option-${code}`;
}

/** Option 53 values (RFC 2132 section 9.6). */
export const MessageType = {
  Discover: 1,
  Offer: 2,
  Request: 3,
  Decline: 4,
  Ack: 5,
  Nak: 6,
  Release: 7,
  Inform: 8,
} as const;
export type MessageTypeCode = (typeof MessageType)[keyof typeof MessageType];

export const MESSAGE_TYPE_NAMES: Readonly<Record<number, string>> = {
  1: 'DISCOVER', 2: 'OFFER', 3: 'REQUEST', 4: 'DECLINE', 5: 'ACK', 6: 'NAK', 7: 'RELEASE', 8: 'INFORM',
};

/** BOOTP op field (RFC 951, RFC 2131 section 2). */
export const BootpOp = { BootRequest: 1, BootReply: 2 } as const;

/** flags field: the only defined bit asks servers to broadcast replies (RFC 2131 section 2). */
export const BROADCAST_FLAG = 0x8000;

/** Sub-options of option 43 for PXE clients (PXE 2.1 specification, table 2-1). */
export const PxeVendorOption = {
  MtftpIp: 1,
  DiscoveryControl: 6,
  BootServers: 8,
  BootMenu: 9,
  MenuPrompt: 10,
  BootItem: 71,
} as const;

/**
 * PXE_DISCOVERY_CONTROL (PXE 2.1 table 2-1): bit 3 = "if a boot file name is present in the
 * offer, download it without prompting, menu or boot server discovery" (bits 0/1 would disable
 * broadcast/multicast discovery, moot once bit 3 applies). With a file present the ROM goes
 * straight to TFTP.
 */
export const PXE_DISCOVERY_USE_BOOTFILE = 8;

/** Sub-options of option 175 (iPXE include/ipxe/dhcp.h). */
export const IpxeOption = {
  Priority: 1,
  KeepSan: 8,
  SkipSanBoot: 9,
  Syslogs: 85,
  Cert: 91,
  Privkey: 92,
  CrossCert: 93,
  NoPxeDhcp: 176,
  BusId: 177,
  SanFilename: 188,
  BiosDrive: 189,
  Username: 190,
  Password: 191,
  ReverseUsername: 192,
  ReversePassword: 193,
  Uuid: 194,
  Version: 235,
} as const;

/** RFC 5071 section 4: option 208 must carry exactly these bytes for pxelinux to read 209-211. */
export const PXELINUX_MAGIC = Buffer.from([0xf1, 0x00, 0x74, 0x7e]);
