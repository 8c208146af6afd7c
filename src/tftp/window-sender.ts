// Turns the state machine's 'send-data' block ranges into DATA datagrams, fast.
//
// The file is read ahead in chunks of at least one window into a buffer owned by the transfer,
// with one positional read per chunk, not per block. Each datagram goes out as two views, the
// 4-byte header and the block's bytes, so nothing is copied or allocated per block beyond
// Node's own send request. A window goes out in one synchronous loop. Retransmissions and RFC
// 7440 rollbacks fall inside the chunk and cost no read.
//
// A chunk is refilled only once every send from it has completed: until then libuv may still
// be reading the old bytes (a send queued behind a full socket buffer).
//
// The window is handed to the sink whole (batch-send.ts), so that it can leave in one system
// call where the platform allows.
import { CACHED_READ_MAX_BYTES } from '../storage/cached-read.ts';
import type { FileSource } from './files.ts';
import { DATA_HEADER_LENGTH, writeDataHeader } from './wire.ts';

/**
 * Read-ahead: whole blocks up to this many bytes (or one window, if that is more). Small blocks
 * would otherwise mean a file read every few packets; and no more than a read that the page
 * cache may serve on the event loop (directory-provider.ts): one block more, 262,772 bytes at
 * blksize 1468, sent every chunk through the thread pool.
 */
const READ_AHEAD_BYTES = CACHED_READ_MAX_BYTES;

export type SendDatagram = (parts: Buffer[], cb: (err: Error | null) => void) => void;

/**
 * Sends datagrams in order: datagram i is parts[ends[i - 1] .. ends[i] - 1] (ends[-1] = 0).
 * `cb` runs exactly once, when every datagram has left (possibly before the call returns). The
 * arrays are the caller's and are reused once the call returns; the Buffers stay untouched
 * until `cb`.
 */
export type SendWindow = (parts: readonly Buffer[], ends: readonly number[], cb: (err: Error | null) => void) => void;

/** A SendWindow over a one-datagram-at-a-time send (Node's dgram; tests). */
export function eachDatagram(send: SendDatagram): SendWindow {
  return (parts, ends, cb) => {
    let pending = ends.length;
    let firstError: Error | null = null;
    const done = (err: Error | null): void => {
      if (err !== null && firstError === null) firstError = err;
      if (--pending === 0) cb(firstError);
    };
    let start = 0;
    for (const end of ends) {
      send(parts.slice(start, end), done);
      start = end;
    }
  };
}

export class WindowSender {
  private readonly chunk: Buffer;
  private readonly chunkBlocks: number;
  private readonly headers: Buffer[];
  private readonly fullBlocks: Buffer[];
  /** Absolute block number of the chunk's first block, and how many of its bytes are valid. */
  private chunkFirst = 1;
  private chunkBytes = 0;
  private readonly queue: Array<[number, number]> = [];
  /** The window being handed to the sink (reused: the sink copies what it keeps). */
  private readonly parts: Buffer[] = [];
  private readonly ends: number[] = [];
  private emitting = false;
  private reading = false;
  private inflight = 0;
  private closed = false;
  private whenIdle: (() => void) | null = null;
  private readonly onSent = (err: Error | null): void => {
    this.inflight--;
    if (err !== null) this.onSendError(err);
    // A sink may finish inside the call (a native batch send): then the pump that called emit
    // goes on by itself, and pumping here would reuse parts/ends under the sink's feet.
    if (this.inflight === 0 && this.queue.length > 0 && !this.emitting) this.pump();
  };

  constructor(
    private readonly source: FileSource,
    private readonly blockSize: number,
    windowSize: number,
    private readonly send: SendWindow,
    /** A read failed or came up short (the file changed under us): the transfer must end. */
    private readonly onReadError: (err: Error) => void,
    /** A send failed; retransmission recovers, so this is only worth a log line. */
    private readonly onSendError: (err: Error) => void,
  ) {
    this.chunkBlocks = Math.max(windowSize, 1, Math.floor(READ_AHEAD_BYTES / blockSize));
    // No bigger than the file needs: a 2 KiB config file gets a 2 KiB buffer.
    this.chunk = Buffer.allocUnsafe(Math.min(this.chunkBlocks * blockSize, source.size));
    const slots = Math.min(this.chunkBlocks, Math.floor(source.size / blockSize) + 1);
    this.headers = [];
    this.fullBlocks = [];
    const headerBytes = Buffer.alloc(slots * DATA_HEADER_LENGTH);
    for (let i = 0; i < slots; i++) {
      this.headers.push(headerBytes.subarray(i * DATA_HEADER_LENGTH, (i + 1) * DATA_HEADER_LENGTH));
      if ((i + 1) * blockSize <= this.chunk.length) this.fullBlocks.push(this.chunk.subarray(i * blockSize, (i + 1) * blockSize));
    }
  }

