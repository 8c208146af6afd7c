// Encodes target PDUs onto a socket: header (+ header digest), data, padding (+ data digest).
//
// Speed: every PDU queued in one event-loop turn leaves in one write (a writev when large data
// is among them), issued from setImmediate, after the poll phase has run every ready I/O
// callback: one syscall for all the responses of a turn instead of one per response. Headers,
// padding, digests and small data segments are encoded into an arena, a buffer reused as soon
// as the socket has handed everything to the kernel, so a 4 KiB read's response costs no
// allocation at all; data segments above INLINE_DATA_MAX_BYTES are written as the caller's
// Buffer (no copy) between arena slices.
import type { Socket } from 'node:net';
import { EMPTY, padTo4 } from '../lib/bytes.ts';
import { crc32c, writeDigest } from '../lib/crc32c.ts';
import type { BufferPool } from './buffer-pool.ts';
import { encodeTargetHeader, targetPduData } from './pdu/index.ts';
import { BHS_LENGTH, type TargetPdu } from './pdu/types.ts';

/** Stop reading new commands while this much is waiting to be sent (slow initiator). */
const HIGH_WATER_BYTES = 8 * 1024 * 1024;
/** Data segments up to this size are copied into the arena (cheaper than one more iovec). */
const INLINE_DATA_MAX_BYTES = 16 * 1024;
/**
 * Arena sizes: an idle boot connection needs little; a busy one doubles its arena each time a
 * turn fills it, up to a turn's worth of small responses (256 x 4 KiB reads).
 */
const ARENA_MIN_BYTES = 64 * 1024;
const ARENA_MAX_BYTES = 1024 * 1024;
const DIGEST_LENGTH = 4;

export class PduWriter {
  headerDigest = false;
  dataDigest = false;
  bytesSent = 0;
  #scheduled = false;
  #paused = false;
  /** Where headers and small data are encoded; [0, #arenaStart) may still be in the socket. */
  #arena: Buffer = EMPTY;
  /** Start of the encoded bytes not yet queued as a chunk, and the end of all encoded bytes. */
  #arenaStart = 0;
  #arenaEnd = 0;
  /** The size of the next arena. */
  #arenaSize = ARENA_MIN_BYTES;
  /** This turn's output in wire order, with the pooled buffers to give back after each. */
  readonly #chunks: Buffer[] = [];
  readonly #release: Array<Buffer[] | null> = [];
  /** Data-In budget bytes (data-in-budget.ts) that go back once each chunk of #chunks is written. */
  readonly #releaseBytes: number[] = [];
  /** Pooled buffers whose data was copied into the arena: they go back with the next chunk. */
  #releaseAfter: Buffer[] = [];
  /** Data-In budget bytes of PDUs copied into the arena: they go back with the next chunk. */
  #releaseBytesAfter = 0;
  readonly #header = Buffer.alloc(BHS_LENGTH);

  /**
   * `pool`: where send()'s `pooled` buffers go back once the socket is done with them.
   * `onDataInWritten`: told the Data-In budget bytes of send() calls once the socket has handed
   * their PDUs (and everything before them) to the kernel.
   */
  constructor(
    private readonly socket: Socket,
    private readonly pool: BufferPool | null = null,
    private readonly onDataInWritten: ((bytes: number) => void) | null = null,
  ) {
    socket.on('drain', () => {
      if (this.#paused) {
        this.#paused = false;
        socket.resume();
      }
    });
  }

