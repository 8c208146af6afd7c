// CRC32C (Castagnoli) as iSCSI uses it for header and data digests (RFC 7143 section 13.1,
// test vectors in RFC 3720 appendix B.4). @node-rs/crc32 computes it in native code with SSE4.2.
import { crc32c as nativeCrc32c } from '@node-rs/crc32';

/** CRC32C of the bytes, continuing from `initial` (0 to start). */
export function crc32c(bytes: Uint8Array, initial = 0): number {
  return nativeCrc32c(bytes, initial) >>> 0;
}

/** The digest as iSCSI puts it on the wire: the CRC32C value, least significant byte first. */
export function writeDigest(target: Buffer, offset: number, value: number): void {
  target.writeUInt32LE(value >>> 0, offset);
}

export function readDigest(source: Buffer, offset: number): number {
  return source.readUInt32LE(offset);
}
