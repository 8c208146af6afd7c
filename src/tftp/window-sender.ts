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
import type { FileSource } from './files.ts';
import { DATA_HEADER_LENGTH, writeDataHeader } from './wire.ts';

/** Read-ahead below which small blocks would mean a file read every few packets. */
const MIN_READ_AHEAD_BYTES = 256 * 1024;

export type SendDatagram = (parts: Buffer[], cb: (err: Error | null) => void) => void;

export class WindowSender {
  private readonly chunk: Buffer;
  private readonly chunkBlocks: number;
  private readonly headers: Buffer[];
  private readonly fullBlocks: Buffer[];
  /** Absolute block number of the chunk's first block, and how many of its bytes are valid. */
  private chunkFirst = 1;
  private chunkBytes = 0;
  private readonly queue: Array<[number, number]> = [];
  private reading = false;
  private inflight = 0;
  private closed = false;
  private whenIdle: (() => void) | null = null;
  private readonly onSent = (err: Error | null): void => {
    this.inflight--;
    if (err !== null) this.onSendError(err);
    if (this.inflight === 0 && this.queue.length > 0) this.pump();
  };

  constructor(
    private readonly source: FileSource,
    private readonly blockSize: number,
    windowSize: number,
    private readonly send: SendDatagram,
    /** A read failed or came up short (the file changed under us): the transfer must end. */
    private readonly onReadError: (err: Error) => void,
    /** A send failed; retransmission recovers, so this is only worth a log line. */
    private readonly onSendError: (err: Error) => void,
  ) {
    this.chunkBlocks = Math.max(windowSize, Math.ceil(MIN_READ_AHEAD_BYTES / blockSize));
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
      if (!this.reading && !this.chunkHolds(first, last)) {
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
      this.inflight++;
      if (length <= 0) {
        this.send([header], this.onSent); // RFC 1350: the empty DATA that ends a size-multiple file
        continue;
      }
      const data = (length === this.blockSize ? this.fullBlocks[slot] : undefined) ?? this.chunk.subarray(start, start + length);
      this.send([header, data], this.onSent);
    }
  }
}