  /**
   * Queues one PDU for this turn's write. `pooled`: a buffer taken from the pool that holds the
   * PDU's data (or, for the last Data-In of a command, all of the command's data); it goes back
   * to the pool once the socket has written this PDU and everything before it. Not sooner, even
   * when this PDU's data was copied into the arena: an earlier PDU of the same command may still
   * be in the socket as a view of that buffer. `dataInBytes`: the command's share of the Data-In
   * budget, given back (onDataInWritten) at the same moment.
   */
  send(pdu: TargetPdu, pooled: Buffer | null = null, dataInBytes = 0): void {
    const socket = this.socket;
    // A destroyed socket means the connection is closing: its session drops every task and
    // starts nothing more, so budget bytes not given back here no longer matter.
    if (socket.destroyed) return;
    if (!this.#scheduled) {
      this.#scheduled = true;
      // Everything written in earlier turns has reached the kernel: the arena is free again.
      if (socket.writableLength === 0) this.#arenaStart = this.#arenaEnd = 0;
      setImmediate(this.#flush);
    }
    const data = targetPduData(pdu);
    const length = data.length;
    const headerLength = this.headerDigest ? BHS_LENGTH + DIGEST_LENGTH : BHS_LENGTH;
    const trailer = length === 0 ? 0 : padTo4(length) + (this.dataDigest ? DIGEST_LENGTH : 0);
    const inline = length <= INLINE_DATA_MAX_BYTES;
    let at = this.#reserve(inline ? headerLength + length + trailer : headerLength);
    const arena = this.#arena;
    // Encoded into a fixed scratch header and copied (a 48-byte set) rather than into a fresh
    // view of the arena: no object per PDU.
    const header = this.#header;
    encodeTargetHeader(pdu, header);
    arena.set(header, at);
    if (this.headerDigest) writeDigest(arena, at + BHS_LENGTH, crc32c(header));
    at += headerLength;
    this.bytesSent += headerLength + length + trailer;
    if (inline) {
      if (length > 0) {
        data.copy(arena, at);
        this.#writeTrailer(at + length, length, data);
      }
      if (pooled !== null) this.#releaseAfter.push(pooled);
      this.#releaseBytesAfter += dataInBytes;
      return;
    }
    // Large data goes out as it is, between the arena bytes before and after it.
    this.#cut();
    this.#chunks.push(data);
    this.#release.push(pooled === null ? null : [pooled]);
    this.#releaseBytes.push(dataInBytes);
    if (trailer > 0) this.#writeTrailer(this.#reserve(trailer), length, data);
  }

  /** The connection is idle: drop the arena if the socket no longer needs any of it. */
  trimIdle(): void {
    if (this.#scheduled || this.socket.writableLength > 0) return;
    this.#arena = EMPTY;
    this.#arenaStart = this.#arenaEnd = 0;
    this.#arenaSize = ARENA_MIN_BYTES;
  }

  /** Sends what is queued, then closes the write side. */
  end(): void {
    this.#flush();
    this.socket.end();
  }

  /**
   * The zero padding to 4 bytes at `at` in the arena, and with data digests on, the CRC32C over
   * the data and that padding after it (RFC 7143 section 13.1).
   */
  #writeTrailer(at: number, length: number, data: Buffer): void {
    const arena = this.#arena;
    const pad = padTo4(length);
    if (pad > 0) arena.fill(0, at, at + pad);
    if (this.dataDigest) writeDigest(arena, at + pad, crc32c(arena.subarray(at, at + pad), crc32c(data)));
  }

  /** Room for `length` bytes at the end of the arena; returns where they start. */
  #reserve(length: number): number {
    if (this.#arenaEnd + length > this.#arena.length) {
      // Full (or none yet): what is encoded goes out as it is, and a new arena takes over; the
      // old one lives on only as long as the socket needs it.
      if (this.#arena.length > 0) this.#arenaSize = Math.min(ARENA_MAX_BYTES, this.#arena.length * 2);
      this.#cut();
      this.#arena = Buffer.allocUnsafeSlow(Math.max(this.#arenaSize, length));
      this.#arenaStart = this.#arenaEnd = 0;
    }
    const at = this.#arenaEnd;
    this.#arenaEnd += length;
    return at;
  }

  /** Queues the arena bytes encoded since the last cut as one chunk. */
  #cut(): void {
    if (this.#arenaEnd === this.#arenaStart) return;
    this.#chunks.push(this.#arena.subarray(this.#arenaStart, this.#arenaEnd));
    this.#releaseBytes.push(this.#releaseBytesAfter);
    this.#releaseBytesAfter = 0;
    const release = this.#releaseAfter;
    if (release.length === 0) {
      this.#release.push(null);
    } else {
      this.#release.push(release);
      this.#releaseAfter = [];
    }
    this.#arenaStart = this.#arenaEnd;
  }

  /** A chunk is written: its pooled buffers go back first, so READs the budget lets go now can reuse them. */
  #written(buffers: readonly Buffer[] | null, dataInBytes: number): void {
    const pool = this.pool;
    if (pool !== null && buffers !== null) for (const buffer of buffers) pool.give(buffer);
    if (dataInBytes > 0) this.onDataInWritten?.(dataInBytes);
  }

  readonly #flush = (): void => {
    this.#scheduled = false;
    this.#cut();
    const chunks = this.#chunks;
    const count = chunks.length;
    if (count === 0) return;
    const socket = this.socket;
    if (!socket.destroyed) {
      if (count > 1) socket.cork();
      // The socket writes in order and calls back in order: a chunk's callback means it and
      // everything before it are written (handed to the kernel). One callback per chunk that
      // releases something, not per PDU: a turn's small reads share their arena chunk's.
      for (let i = 0; i < count; i++) {
        const release = this.#release[i] ?? null;
        const bytes = this.#releaseBytes[i] ?? 0;
        socket.write(chunks[i] ?? EMPTY, release === null && bytes === 0 ? undefined : () => this.#written(release, bytes));
      }
      if (count > 1) socket.uncork();
    }
    chunks.length = 0;
    this.#release.length = 0;
    this.#releaseBytes.length = 0;
    if (!this.#paused && socket.writableLength > HIGH_WATER_BYTES) {
      this.#paused = true;
      socket.pause();
    }
  };
}
