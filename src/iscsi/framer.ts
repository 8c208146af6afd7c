// Byte stream → iSCSI PDU frames (RFC 7143 section 11.2: BHS, AHS, header digest, data
// segment, padding, data digest). An explicit receive state machine in the style of iPXE's
// iscsi_rx: each state needs a known number of bytes and consumes min(need, have) from the
// chunk, so any TCP chunking works, down to one byte at a time.
//
// Speed (this is the write hot path): a segment lying entirely inside one chunk is handed out
// as a subarray of that chunk (zero copy; the socket never reuses its chunks). Only a segment
// straddling chunks is copied, into a buffer allocated once at exactly its final size. A data
// segment can also be received straight into memory its owner chooses (PduFramer.placeData):
// a Data-Out's data then lands in the write task's buffer, and that copy is the only one.
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

export class PduFramer {
  #headerDigest: boolean;
  #dataDigest: boolean;
  readonly #maxDataSegmentLength: number;

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
    if (this.#failure !== null) throw this.#failure;
    const end = chunk.length;
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
        // Whole segment inside this chunk: a view, no copy.
        segment = chunk.subarray(off, off + need);
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
    if (this.#state === 'padding' || this.#state === 'header-digest' || this.#state === 'data-digest') {
      return this.#scratch.subarray(0, need);
    }
    return Buffer.allocUnsafe(need);
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
    this.#enter('bhs', BHS_LENGTH);
    onFrame(frame);
  }
}
