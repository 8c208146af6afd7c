// Byte stream → iSCSI PDU frames (RFC 7143 section 11.2: BHS, AHS, header digest, data
// segment, padding, data digest). An explicit receive state machine in the style of iPXE's
// iscsi_rx: each state needs a known number of bytes and consumes min(need, have) from the
// chunk, so any TCP chunking works, down to one byte at a time.
//
// Two ways in. push(chunk) takes chunks nobody reuses (tests, the doctor's probe): a segment
// lying entirely inside one chunk is handed out as a subarray of it, zero copy. The connection
// instead lets the socket read into memory the framer owns (readBuffer() / received(), Node's
// net.Socket `onread`): one receive buffer reused for every read, so no read allocates (a fresh
// 64 KiB ArrayBuffer per read made V8 run a full mark-compact every few tens of milliseconds
// under 1 GB/s of writes), and what outlives the read (headers, unplaced data) is copied into
// a slab carved in order. A data segment can also be received straight into memory its owner
// chooses (PduFramer.placeData): a Data-Out's data then lands in the write task's buffer, and
// while much of it is still to come the socket reads straight into that buffer, so the
// kernel's copy is the only one.
import { EMPTY, padTo4 } from '../lib/bytes.ts';
import { crc32c, readDigest } from '../lib/crc32c.ts';
import { DecodeError } from '../lib/errors.ts';
import { readAhsLength, readDataSegmentLength } from './pdu/bhs.ts';
import { BHS_LENGTH } from './pdu/types.ts';

/** One PDU as cut from the stream. The buffers may alias the pushed chunks. */
export interface Frame {
  /** The 48-byte BHS. */
  readonly header: Buffer;
  /** TotalAHSLength * 4 bytes (empty when there is no AHS). */
  readonly ahs: Buffer;
  /** DataSegmentLength bytes: padding and digests removed. */
  readonly data: Buffer;
  /** False when header digests are on and the CRC32C over BHS + AHS did not match. */
  readonly headerDigestOk: boolean;
  /** False when data digests are on and the CRC32C over data + padding did not match. */
  readonly dataDigestOk: boolean;
}

export interface PduFramerOptions {
  readonly headerDigest: boolean;
  readonly dataDigest: boolean;
  /**
   * Hard cap on DataSegmentLength, far above any negotiated MaxRecvDataSegmentLength (e.g.
   * 16 MiB): it only protects memory. Checking the negotiated limit is the connection's job.
   */
  readonly maxDataSegmentLength: number;
}

/**
 * Chooses where a data segment is received, once its BHS (and AHS) are known: a buffer of
 * exactly the segment's length, or null for memory of the framer's own. The framer copies the
 * segment there from however many chunks it spans, and Frame.data is that buffer.
 */
export type DataPlacement = (header: Buffer, ahs: Buffer, length: number) => Buffer | null;

/** The receive states, in wire order (RFC 7143 section 11.2). */
type RxState = 'bhs' | 'ahs' | 'header-digest' | 'data' | 'padding' | 'data-digest';

const DIGEST_LENGTH = 4;
/**
 * The reused receive buffer starts small (an idle boot connection keeps only this) and doubles
 * whenever a read fills it, up to a full queue of 4 KiB writes (32 x 4,144 bytes) in one read.
 */
const RECEIVE_BUFFER_MIN_BYTES = 16 * 1024;
const RECEIVE_BUFFER_MAX_BYTES = 256 * 1024;
/**
 * Reads into the receive buffer stop at this many bytes while large data segments are being
 * placed: the next header and a little data arrive there, and the rest of the segment is read
 * straight into its place instead of being copied out of the receive buffer.
 */
const HEADER_READ_BYTES = 4096;
/** A placed segment with at least this much still to come is read straight into place. */
const DIRECT_READ_MIN_BYTES = 16 * 1024;
/** Copies of headers and small segments are carved from slabs of this size... */
const SLAB_BYTES = 64 * 1024;
/** ...up to this size; larger segments get a buffer of their own. */
const SLAB_MAX_PIECE = 16 * 1024;

export class PduFramer {
  #headerDigest: boolean;
  #dataDigest: boolean;
  #maxDataSegmentLength: number;

