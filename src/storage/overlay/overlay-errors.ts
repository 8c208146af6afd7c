// Stable error codes of the overlay, one per failure site (the catalogue style of
// ../../lib/errors.ts). Decoding failures are DecodeError, the rest DisklessError.
export const OverlayErrorCode = {
  /** The file is shorter than a header. */
  HeaderTruncated: 'OVERLAY_HEADER_TRUNCATED',
  BadMagic: 'OVERLAY_BAD_MAGIC',
  BadVersion: 'OVERLAY_BAD_VERSION',
  BadHeaderCrc: 'OVERLAY_BAD_HEADER_CRC',
  BadClusterSize: 'OVERLAY_BAD_CLUSTER_SIZE',
  /** A header field out of range (block size, sizes, generation, reserved bytes). */
  BadHeaderField: 'OVERLAY_BAD_HEADER_FIELD',
  /** Map offset, map size or data offset disagree with the sizes. */
  BadLayout: 'OVERLAY_BAD_LAYOUT',
  /** One map entry is malformed (unknown kind, reserved bits, check mismatch). */
  BadEntry: 'OVERLAY_BAD_ENTRY',
  /** The map as a whole is inconsistent (a slot out of range, or mapped twice); see checkOverlay. */
  CorruptMap: 'OVERLAY_CORRUPT_MAP',
  /** The base image's size differs from the one recorded at creation. */
  BaseSizeChanged: 'OVERLAY_BASE_SIZE_CHANGED',
  /** The base image's sampled content differs from the one recorded at creation. */
  BaseContentChanged: 'OVERLAY_BASE_CONTENT_CHANGED',
  /** The caller's image digest differs from the one recorded at creation. */
  ImageDigestMismatch: 'OVERLAY_IMAGE_DIGEST_MISMATCH',
  /** createOverlay options out of range. */
  BadOptions: 'OVERLAY_BAD_OPTIONS',
  /** The map has no room left to address another data slot. */
  SlotsExhausted: 'OVERLAY_SLOTS_EXHAUSTED',
} as const;

export type OverlayErrorCode = (typeof OverlayErrorCode)[keyof typeof OverlayErrorCode];
