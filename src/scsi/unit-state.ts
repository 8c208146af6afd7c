// What a logical unit knows about itself: identity strings, limits, capacity, and the one piece
// of changeable mode state (WCE). The SPC/SBC handlers read this instead of reaching into the
// BlockLogicalUnit class.
import { createHash } from 'node:crypto';
import type { BlockDevice } from '../storage/block-device.ts';
import { createReservationState } from './reservation-state.ts';
import type { ReservationState } from './reservation-state.ts';

export interface LogicalUnitOptions {
  /** INQUIRY PRODUCT IDENTIFICATION (up to 16 ASCII characters). */
  readonly productId?: string;
  /** INQUIRY PRODUCT REVISION LEVEL (up to 4 ASCII characters). */
  readonly revision?: string;
  /** Unit serial number (VPD 80h); defaults to the device id. */
  readonly serial?: string;
  /** Largest READ/WRITE the initiator may send (VPD B0h MAXIMUM TRANSFER LENGTH). */
  readonly maxTransferBytes?: number;
  /** Largest WRITE SAME range (VPD B0h MAXIMUM WRITE SAME LENGTH). */
  readonly maxWriteSameBytes?: number;
  /** Largest UNMAP range per descriptor (VPD B0h MAXIMUM UNMAP LBA COUNT). */
  readonly maxUnmapBytes?: number;
  /** Initial WCE bit of the caching mode page. */
  readonly writeCacheEnabled?: boolean;
}

export interface UnitIdentity {
  readonly vendor: string;
  readonly product: string;
  readonly revision: string;
  readonly serial: string;
  /** NAA IEEE Registered Extended designator (16 bytes) for VPD 83h. */
  readonly naa: Buffer;
}

/** SBC-3 6.5.3 Block Limits, in blocks. */
export interface BlockLimits {
  readonly maxTransferBlocks: number;
  readonly optimalTransferGranularityBlocks: number;
  readonly maxCompareAndWriteBlocks: number;
  readonly maxUnmapBlocks: number;
  readonly maxUnmapDescriptors: number;
  readonly maxWriteSameBlocks: number;
  /** MAXIMUM ATOMIC TRANSFER LENGTH (SBC-4 6.6.4) for WRITE ATOMIC(16). */
  readonly maxAtomicTransferBlocks: number;
}

export interface UnitState {
  readonly device: BlockDevice;
  readonly blockSize: number;
  readonly capacityBlocks: number;
  readonly identity: UnitIdentity;
  readonly limits: BlockLimits;
  /** Caching mode page WCE: when false every write is durable (SBC-3 6.4.5). */
  writeCacheEnabled: boolean;
  /** WCE as configured, reported for MODE SENSE default values. */
  readonly defaultWriteCacheEnabled: boolean;
  /** Registrations and the reservation in effect, shared by every I_T nexus (SPC-4 5.12). */
  readonly reservations: ReservationState;
}

export const VENDOR = 'DISKLESS';
/**
 * IEEE company id for the NAA designator. We own no OUI; the value has the locally
 * administered bit (02h of the first octet, as in IEEE 802 MAC addresses) set so it cannot
 * collide with an assigned company id.
 */
export const NAA_COMPANY_ID = 0x02d15cn;

const DEFAULT_MAX_TRANSFER_BYTES = 8 * 1024 * 1024;
// libiscsi's conformance suite holds these to sane bounds: MAXIMUM UNMAP LBA COUNT at most
// 2^20 blocks, and a MAXIMUM WRITE SAME LENGTH of 65536 blocks or more makes it WRITE and READ
// that many blocks in one command, beyond MAXIMUM TRANSFER LENGTH.
const DEFAULT_MAX_WRITE_SAME_BYTES = 16 * 1024 * 1024;
const DEFAULT_MAX_UNMAP_BYTES = 256 * 1024 * 1024;
const MAX_COMPARE_AND_WRITE_BLOCKS = 255; // one-byte field (SBC-3 6.5.3)
const MAX_UNMAP_DESCRIPTORS = 256;
const MAX_UNMAP_BLOCKS = 1024 * 1024;

/** SPC-4 4.4.1: ASCII data fields hold only 20h-7Eh. */
export function toAsciiField(text: string, maxLength: number): string {
  return text.replace(/[^\x20-\x7e]/g, '_').slice(0, maxLength);
}

/**
 * NAA 6 (SPC-4 7.8.6.6.5): NAA | IEEE COMPANY_ID (24 bits) | 100 bits vendor specific, here
 * taken from a hash of the device id so the same disk keeps the same identifier.
 */
export function naaForDevice(deviceId: string): Buffer {
  const digest = createHash('sha256').update(`diskless-naa:${deviceId}`).digest();
  const vendorBits = digest.readBigUInt64BE(0) << 40n | BigInt(digest.readUIntBE(8, 5));
  const value = (6n << 124n) | (NAA_COMPANY_ID << 100n) | (vendorBits & ((1n << 100n) - 1n));
  const naa = Buffer.alloc(16);
  naa.writeBigUInt64BE(value >> 64n, 0);
  naa.writeBigUInt64BE(value & 0xffff_ffff_ffff_ffffn, 8);
  return naa;
}

export function createUnitState(device: BlockDevice, options: LogicalUnitOptions = {}): UnitState {
  const blockSize = device.blockSize;
  const blocksOf = (bytes: number): number => Math.max(1, Math.floor(bytes / blockSize));
  const maxTransferBlocks = blocksOf(options.maxTransferBytes ?? DEFAULT_MAX_TRANSFER_BYTES);
  const maxWriteSameBlocks = blocksOf(options.maxWriteSameBytes ?? DEFAULT_MAX_WRITE_SAME_BYTES);
  return {
    device,
    blockSize,
    capacityBlocks: Math.floor(device.sizeBytes / blockSize),
    identity: {
      vendor: VENDOR,
      product: toAsciiField(options.productId ?? 'VIRTUAL DISK', 16),
      revision: toAsciiField(options.revision ?? '0001', 4),
      serial: toAsciiField(options.serial ?? device.id, 252),
      naa: naaForDevice(device.id),
    },
    limits: {
      maxTransferBlocks,
      optimalTransferGranularityBlocks: Math.max(1, 4096 / blockSize),
      maxCompareAndWriteBlocks: Math.min(MAX_COMPARE_AND_WRITE_BLOCKS, maxTransferBlocks),
      maxUnmapBlocks: Math.min(blocksOf(options.maxUnmapBytes ?? DEFAULT_MAX_UNMAP_BYTES), MAX_UNMAP_BLOCKS),
      maxUnmapDescriptors: MAX_UNMAP_DESCRIPTORS,
      maxWriteSameBlocks,
      // WRITE ATOMIC(16) has a 2-byte TRANSFER LENGTH, and libiscsi requires at most
      // MAXIMUM TRANSFER LENGTH.
      maxAtomicTransferBlocks: Math.min(maxTransferBlocks, 0xffff),
    },
    writeCacheEnabled: options.writeCacheEnabled ?? true,
    defaultWriteCacheEnabled: options.writeCacheEnabled ?? true,
    reservations: createReservationState(),
  };
}