  #state: RxState = 'bhs';
  /** Bytes the current state needs in total. */
  #need = BHS_LENGTH;
  /** Assembly buffer of a segment that straddles chunks, and how much of it is filled. */
  #partial: Buffer = EMPTY;
  #filled = 0;
  /** Small scratch for padding and digests, which are read at once and never handed out. */
  readonly #scratch = Buffer.alloc(DIGEST_LENGTH);

  // The PDU being received, and the digest settings latched at its first byte.
  #pduHeaderDigest = false;
  #pduDataDigest = false;
  #header: Buffer = EMPTY;
  #ahs: Buffer = EMPTY;
  #data: Buffer = EMPTY;
  #dataLength = 0;
  #headerDigestOk = true;
  #dataDigestOk = true;
  #dataCrc = 0;
  #failure: DecodeError | null = null;
  /** True while the data segment is received into a buffer from placeData. */
  #placed = false;

  /** Set by the owner (the connection) to receive data segments in place; see DataPlacement. */
  placeData: DataPlacement | null = null;

  /** The reused receive buffer (readBuffer/received), allocated on first use, and its head. */
  #rx: Buffer = EMPTY;
  #rxHead: Buffer = EMPTY;
  /** The size the receive buffer should have from the next read on. */
  #rxWanted = RECEIVE_BUFFER_MIN_BYTES;
  /** True when the last readBuffer() was the rest of the placed segment itself. */
  #direct = false;
  /** The current PDU's data segment went to memory placeData chose. */
  #dataPlaced = false;
  /** The last PDU had a large placed data segment: keep reads of the next header short. */
  #largePlacement = false;
  /** Where copies that outlive a read go (see #copyOut). */
  #slab: Buffer = EMPTY;
  #slabOffset = 0;

  constructor(opts: PduFramerOptions) {
    this.#headerDigest = opts.headerDigest;
    this.#dataDigest = opts.dataDigest;
    this.#maxDataSegmentLength = opts.maxDataSegmentLength;
  }

  /**
   * Change the digest settings. They apply from the next PDU whose first byte has not been
   * received yet, so a call made from onFrame (e.g. right after the final login exchange,
   * RFC 7143 section 13.1: digests start in full-feature phase) covers the very next PDU even
   * when it sits in the same chunk.
   */
  /**
   * The largest data segment accepted from the next BHS on; larger ones throw at the header,
   * before any allocation (a connection starts small and grows at full feature phase).
   */
  setMaxDataSegmentLength(bytes: number): void {
    this.#maxDataSegmentLength = bytes;
  }

  setDigests(headerDigest: boolean, dataDigest: boolean): void {
    this.#headerDigest = headerDigest;
    this.#dataDigest = dataDigest;
  }

  /**
   * Feed received bytes; onFrame is called synchronously for every complete PDU, in order.
   *
   * Errors: a DataSegmentLength above maxDataSegmentLength throws DecodeError
   * 'ISCSI_DATA_TOO_LONG' (the stream cannot be resynchronised, so the caller closes the
   * connection); the framer then stays failed and every later push throws the same error.
   * An exception thrown by onFrame propagates out of push and the rest of the chunk is lost.
   * Digest mismatches are not errors: they are reported in the Frame (the connection decides
   * between a Reject and closing, RFC 7143 section 7.8).
   */
  push(chunk: Buffer, onFrame: (frame: Frame) => void): void {
    this.#consume(chunk, chunk.length, false, onFrame);
  }

  /**
   * Where the next socket read should put its bytes (the `buffer` function of Node's
   * net.Socket `onread` option, called before every read): the rest of the data segment being
   * placed when much of it is still to come (the kernel then copies it straight into place),
   * otherwise the framer's receive buffer, which the next read overwrites.
   */
  readBuffer(): Buffer {
    // Only here may the receive buffer change: the socket holds on to the last one returned
    // until its next read, and received() is always called before the next readBuffer().
    if (this.#rx.length !== this.#rxWanted) {
      this.#rx = Buffer.allocUnsafeSlow(this.#rxWanted);
      this.#rxHead = this.#rx.subarray(0, HEADER_READ_BYTES);
    }
    let buffer = this.#rx;
    this.#direct = false;
    if (this.#state === 'data' && this.#placed) {
      if (this.#need - this.#filled >= DIRECT_READ_MIN_BYTES) {
        this.#direct = true;
        buffer = this.#partial.subarray(this.#filled, this.#need);
      }
    } else if (this.#largePlacement) {
      buffer = this.#rxHead;
    }
    return buffer;
  }

