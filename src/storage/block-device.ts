// The storage seam: a device that speaks byte ranges in whole blocks, nothing else.
// SCSI semantics (sense data, FUA, LBA ranges) stay in src/scsi; this layer knows none of it.
// Callbacks instead of promises: this sits on the I/O hot path (issue 2: keep promises and
// per-request allocations off it).

export type Done = (err: NodeJS.ErrnoException | null) => void;

export interface BlockDevice {
  /** Logical block size in bytes (512 for every device today). */
  readonly blockSize: number;
  /** Capacity in bytes; always a whole number of blocks. */
  readonly sizeBytes: number;
  readonly readOnly: boolean;
  /** True when discard() really frees space (sparse file hole punching, block device discard). */
  readonly canDiscard: boolean;
  /** A stable identity for the device (used for the SCSI NAA identifier and serial number). */
  readonly id: string;
  /** Fills `target` entirely with bytes from `offsetBytes`. */
  read(target: Buffer, offsetBytes: number, done: Done): void;
  /** Writes all of `source` at `offsetBytes`; with `durable` the data is on stable storage before done. */
  write(source: Buffer, offsetBytes: number, durable: boolean, done: Done): void;
  /** Everything written before this call is on stable storage when done is called. */
  flush(done: Done): void;
  /** The range reads as zeros afterwards and, where possible, its space is freed. */
  discard(offsetBytes: number, lengthBytes: number, done: Done): void;
  close(done: Done): void;
}
