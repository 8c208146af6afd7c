// Shared byte helpers for codecs.
export const EMPTY = Buffer.alloc(0);

/** Bytes of padding that bring `length` to a multiple of 4 (iSCSI pads every segment so). */
export function padTo4(length: number): number {
  return (4 - (length & 3)) & 3;
}
