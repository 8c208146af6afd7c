// One machine's capture: a pcap file in DATA_DIR/captures, the addresses the machine is known
// by, a TCP flow per connection, and its bounds (bytes and seconds). Records are appended with
// one synchronous write each, so the file always ends on a whole record and can be downloaded
// while the capture runs; the page cache makes that cheaper than the packet it records.
import { closeSync, mkdirSync, openSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';
import { pcapFileHeader, pcapRecord } from './pcap-format.ts';

export interface CaptureBounds {
  readonly seconds: number;
  readonly maxBytes: number;
}

export interface CaptureStatus {
  readonly mac: string;
  readonly state: 'running' | 'done';
  readonly startedAt: string;
  /** When the time bound stops it (running), or when it stopped (done). */
  readonly endsAt: string;
  /** Why it stopped: 'time limit', 'size limit', 'stopped', 'replaced', 'server shutting down'. */
  readonly reason: string | null;
  readonly packets: number;
  /** Size of the pcap file so far. */
  readonly bytes: number;
  readonly seconds: number;
  readonly maxBytes: number;
  /** Addresses the machine's traffic is recognised by (besides its MAC in DHCP). */
  readonly addresses: readonly string[];
  /** Where to download it. */
  readonly download: string;
  /** What the capture could not do, or how it got the iSCSI packets. */
  readonly notes: readonly string[];
}

export class MachineCapture {
  readonly addresses = new Set<string>();
  readonly notes: string[] = [];
  readonly #fd: number;
  readonly #startedMs: number;
  #endsMs: number;
  #bytes: number;
  #packets = 0;
  #reason: string | null = null;
  #full = false;

  constructor(
    readonly mac: string,
    readonly path: string,
    readonly bounds: CaptureBounds,
    nowMs: number,
  ) {
    mkdirSync(dirname(path), { recursive: true });
    this.#fd = openSync(path, 'w', 0o600);
    const header = pcapFileHeader();
    writeSync(this.#fd, header);
    this.#bytes = header.length;
    this.#startedMs = nowMs;
    this.#endsMs = nowMs + bounds.seconds * 1000;
  }

  get running(): boolean {
    return this.#reason === null;
  }

  /** Bytes of whole records written: a download reads this much. */
  get length(): number {
    return this.#bytes;
  }

  /** Whether the size bound was reached: the owner stops the capture then. */
  get full(): boolean {
    return this.#full;
  }

  /** Appends frames captured at one moment; false (and nothing written) once running or room is out. */
  write(atMicros: number, frames: readonly Buffer[]): boolean {
    if (!this.running || this.#full) return false;
    const records = frames.map((f) => pcapRecord(atMicros, f));
    const size = records.reduce((n, r) => n + r.length, 0);
    if (this.#bytes + size > this.bounds.maxBytes) {
      this.#full = true;
      return false;
    }
    writeSync(this.#fd, records.length === 1 ? (records[0] ?? Buffer.alloc(0)) : Buffer.concat(records));
    this.#bytes += size;
    this.#packets += frames.length;
    return true;
  }

  stop(reason: string, nowMs: number): void {
    if (!this.running) return;
    this.#reason = reason;
    this.#endsMs = nowMs;
    closeSync(this.#fd);
  }

  status(download: string): CaptureStatus {
    return {
      mac: this.mac,
      state: this.running ? 'running' : 'done',
      startedAt: new Date(this.#startedMs).toISOString(),
      endsAt: new Date(this.#endsMs).toISOString(),
      reason: this.#reason,
      packets: this.#packets,
      bytes: this.#bytes,
      seconds: this.bounds.seconds,
      maxBytes: this.bounds.maxBytes,
      addresses: [...this.addresses],
      download,
      notes: [...this.notes],
    };
  }
}