  /**
   * True when a PDU's header has arrived and none of its data segment yet: a sender that keeps
   * one unacknowledged segment in flight (iPXE) is now waiting for our ACK to send the data.
   */
  get waitingForData(): boolean {
    return this.#state === 'data' && this.#filled === 0;
  }

  /** The connection is idle: the receive buffer goes back to its smallest size at the next read. */
  trimIdle(): void {
    this.#rxWanted = RECEIVE_BUFFER_MIN_BYTES;
  }

  /**
   * `length` bytes were read into the buffer readBuffer() returned last. Frames are delivered as
   * with push(), but nothing they hold aliases the receive buffer (it is about to be reused).
   */
  received(length: number, onFrame: (frame: Frame) => void): void {
    if (this.#failure !== null) throw this.#failure;
    if (!this.#direct) {
      // A read that filled the whole buffer: more was probably waiting, so read more at once.
      if (length === this.#rx.length && length < RECEIVE_BUFFER_MAX_BYTES) this.#rxWanted = length * 2;
      return this.#consume(this.#rx, length, true, onFrame);
    }
    // The bytes are in place already: only the bookkeeping of the copy path below is left.
    this.#filled += length;
    if (this.#filled < this.#need) return;
    const segment = this.#partial;
    this.#filled = 0;
    this.#partial = EMPTY;
    this.#placed = false;
    this.#direct = false;
    this.#complete(segment, onFrame);
  }

  /**
   * Frames the first `end` bytes of `chunk`. `transient`: the chunk is reused after this call,
   * so segments handed out are copies (padding and digests are only looked at, never kept).
   */
  #consume(chunk: Buffer, end: number, transient: boolean, onFrame: (frame: Frame) => void): void {
    if (this.#failure !== null) throw this.#failure;
    let off = 0;
    while (off < end) {
      if (this.#state === 'bhs' && this.#filled === 0) {
        // First byte of a new PDU: latch the digest settings for all of it.
        this.#pduHeaderDigest = this.#headerDigest;
        this.#pduDataDigest = this.#dataDigest;
      }
      const need = this.#need;
      let segment: Buffer;
      if (this.#filled === 0 && end - off >= need && !this.#placed) {
        // Whole segment inside this chunk: a view, no copy (a copy if the chunk is reused and
        // the segment is kept).
        segment = transient && this.#keeps() ? this.#copyOut(chunk, off, need) : chunk.subarray(off, off + need);
        off += need;
      } else {
        if (this.#filled === 0 && !this.#placed) this.#partial = this.#allocSegment(need);
        const n = Math.min(need - this.#filled, end - off);
        chunk.copy(this.#partial, this.#filled, off, off + n);
        this.#filled += n;
        off += n;
        if (this.#filled < need) return;
        segment = this.#partial;
        this.#filled = 0;
        this.#partial = EMPTY;
        this.#placed = false;
      }
      this.#complete(segment, onFrame);
    }
  }

  /** Padding and digests go to the scratch buffer; segments handed out get their own memory. */
  #allocSegment(need: number): Buffer {
    if (!this.#keeps()) return this.#scratch.subarray(0, need);
    return this.#slabPiece(need);
  }

  /** True in the states whose bytes are handed out in a Frame (BHS, AHS, data). */
  #keeps(): boolean {
    return this.#state === 'bhs' || this.#state === 'ahs' || this.#state === 'data';
  }

  /** A copy of chunk[off, off + length) in memory of the framer's own. */
  #copyOut(chunk: Buffer, off: number, length: number): Buffer {
    const out = this.#slabPiece(length);
    chunk.copy(out, 0, off, off + length);
    return out;
  }

  /**
   * `length` bytes nobody else uses. Small pieces are carved from a slab in order (one
   * ArrayBuffer per SLAB_BYTES instead of one per header), the way Node's own Buffer pool
   * works: a slab is freed once every piece of it is garbage.
   */
  #slabPiece(length: number): Buffer {
    if (length > SLAB_MAX_PIECE) return Buffer.allocUnsafe(length);
    if (this.#slabOffset + length > this.#slab.length) {
      this.#slab = Buffer.allocUnsafeSlow(SLAB_BYTES);
      this.#slabOffset = 0;
    }
    const piece = this.#slab.subarray(this.#slabOffset, this.#slabOffset + length);
    // Keep pieces 8-byte aligned, as Node's pool does.
    this.#slabOffset += (length + 7) & ~7;
    return piece;
  }

  /** The current state's bytes are complete: record them and move to the next state. */
  #complete(segment: Buffer, onFrame: (frame: Frame) => void): void {
    switch (this.#state) {
      case 'bhs':
        return this.#onBhs(segment, onFrame);
      case 'ahs':
        this.#ahs = segment;
        return this.#afterAhs(onFrame);
      case 'header-digest': {
        const expected = crc32c(this.#ahs, crc32c(this.#header));
        this.#headerDigestOk = readDigest(segment, 0) === expected;
        return this.#afterHeaderDigest(onFrame);
      }
      case 'data':
        this.#data = segment;
        if (this.#pduDataDigest) this.#dataCrc = crc32c(segment);
        return this.#afterData(onFrame);
      case 'padding':
        // Padding is included in the data digest (RFC 7143 section 13.1); its value is not
        // checked (it SHOULD be 0; receivers are tolerant).
        if (this.#pduDataDigest) this.#dataCrc = crc32c(segment, this.#dataCrc);
        return this.#afterPadding(onFrame);
      case 'data-digest':
        this.#dataDigestOk = readDigest(segment, 0) === this.#dataCrc;
        return this.#emit(onFrame);
    }
  }

  #onBhs(header: Buffer, onFrame: (frame: Frame) => void): void {
    this.#header = header;
    const dataLength = readDataSegmentLength(header);
    if (dataLength > this.#maxDataSegmentLength) {
      this.#failure = new DecodeError(
        'ISCSI_DATA_TOO_LONG',
        `DataSegmentLength ${dataLength} exceeds the framer cap of ${this.#maxDataSegmentLength} bytes`,
      );
      throw this.#failure;
    }
    this.#dataLength = dataLength;
    const ahsLength = readAhsLength(header);
    if (ahsLength > 0) return this.#enter('ahs', ahsLength);
    this.#ahs = EMPTY;
    this.#afterAhs(onFrame);
  }

  #afterAhs(onFrame: (frame: Frame) => void): void {
    if (this.#pduHeaderDigest) return this.#enter('header-digest', DIGEST_LENGTH);
    this.#headerDigestOk = true;
    this.#afterHeaderDigest(onFrame);
  }

  #afterHeaderDigest(onFrame: (frame: Frame) => void): void {
    if (this.#dataLength > 0) {
      // A header that failed its digest cannot be trusted to say where its data goes.
      const place = this.#headerDigestOk ? this.placeData : null;
      const target = place === null ? null : place(this.#header, this.#ahs, this.#dataLength);
      if (target !== null && target.length === this.#dataLength) {
        this.#partial = target;
        this.#placed = true;
        this.#dataPlaced = true;
      }
      return this.#enter('data', this.#dataLength);
    }
    // No data segment: no padding and no data digest either.
    this.#data = EMPTY;
    this.#dataDigestOk = true;
    this.#emit(onFrame);
  }

  #afterData(onFrame: (frame: Frame) => void): void {
    const pad = padTo4(this.#dataLength);
    if (pad > 0) return this.#enter('padding', pad);
    this.#afterPadding(onFrame);
  }

  #afterPadding(onFrame: (frame: Frame) => void): void {
    if (this.#pduDataDigest) return this.#enter('data-digest', DIGEST_LENGTH);
    this.#dataDigestOk = true;
    this.#emit(onFrame);
  }

  #enter(state: RxState, need: number): void {
    this.#state = state;
    this.#need = need;
  }

  #emit(onFrame: (frame: Frame) => void): void {
    const frame: Frame = {
      header: this.#header,
      ahs: this.#ahs,
      data: this.#data,
      headerDigestOk: this.#headerDigestOk,
      dataDigestOk: this.#dataDigestOk,
    };
    this.#header = EMPTY;
    this.#ahs = EMPTY;
    this.#data = EMPTY;
    this.#largePlacement = this.#dataPlaced && this.#dataLength >= DIRECT_READ_MIN_BYTES;
    this.#dataPlaced = false;
    this.#enter('bhs', BHS_LENGTH);
    onFrame(frame);
  }
}
