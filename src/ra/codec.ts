// Router Solicitation and Router Advertisement messages (RFC 4861 sections 4.1, 4.2, 4.6):
// the ICMPv6 message only, as a raw ICMPv6 socket hands it over and takes it (no IPv6 header).
// The checksum field is left 0 on encode and not checked on decode: for raw ICMPv6 sockets the
// kernel computes it on send and drops bad ones on receive (RFC 3542 section 3.1).
// Pure: no sockets, no timers.
import { DecodeError } from '../lib/errors.ts';

export const ICMPV6_ROUTER_SOLICITATION = 133;
export const ICMPV6_ROUTER_ADVERTISEMENT = 134;
/** RFC 4861 section 4.6.1. */
export const ND_OPTION_SOURCE_LINK_LAYER = 1;
/** RFC 4861 section 4.6: option lengths count 8-octet units. */
const OPTION_UNIT = 8;
/** Type, code, checksum, reserved (RFC 4861 section 4.1). */
const RS_HEADER_LENGTH = 8;
/** Type, code, checksum, cur hop limit, flags, router lifetime, reachable time, retrans timer (section 4.2). */
const RA_HEADER_LENGTH = 16;
const FLAG_MANAGED = 0x80;
const FLAG_OTHER = 0x40;

/** An option other than those decoded into fields: type and the bytes after type and length. */
export interface NdOption {
  readonly type: number;
  readonly value: Buffer;
}

export interface RouterSolicitation {
  /** The Source Link-Layer Address option's value (6 bytes on Ethernet), or null. */
  readonly sourceLinkLayer: Buffer | null;
  /** Every option in order, the source link-layer one included. */
  readonly options: readonly NdOption[];
}

export interface RouterAdvertisement {
  /** 0: unspecified (hosts keep their own). */
  readonly curHopLimit: number;
  /** M: addresses come from DHCPv6. */
  readonly managed: boolean;
  /** O: other configuration comes from DHCPv6. */
  readonly other: boolean;
  /** Seconds; 0: not a default router (RFC 4861 section 4.2, 6.3.4). */
  readonly routerLifetime: number;
  /** Milliseconds; 0: unspecified. */
  readonly reachableTime: number;
  /** Milliseconds; 0: unspecified. */
  readonly retransTimer: number;
  /** The Source Link-Layer Address option (RFC 4861 section 4.6.1), or null to leave it out. */
  readonly sourceLinkLayer: Buffer | null;
}

export interface DecodedRouterAdvertisement extends RouterAdvertisement {
  readonly options: readonly NdOption[];
}

/**
 * What diskless sends (docs/ROUTER-ADVERTISEMENTS.md): cur hop limit 64, M=0 and O=0 (no
 * DHCPv6: the first such RA ends iPXE's IPv6 autoconfiguration at once), router lifetime 0
 * (we are not a default router: hosts must not route through us), reachable time and retrans
 * timer 0 (unspecified), no prefix.
 */
export function disklessRouterAdvertisement(sourceLinkLayer: Buffer | null): RouterAdvertisement {
  return { curHopLimit: 64, managed: false, other: false, routerLifetime: 0, reachableTime: 0, retransTimer: 0, sourceLinkLayer };
}

/** RFC 4861 section 4.6: type, length in 8-octet units, then the options; all must fit exactly. */
function decodeOptions(bytes: Uint8Array, offset: number): NdOption[] {
  const options: NdOption[] = [];
  let at = offset;
  while (at < bytes.length) {
    if (bytes.length - at < 2) throw new DecodeError('ND_OPTION_TRUNCATED', `option header at byte ${at} is cut off`);
    const type = bytes[at] ?? 0;
    const units = bytes[at + 1] ?? 0;
    // RFC 4861 section 4.6 and 6.1.1/6.1.2: a zero length option makes the message invalid.
    if (units === 0) throw new DecodeError('ND_OPTION_ZERO_LENGTH', `option ${type} at byte ${at} has length 0`);
    const end = at + units * OPTION_UNIT;
    if (end > bytes.length) throw new DecodeError('ND_OPTION_TRUNCATED', `option ${type} at byte ${at} runs ${end - bytes.length} bytes past the message`);
    options.push({ type, value: Buffer.from(bytes.subarray(at + 2, end)) });
    at = end;
  }
  return options;
}

function checkHeader(bytes: Uint8Array, type: number, minimum: number, name: string): void {
  if (bytes.length < minimum) throw new DecodeError('ND_SHORT', `${name} of ${bytes.length} bytes is shorter than ${minimum} (RFC 4861)`);
  if (bytes[0] !== type) throw new DecodeError('ND_WRONG_TYPE', `ICMPv6 type ${bytes[0] ?? '?'} is not a ${name} (${type})`);
  if (bytes[1] !== 0) throw new DecodeError('ND_BAD_CODE', `${name} with ICMP code ${bytes[1] ?? '?'} (must be 0)`);
}

