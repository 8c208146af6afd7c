// Encodes target PDUs onto a socket: header (+ header digest), data, padding (+ data digest).
// Speed: the data segment is written as the caller's Buffer (no copy), and every PDU queued in one
// event-loop turn leaves in one writev: the socket is corked on the first PDU and uncorked from
// setImmediate, after the poll phase has run every ready I/O callback.
import type { Socket } from 'node:net';
import { padTo4 } from '../lib/bytes.ts';
import { crc32c, writeDigest } from '../lib/crc32c.ts';
import { encodeTargetHeader } from './pdu/index.ts';
import { BHS_LENGTH, type TargetPdu } from './pdu/types.ts';

const PADDING = [Buffer.alloc(0), Buffer.alloc(1), Buffer.alloc(2), Buffer.alloc(3)] as const;
/** Stop reading new commands while this much is waiting to be sent (slow initiator). */
const HIGH_WATER_BYTES = 8 * 1024 * 1024;

export class PduWriter {
  headerDigest = false;
  dataDigest = false;
  #corked = false;
  #paused = false;
  bytesSent = 0;

  constructor(private readonly socket: Socket) {
    socket.on('drain', () => {
      if (this.#paused) {
        this.#paused = false;
        socket.resume();
      }
    });
  }

  /** `onWritten` is called once the socket is done with the PDU's data (it may be reused then). */
  send(pdu: TargetPdu, onWritten?: () => void): void {
    const socket = this.socket;
    if (socket.destroyed) return;
    if (!this.#corked) {
      this.#corked = true;
      socket.cork();
      setImmediate(this.#uncork);
    }
    const header = Buffer.allocUnsafe(this.headerDigest ? BHS_LENGTH + 4 : BHS_LENGTH);
    encodeTargetHeader(pdu, header);
    if (this.headerDigest) writeDigest(header, BHS_LENGTH, crc32c(header.subarray(0, BHS_LENGTH)));
    socket.write(header);
    const data = 'data' in pdu ? pdu.data : null;
    let written = header.length;
    if (data !== null && data.length > 0) {
      const pad = PADDING[padTo4(data.length)] ?? PADDING[0];
      socket.write(data, onWritten === undefined ? undefined : () => onWritten());
      if (pad.length > 0) socket.write(pad);
      written += data.length + pad.length;
      if (this.dataDigest) {
        const digest = Buffer.allocUnsafe(4);
        writeDigest(digest, 0, crc32c(pad, crc32c(data)));
        socket.write(digest);
        written += 4;
      }
    }
    this.bytesSent += written;
    if (!this.#paused && socket.writableLength > HIGH_WATER_BYTES) {
      this.#paused = true;
      socket.pause();
    }
  }

  readonly #uncork = (): void => {
    this.#corked = false;
    this.socket.uncork();
  };

  /** Sends what is queued, then closes the write side. */
  end(): void {
    if (this.#corked) this.#uncork();
    this.socket.end();
  }
}
