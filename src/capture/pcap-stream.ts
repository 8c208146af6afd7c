// Reads a pcap stream as tcpdump writes it to a pipe (`-w -`): the file header (either byte
// order, microsecond or nanosecond times), then records as they arrive, in pieces. Pure.
import { PCAP_SNAPLEN } from './pcap-format.ts';

export interface PcapStreamRecord {
  readonly atMicros: number;
  readonly data: Buffer;
}

const MAGIC_MICRO = 0xa1b2c3d4;
const MAGIC_NANO = 0xa1b23c4d;

export class PcapStreamReader {
  linkType: number | null = null;
  #held: Buffer = Buffer.alloc(0);
  #littleEndian = true;
  #nano = false;

  /** Takes the next bytes; returns the whole records they complete. Throws on a non-pcap stream. */
  push(chunk: Buffer): PcapStreamRecord[] {
    this.#held = this.#held.length === 0 ? chunk : Buffer.concat([this.#held, chunk]);
    const out: PcapStreamRecord[] = [];
    if (this.linkType === null) {
      if (this.#held.length < 24) return out;
      const le = this.#held.readUInt32LE(0);
      const be = this.#held.readUInt32BE(0);
      if (le === MAGIC_MICRO || le === MAGIC_NANO) this.#littleEndian = true;
      else if (be === MAGIC_MICRO || be === MAGIC_NANO) this.#littleEndian = false;
      else throw new Error('not a pcap stream');
      this.#nano = (this.#littleEndian ? le : be) === MAGIC_NANO;
      this.linkType = this.#u32(20);
      this.#held = this.#held.subarray(24);
    }
    while (this.#held.length >= 16) {
      const captured = this.#u32(8);
      if (captured > PCAP_SNAPLEN) throw new Error(`pcap record of ${captured} bytes`);
      if (this.#held.length < 16 + captured) break;
      const fraction = this.#u32(4);
      out.push({ atMicros: this.#u32(0) * 1e6 + (this.#nano ? Math.floor(fraction / 1000) : fraction), data: Buffer.from(this.#held.subarray(16, 16 + captured)) });
      this.#held = this.#held.subarray(16 + captured);
    }
    return out;
  }

  #u32(at: number): number {
    return this.#littleEndian ? this.#held.readUInt32LE(at) : this.#held.readUInt32BE(at);
  }
}
