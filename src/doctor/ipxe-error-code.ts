// Reads an iPXE error code the way users paste it ("0x1d704039", "1d704039", the
// http://ipxe.org/1d704039 link iPXE prints) and splits it into its fields (ipxe-errno.ts).
import { ARCH_FLAG, EFI_STATUS, FILE_AREAS, FILE_CATEGORIES, FILES, POSIX_ERRORS, PXE_STATUS, X86_FILES, type PosixError } from './ipxe-errno.ts';

export interface DecodedIpxeError {
  readonly code: number;
  /** "0x1d704039". */
  readonly hex: string;
  readonly posix: { readonly value: number } & Partial<PosixError>;
  readonly file: {
    /** Bits 23-13 as they sit in the code (e.g. 0x704000 for scsi.c). */
    readonly id: number;
    readonly category: string | null;
    readonly arch: boolean;
    readonly index: number;
    /** The source file's errfile name ("scsi"), or null when diskless's table lacks it. */
    readonly name: string | null;
    /** What that file does, in words, when diskless knows. */
    readonly area: string | null;
  };
  /** Bits 12-8: which of several sites in the file (0 for the plain error). */
  readonly disambiguator: number;
  readonly platform: { readonly value: number; readonly meaning: string };
}

/** Bits 31-8: everything but the platform byte, which differs between BIOS and UEFI builds. */
export function errorSite(code: number): number {
  return (code >>> 8) & 0x7fffff;
}

export function formatIpxeCode(code: number): string {
  return `0x${(code >>> 0).toString(16).padStart(8, '0')}`;
}

/**
 * Parses one code as typed or pasted; null when it is not one. Bit 31 set means it cannot be an
 * iPXE error (they are returned negated, so bit 31 is never used): often a memory address.
 */
export function parseIpxeCode(input: string): number | null {
  const match = /^\(?(?:(?:https?:\/\/)?(?:www\.)?ipxe\.org\/(?:err\/)?)?(?:0x)?([0-9a-f]{1,8})\)?$/i.exec(input.trim());
  const digits = match?.[1];
  if (digits === undefined) return null;
  const code = Number.parseInt(digits, 16);
  return code > 0 && code <= 0x7fffffff ? code : null;
}

function describePlatform(posix: number, platform: number): string {
  const expectedPxe = POSIX_ERRORS[posix]?.pxeStatus;
  const efi = EFI_STATUS[platform & 0x7f];
  const pxe = PXE_STATUS[platform];
  if (posix === 0x7f) return efi !== undefined && (platform & 0x80) !== 0 ? `${efi}, from the UEFI firmware` : `firmware status 0x${hex2(platform)}`;
  if (pxe !== undefined && platform === expectedPxe) return `${pxe}: a BIOS build of iPXE`;
  if ((platform & 0x80) !== 0 && efi !== undefined) return `${efi}: a UEFI build of iPXE`;
  if (pxe !== undefined) return pxe;
  return `0x${hex2(platform)}`;
}

function hex2(n: number): string {
  return n.toString(16).padStart(2, '0');
}

export function decodeIpxeError(code: number): DecodedIpxeError {
  const posixValue = (code >>> 24) & 0x7f;
  const arch = (code & ARCH_FLAG) !== 0;
  const category = FILE_CATEGORIES[(code >>> 13) & 0x7] ?? null;
  const index = (code >>> 16) & 0x7f;
  const table = category === null ? undefined : (arch ? X86_FILES : FILES)[category];
  const name = table?.[index] ?? null;
  const platform = code & 0xff;
  return {
    code,
    hex: formatIpxeCode(code),
    posix: { value: posixValue, ...POSIX_ERRORS[posixValue] },
    file: { id: code & 0x00ffe000, category, arch, index, name, area: name === null ? null : (FILE_AREAS[name] ?? null) },
    disambiguator: (code >>> 8) & 0x1f,
    platform: { value: platform, meaning: describePlatform(posixValue, platform) },
  };
}