function sourceLinkLayerOf(options: readonly NdOption[]): Buffer | null {
  const option = options.find((o) => o.type === ND_OPTION_SOURCE_LINK_LAYER);
  if (option === undefined) return null;
  // Ethernet: exactly the 6 bytes of a one-unit option (RFC 2464 section 6); other link layers'
  // addresses come with their padding.
  return option.value;
}

/**
 * A Router Solicitation (RFC 4861 section 4.1), validated as section 6.1.1 asks of what the
 * message itself shows: type 133, code 0, at least 8 bytes, every option of non-zero length and
 * inside the message. The IP-level checks (hop limit 255, no source link-layer option from the
 * unspecified address) need the packet's addresses: see responder.ts. Throws DecodeError only.
 */
export function decodeRouterSolicitation(bytes: Uint8Array): RouterSolicitation {
  checkHeader(bytes, ICMPV6_ROUTER_SOLICITATION, RS_HEADER_LENGTH, 'router solicitation');
  // Bytes 4..7 are reserved: "MUST be ignored by the receiver" (section 4.1).
  const options = decodeOptions(bytes, RS_HEADER_LENGTH);
  return { sourceLinkLayer: sourceLinkLayerOf(options), options };
}

/** A Router Advertisement (RFC 4861 section 4.2); for tests and tools. Throws DecodeError only. */
export function decodeRouterAdvertisement(bytes: Uint8Array): DecodedRouterAdvertisement {
  checkHeader(bytes, ICMPV6_ROUTER_ADVERTISEMENT, RA_HEADER_LENGTH, 'router advertisement');
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const flags = view.getUint8(5);
  const options = decodeOptions(bytes, RA_HEADER_LENGTH);
  return {
    curHopLimit: view.getUint8(4),
    managed: (flags & FLAG_MANAGED) !== 0,
    other: (flags & FLAG_OTHER) !== 0,
    routerLifetime: view.getUint16(6),
    reachableTime: view.getUint32(8),
    retransTimer: view.getUint32(12),
    sourceLinkLayer: sourceLinkLayerOf(options),
    options,
  };
}

/** RFC 4861 section 4.2 (and 4.6.1 for the source link-layer address). Checksum left 0 for the kernel. */
export function encodeRouterAdvertisement(ra: RouterAdvertisement): Buffer {
  const lla = ra.sourceLinkLayer;
  // The option is padded to whole 8-octet units (section 4.6).
  const optionLength = lla === null ? 0 : Math.ceil((lla.length + 2) / OPTION_UNIT) * OPTION_UNIT;
  if (optionLength > 255 * OPTION_UNIT) throw new RangeError(`link-layer address of ${lla?.length ?? 0} bytes is too long for an ND option`);
  for (const [name, value, max] of [['curHopLimit', ra.curHopLimit, 0xff], ['routerLifetime', ra.routerLifetime, 0xffff], ['reachableTime', ra.reachableTime, 0xffffffff], ['retransTimer', ra.retransTimer, 0xffffffff]] as const) {
    if (!Number.isInteger(value) || value < 0 || value > max) throw new RangeError(`${name} ${value} is outside 0..${max}`);
  }
  const out = Buffer.alloc(RA_HEADER_LENGTH + optionLength);
  out[0] = ICMPV6_ROUTER_ADVERTISEMENT;
  out[1] = 0; // code
  out.writeUInt16BE(0, 2); // checksum: the kernel's
  out[4] = ra.curHopLimit;
  out[5] = (ra.managed ? FLAG_MANAGED : 0) | (ra.other ? FLAG_OTHER : 0);
  out.writeUInt16BE(ra.routerLifetime, 6);
  out.writeUInt32BE(ra.reachableTime, 8);
  out.writeUInt32BE(ra.retransTimer, 12);
  if (lla !== null) {
    out[RA_HEADER_LENGTH] = ND_OPTION_SOURCE_LINK_LAYER;
    out[RA_HEADER_LENGTH + 1] = optionLength / OPTION_UNIT;
    lla.copy(out, RA_HEADER_LENGTH + 2);
  }
  return out;
}

/** "52:54:00:12:34:56" → 6 bytes; null for anything else (or the all-zero address of interfaces without one). */
export function parseMac(text: string): Buffer | null {
  if (!/^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/i.test(text)) return null;
  const bytes = Buffer.from(text.replace(/:/g, ''), 'hex');
  return bytes.every((b) => b === 0) ? null : bytes;
}

/** A link-layer address for logs: colon-separated hex. */
export function formatLinkLayer(bytes: Buffer): string {
  return [...bytes].map((b) => b.toString(16).padStart(2, '0')).join(':');
}