  /** Sends DATA for absolute blocks first..last, in order. */
  sendRange(first: number, last: number): void {
    if (this.closed) return;
    this.queue.push([first, last]);
    this.pump();
  }

  /** Stops sending; `whenIdle` runs once no read is in flight (so the file may be closed). */
  close(whenIdle?: () => void): void {
    this.closed = true;
    this.queue.length = 0;
    if (whenIdle === undefined) return;
    if (this.reading) this.whenIdle = whenIdle;
    else whenIdle();
  }

  private fail(err: Error): void {
    this.close();
    this.onReadError(err);
  }

  private chunkHolds(first: number, last: number): boolean {
    if (first < this.chunkFirst || last - this.chunkFirst >= this.chunkBlocks) return false;
    const chunkOffset = (this.chunkFirst - 1) * this.blockSize;
    const neededEnd = Math.min(last * this.blockSize, this.source.size);
    return neededEnd - chunkOffset <= this.chunkBytes;
  }

  private pump(): void {
    while (!this.closed && !this.reading) {
      const next = this.queue[0];
      if (next === undefined) return;
      const [first, last] = next;
      if (this.chunkHolds(first, last)) {
        this.queue.shift();
        this.emit(first, last);
        continue;
      }
      if (this.inflight > 0) return; // onSent pumps again when the last send completes
      this.fill(first);
      // A synchronous read (a file served from memory) has pumped from its callback already,
      // and may have moved the chunk on: only a range still waiting here and not held is a bug.
      if (!this.reading && this.queue[0] === next && !this.chunkHolds(first, last)) {
        this.fail(new Error(`blocks ${first}..${last} lie past the end of the file`)); // a bug, not input
        return;
      }
    }
  }

  private fill(first: number): void {
    const offset = (first - 1) * this.blockSize;
    const length = Math.max(0, Math.min(this.chunk.length, this.source.size - offset));
    this.chunkFirst = first;
    this.chunkBytes = 0;
    if (length === 0) {
      return; // only the empty last block: nothing to read, chunkHolds is now true
    }
    this.reading = true;
    this.source.read(offset, length, this.chunk, (err, bytesRead) => {
      this.reading = false;
      if (this.closed) {
        this.whenIdle?.();
        this.whenIdle = null;
        return;
      }
      if (err !== null || bytesRead !== length) {
        this.fail(err ?? new Error(`short read: ${bytesRead} of ${length} bytes at ${offset}`));
        return;
      }
      this.chunkBytes = length;
      this.pump();
    });
  }

  private emit(first: number, last: number): void {
    const chunkOffset = (this.chunkFirst - 1) * this.blockSize;
    const parts = this.parts;
    const ends = this.ends;
    parts.length = 0;
    ends.length = 0;
    for (let block = first; block <= last; block++) {
      const slot = block - this.chunkFirst;
      const header = this.headers[slot];
      if (header === undefined) {
        this.fail(new Error(`block ${block} lies outside the chunk`)); // a bug, not input
        return;
      }
      writeDataHeader(header, 0, block);
      const start = (block - 1) * this.blockSize - chunkOffset;
      const length = Math.min(this.blockSize, this.source.size - (block - 1) * this.blockSize);
      parts.push(header);
      // RFC 1350: an empty DATA (the header alone) ends a file whose size is a block multiple.
      if (length > 0) parts.push((length === this.blockSize ? this.fullBlocks[slot] : undefined) ?? this.chunk.subarray(start, start + length));
      ends.push(parts.length);
    }
    if (ends.length === 0) return;
    this.inflight++;
    this.emitting = true;
    try {
      this.send(parts, ends, this.onSent);
    } finally {
      this.emitting = false;
    }
  }
}
