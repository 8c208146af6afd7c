// Gathers a write command's data-out: immediate data, unsolicited Data-Out up to
// FirstBurstLength, then solicited Data-Out answering R2Ts of at most MaxBurstLength each with at
// most MaxOutstandingR2T outstanding (RFC 7143 sections 4.2.5.2 and 11.8). Pure: it says which
// R2Ts to send and when the data is complete; the session sends them.
//
// Speed: the data is copied at most once. A Data-Out's data segment can be placed straight into
// the task buffer while it is still being received (placeDataOut, called by the framer once the
// BHS is known), and acceptDataOut then only does the bookkeeping; immediate data that is the
// whole transfer becomes the buffer itself (the session passes it in).
import { RESERVED_TAG } from './pdu/types.ts';

export interface WriteLimits {
  readonly immediateData: boolean;
  readonly initialR2T: boolean;
  readonly firstBurstLength: number;
  readonly maxBurstLength: number;
  readonly maxOutstandingR2T: number;
}

export interface R2tRequest {
  readonly targetTransferTag: number;
  readonly r2tSn: number;
  readonly bufferOffset: number;
  readonly desiredDataTransferLength: number;
}

interface OpenR2t {
  readonly offset: number;
  readonly length: number;
  received: number;
  /** DataSN restarts at 0 in every R2T's sequence (RFC 7143 section 11.7.5). */
  nextDataSn: number;
}

export type DataOutProblem = 'offset-out-of-range' | 'unsolicited-over-first-burst' | 'unknown-transfer-tag' | 'outside-r2t' | 'data-sn-mismatch';

export class WriteCollector {
  /** Exactly expectedLength bytes; the data-out handed to the SCSI layer. */
  readonly buffer: Buffer;
  #received = 0;
  #nextR2tOffset: number;
  #r2tSn = 0;
  /** R2Ts sent and not yet fully answered, by Target Transfer Tag (made at the first R2T). */
  #open: Map<number, OpenR2t> | null = null;
  #unsolicitedLimit: number;
  #unsolicitedDataSn = 0;

  /**
   * `storage` (at least expectedLength bytes) is where the data goes: a pooled buffer, or the
   * immediate data itself when it is the whole transfer. Without it a buffer is allocated.
   */
  constructor(
    readonly expectedLength: number,
    readonly limits: WriteLimits,
    private readonly allocateTag: () => number,
    storage?: Buffer,
  ) {
    this.buffer = storage === undefined ? Buffer.allocUnsafe(expectedLength) : storage.subarray(0, expectedLength);
    // Unsolicited data is allowed only when InitialR2T=No (RFC 7143 section 13.10), and never
    // beyond FirstBurstLength (section 13.14); immediate data counts toward it.
    this.#unsolicitedLimit = limits.initialR2T ? 0 : Math.min(limits.firstBurstLength, expectedLength);
    this.#nextR2tOffset = this.#unsolicitedLimit;
  }

  get received(): number {
    return this.#received;
  }

  get complete(): boolean {
    return this.#received >= this.expectedLength;
  }

  get r2tCount(): number {
    return this.#r2tSn;
  }

  /** Immediate data from the SCSI Command PDU itself; returns a problem or null. */
  acceptImmediate(data: Buffer, final = false): DataOutProblem | null {
    const limit = Math.min(this.limits.firstBurstLength, this.expectedLength);
    if (data.length > limit) return 'unsolicited-over-first-burst';
    this.#store(data, 0);
    this.#received += data.length;
    if (this.limits.initialR2T) this.#nextR2tOffset = data.length;
    // F=1: no unsolicited Data-Out follows (RFC 7143 11.3.1.1); solicit the rest from here.
    else if (final) this.#unsolicitedLimit = this.#nextR2tOffset = data.length;
    return null;
  }

  acceptDataOut(targetTransferTag: number, dataSn: number, bufferOffset: number, data: Buffer, final = false): DataOutProblem | null {
    const problem = this.#check(targetTransferTag, dataSn, bufferOffset, data.length);
    if (problem !== null) return problem;
    if (targetTransferTag === RESERVED_TAG) {
      this.#unsolicitedDataSn++;
      // The last unsolicited PDU (F=1) may end before FirstBurstLength: R2Ts start there.
      if (final) this.#unsolicitedLimit = this.#nextR2tOffset = bufferOffset + data.length;
    } else {
      const r2t = this.#open?.get(targetTransferTag);
      if (r2t !== undefined) {
        r2t.nextDataSn++;
        r2t.received += data.length;
        if (r2t.received >= r2t.length) this.#open?.delete(targetTransferTag);
      }
    }
    this.#store(data, bufferOffset);
    this.#received += data.length;
    return null;
  }

  /**
   * Where a Data-Out's data segment of `length` bytes should be received: the slice of the
   * task buffer it belongs to, or null when acceptDataOut would refuse the PDU (the framer then
   * gives it its own memory and the refusal happens as before). Changes no state: the PDU is
   * only accepted once it is complete, through acceptDataOut.
   */
  placeDataOut(targetTransferTag: number, dataSn: number, bufferOffset: number, length: number): Buffer | null {
    if (this.#check(targetTransferTag, dataSn, bufferOffset, length) !== null) return null;
    return this.buffer.subarray(bufferOffset, bufferOffset + length);
  }

  /** The checks of RFC 7143 sections 11.7.5 and 11.7.6 on one Data-Out, without side effects. */
  #check(targetTransferTag: number, dataSn: number, bufferOffset: number, length: number): DataOutProblem | null {
    const end = bufferOffset + length;
    if (end > this.expectedLength) return 'offset-out-of-range';
    if (targetTransferTag === RESERVED_TAG) {
      if (end > this.#unsolicitedLimit) return 'unsolicited-over-first-burst';
      // Unsolicited Data-Out is one sequence numbered from 0 (RFC 7143 section 11.7.5); with
      // ErrorRecoveryLevel 0 a gap cannot be recovered, so it fails the command.
      if (dataSn !== this.#unsolicitedDataSn) return 'data-sn-mismatch';
      return null;
    }
    const r2t = this.#open?.get(targetTransferTag);
    if (r2t === undefined) return 'unknown-transfer-tag';
    if (bufferOffset < r2t.offset || end > r2t.offset + r2t.length) return 'outside-r2t';
    if (dataSn !== r2t.nextDataSn) return 'data-sn-mismatch';
    return null;
  }

  /** Copies `data` to `offset` unless it is already there (placed by placeDataOut, or the storage). */
  #store(data: Buffer, offset: number): void {
    if (data.buffer === this.buffer.buffer && data.byteOffset === this.buffer.byteOffset + offset) return;
    data.copy(this.buffer, offset);
  }

  /** The R2Ts to send now: as many as MaxOutstandingR2T allows, each up to MaxBurstLength. */
  nextR2ts(): R2tRequest[] {
    const out: R2tRequest[] = [];
    if (this.#nextR2tOffset >= this.expectedLength) return out;
    const open = (this.#open ??= new Map<number, OpenR2t>());
    while (open.size < this.limits.maxOutstandingR2T && this.#nextR2tOffset < this.expectedLength) {
      const length = Math.min(this.limits.maxBurstLength, this.expectedLength - this.#nextR2tOffset);
      const tag = this.allocateTag();
      open.set(tag, { offset: this.#nextR2tOffset, length, received: 0, nextDataSn: 0 });
      out.push({ targetTransferTag: tag, r2tSn: this.#r2tSn++, bufferOffset: this.#nextR2tOffset, desiredDataTransferLength: length });
      this.#nextR2tOffset += length;
    }
    return out;
  }
}
