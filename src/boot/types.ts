// The seam between the DHCP server and boot policy: DHCP classifies the client (dhcp/pxe.ts),
// the boot policy (boot/policy.ts) says what that client should boot. Neither knows the other's
// internals; both are pure.

/** Client system architecture, option 93 (RFC 4578 section 2.1; IANA "Processor Architecture Types"). */
export const ClientArch = {
  BiosX86: 0,
  EfiIa32: 6,
  EfiX64: 7,
  EfiBc: 9, // EFI byte code, which firmware vendors use for x64 too
  EfiArm32: 10,
  EfiArm64: 11,
  EfiX64Http: 16,
  EfiArm64Http: 19,
} as const;

export type Firmware =
  /** A vendor PXE ROM (BIOS or UEFI): it can only fetch a program over TFTP. */
  | 'pxe'
  /** iPXE (user class "iPXE", or "gPXE" for its ancestor): can fetch scripts over HTTP. */
  | 'ipxe'
  /** UEFI HTTP boot (vendor class "HTTPClient"): wants an http:// URL. */
  | 'http-boot';

export type Platform = 'bios' | 'efi-ia32' | 'efi-x64' | 'efi-arm32' | 'efi-arm64';

/** What DHCP learned about a client (dhcp/pxe.ts fills it in from the request's options). */
export interface PxeClient {
  /** Lower-case colon-separated MAC, e.g. "52:54:00:12:34:56". */
  readonly mac: string;
  readonly firmware: Firmware;
  readonly platform: Platform;
  /** Option 93 as sent, or null when absent. */
  readonly arch: number | null;
  /** Option 97 client machine identifier (UUID/GUID), lower-case hex without type byte, or null. */
  readonly uuid: string | null;
  /** Option 77 user class as text, or null. */
  readonly userClass: string | null;
  /** Option 60 vendor class identifier, or null. */
  readonly vendorClass: string | null;
  /** The client sent option 175 (iPXE encapsulated options): an iPXE build that knows them. */
  readonly hasIpxeOptions: boolean;
}

/** iPXE encapsulated options (option 175, iPXE's include/ipxe/dhcp.h). */
export interface IpxeOptions {
  /** 175.8: keep the SAN device registered after boot fails or returns (Windows installs). */
  readonly keepSan?: boolean;
  /** 175.9: register the SAN device but do not boot from it. */
  readonly skipSanBoot?: boolean;
  /** 175.176: do not wait for ProxyDHCP offers (saves about 2 s). */
  readonly noPxeDhcp?: boolean;
  /** 175.190/191: CHAP credentials; 175.192/193 reverse (mutual) CHAP. */
  readonly username?: string;
  readonly password?: string;
  readonly reverseUsername?: string;
  readonly reversePassword?: string;
}

/** pxelinux options (RFC 5071): 208 magic, 209 config file, 210 path prefix, 211 reboot time. */
export interface PxelinuxOptions {
  readonly configFile?: string;
  readonly pathPrefix?: string;
  readonly rebootTimeSeconds?: number;
}

export interface BootDecision {
  /** TFTP file name or URL for the BOOTP `file` field and option 67. */
  readonly bootFile: string;
  /** siaddr (next-server): the TFTP server, this server's address on the client's network. */
  readonly nextServer: string;
  /** Option 17 root path, e.g. iscsi:10.0.0.1::3260:0:iqn... */
  readonly rootPath?: string;
  /** Option 203: the initiator IQN iPXE should use. */
  readonly initiatorIqn?: string;
  readonly ipxe?: IpxeOptions;
  readonly pxelinux?: PxelinuxOptions;
  /** Option 60 to send: "PXEClient" for PXE ROMs, "HTTPClient" for UEFI HTTP boot. */
  readonly vendorClass?: string;
}

export interface BootPolicy {
  /**
   * What this client should boot, given the address it reaches us at; null when the client
   * should get no boot answer (unknown and the default is to ignore it).
   */
  decide(client: PxeClient, serverAddress: string): BootDecision | null;
}
