// Which firmware is asking, from the options it sends: rules as data, first match wins.
// The keys: option 77 user class "iPXE" (gPXE, its ancestor, sent "gPXE"), option 175 (only iPXE
// sends it), option 60 "PXEClient:Arch:xxxxx:UNDI:yyyzzz" (PXE 2.1 section 2.2) or "HTTPClient"
// (UEFI 2.x section 24.7), option 93 architecture (RFC 4578 section 2.1, IANA registry).
// A chainloaded undionly.kpxe/ipxe.efi sends user class iPXE like a ROM iPXE: both are 'ipxe' and
// get the HTTP script, never the TFTP program again; that is what breaks chainload loops.
import type { Firmware, Platform, PxeClient } from '../boot/types.ts';
import type { DhcpMessage } from './wire/packet.ts';
import { clientMac } from './wire/packet.ts';
import { DhcpOption } from './wire/option-codes.ts';
import { decodeUserClass, findOption, readClientArch, readClientMachineId, readStringOption } from './wire/options.ts';

/** What the request says, before classification. */
export interface ClientFacts {
  readonly arch: number | null;
  readonly vendorClass: string | null;
  readonly userClasses: readonly string[];
  readonly hasIpxeOptions: boolean;
}

interface ArchInfo {
  readonly platform: Platform;
  /** RFC 4578 / IANA: the UEFI HTTP boot variants (15-19) want an http:// URL. */
  readonly httpBoot: boolean;
}

/** IANA "Processor Architecture Types" (option 93) that diskless can serve. */
export const ARCH_TABLE: Readonly<Record<number, ArchInfo>> = {
  0: { platform: 'bios', httpBoot: false }, // x86 BIOS
  6: { platform: 'efi-ia32', httpBoot: false }, // x86 UEFI
  7: { platform: 'efi-x64', httpBoot: false }, // x64 UEFI (RFC 4578 erratum: firmware sends 7 for x64)
  9: { platform: 'efi-x64', httpBoot: false }, // IANA "x64 UEFI"; some firmware sends it
  10: { platform: 'efi-arm32', httpBoot: false },
  11: { platform: 'efi-arm64', httpBoot: false },
  15: { platform: 'efi-ia32', httpBoot: true },
  16: { platform: 'efi-x64', httpBoot: true },
  18: { platform: 'efi-arm32', httpBoot: true },
  19: { platform: 'efi-arm64', httpBoot: true },
};

interface FirmwareRule {
  readonly firmware: Firmware;
  readonly why: string;
  readonly matches: (f: ClientFacts) => boolean;
}

const IPXE_USER_CLASSES = new Set(['iPXE', 'gPXE']);
const startsWith = (prefix: string) => (f: ClientFacts): boolean => f.vendorClass?.startsWith(prefix) === true;

/** Order matters: iPXE also sends "PXEClient", so it must be recognised first. */
export const FIRMWARE_RULES: readonly FirmwareRule[] = [
  { firmware: 'ipxe', why: 'user class iPXE/gPXE', matches: (f) => f.userClasses.some((c) => IPXE_USER_CLASSES.has(c)) },
  { firmware: 'ipxe', why: 'option 175 present', matches: (f) => f.hasIpxeOptions },
  { firmware: 'http-boot', why: 'vendor class HTTPClient', matches: startsWith('HTTPClient') },
  { firmware: 'http-boot', why: 'HTTP boot architecture', matches: (f) => f.arch !== null && ARCH_TABLE[f.arch]?.httpBoot === true },
  { firmware: 'pxe', why: 'vendor class PXEClient', matches: startsWith('PXEClient') },
  // PXE 2.1 requires option 60, but option 93 alone already says "network boot firmware".
  { firmware: 'pxe', why: 'client architecture present', matches: (f) => f.arch !== null },
];

export function readClientFacts(request: DhcpMessage): ClientFacts {
  const userClass = findOption(request.options, DhcpOption.UserClass);
  return {
    arch: readClientArch(request.options),
    vendorClass: readStringOption(request.options, DhcpOption.VendorClassIdentifier),
    userClasses: userClass === null ? [] : decodeUserClass(userClass),
    hasIpxeOptions: findOption(request.options, DhcpOption.Ipxe) !== null,
  };
}

/** The first rule that matches, or null: a plain DHCP client (an OS, udhcpc) that boots nothing. */
export function matchFirmwareRule(facts: ClientFacts): FirmwareRule | null {
  return FIRMWARE_RULES.find((r) => r.matches(facts)) ?? null;
}

/**
 * Classifies a network-boot client, or returns null for a client that is not booting from the
 * network (no PXE/HTTP vendor class, no iPXE marker, no architecture) or whose architecture has
 * no platform diskless knows. Option 93 absent means BIOS: old BIOS PXE ROMs omit it.
 * Throws DecodeError when a present option is malformed (option 93 of odd length, bad 97).
 */
export function classifyPxeClient(request: DhcpMessage): PxeClient | null {
  const facts = readClientFacts(request);
  const rule = matchFirmwareRule(facts);
  if (rule === null) return null;
  const platform = facts.arch === null ? 'bios' : ARCH_TABLE[facts.arch]?.platform;
  if (platform === undefined) return null;
  const uuid = readClientMachineId(request.options);
  return {
    mac: clientMac(request),
    firmware: rule.firmware,
    platform,
    arch: facts.arch,
    uuid,
    userClass: facts.userClasses.length === 0 ? null : facts.userClasses.join(','),
    vendorClass: facts.vendorClass,
    hasIpxeOptions: facts.hasIpxeOptions,
  };
}
