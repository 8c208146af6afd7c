// What the live warnings see of SCSI traffic, without a hook in iscsi/ or scsi/: the portal's
// target directory hands every session a device wrapped here, which notes per I_T nexus (one
// session) the first command to a missing LUN, the data of the first read of LBA 0 (a copy of
// its first 4 KiB, taken before the transport reuses the buffer) and the first write to each
// LUN, and passes everything through unchanged. A few map look-ups per command when nothing is
// new, no allocation; the copies happen once per session.
import { TargetDirectory, type ExportedTarget } from '../iscsi/target-directory.ts';
import { ScsiStatus, type InitiatorPort, type ScsiDone, type ScsiRequest, type ScsiTargetDevice } from '../scsi/types.ts';
import type { Observation } from './warning-types.ts';

export type ScsiObservation = Extract<Observation, { kind: 'missing-lun' | 'first-block' | 'first-write' }>;
type Listener = (observation: ScsiObservation) => void;

const REPORT_LUNS = 0xa0;
/** The first block and the next (LBA 1 holds the GPT header on 512-byte-sector disks) fit. */
const FIRST_BLOCK_COPY = 4096;
/** Commands that change a LUN's data (SBC-3): writes, write-and-verify, WRITE SAME, UNMAP, COMPARE AND WRITE, ORWRITE, WRITE ATOMIC. */
const WRITES: ReadonlySet<number> = new Set([0x0a, 0x2a, 0xaa, 0x8a, 0x2e, 0xae, 0x8e, 0x41, 0x93, 0x42, 0x89, 0x8b, 0x9c]);

/** READ(6/10/12/16) starting at LBA 0. */
export function readsLba0(cdb: Buffer): boolean {
  switch (cdb[0] ?? -1) {
    case 0x08:
      return cdb.length >= 4 && ((cdb[1] ?? 0) & 0x1f) === 0 && cdb[2] === 0 && cdb[3] === 0;
    case 0x28:
    case 0xa8:
      return cdb.length >= 6 && cdb.readUInt32BE(2) === 0;
    case 0x88:
      return cdb.length >= 10 && cdb.readBigUInt64BE(2) === 0n;
    default:
      return false;
  }
}

/** The ISID in hex from an iSCSI port id (",i,0x" + ISID). */
const isidOf = (port: InitiatorPort): string => /0x([0-9a-f]+)$/i.exec(port.portId)?.[1] ?? port.portId;

/** What a nexus did first, per LUN: a number per (LUN, kind), so a command costs no string. */
const First = { missing: 0, write: 1, read: 2 } as const;

class ObservedDevice implements ScsiTargetDevice {
  /**
   * Per I_T nexus, which firsts were seen. The transport hands every command of a session the
   * same InitiatorPort object, and the same one to nexusLost at its end.
   */
  readonly #seen = new WeakMap<InitiatorPort, Set<number>>();

  constructor(
    readonly inner: ScsiTargetDevice,
    private readonly target: string,
    private readonly emit: Listener,
  ) {}

  /** True the first time this nexus does `what` on `lun`. */
  #first(port: InitiatorPort, what: number, lun: number): boolean {
    let seen = this.#seen.get(port);
    if (seen === undefined) {
      seen = new Set();
      this.#seen.set(port, seen);
    }
    const key = lun * 4 + what;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  }

  #source(port: InitiatorPort, lun: number): { at: number; target: string; lun: number; initiator: string; isid: string } {
    return { at: Date.now(), target: this.target, lun, initiator: port.name, isid: isidOf(port) };
  }

  execute(lun: number, request: ScsiRequest, done: ScsiDone): void {
    const port = request.initiator;
    if (port === undefined) return this.inner.execute(lun, request, done);
    const opcode = request.cdb[0] ?? -1;
    if (!this.inner.hasLun(lun)) {
      if (opcode !== REPORT_LUNS && this.#first(port, First.missing, lun)) this.emit({ kind: 'missing-lun', ...this.#source(port, lun), opcode });
      return this.inner.execute(lun, request, done);
    }
    if (WRITES.has(opcode) && this.#first(port, First.write, lun)) this.emit({ kind: 'first-write', ...this.#source(port, lun) });
    if (!readsLba0(request.cdb) || !this.#first(port, First.read, lun)) return this.inner.execute(lun, request, done);
    this.inner.execute(lun, request, (response) => {
      if (response.status === ScsiStatus.Good && response.dataIn !== null && response.dataIn.length > 0) {
        const block = Buffer.from(response.dataIn.subarray(0, FIRST_BLOCK_COPY));
        this.emit({ kind: 'first-block', ...this.#source(port, lun), block });
      }
      done(response);
    });
  }

  reset(lun: number | null): void {
    this.inner.reset(lun);
  }

  nexusLost(initiator: InitiatorPort): void {
    this.#seen.delete(initiator);
    this.inner.nexusLost?.(initiator);
  }

  hasLun(lun: number): boolean {
    return this.inner.hasLun(lun);
  }
}

/** The portal's target directory, with every device observed. main.ts builds it instead of a plain one. */
export class ObservedTargetDirectory extends TargetDirectory {
  readonly #listeners = new Set<Listener>();
  readonly #emit: Listener = (observation) => {
    for (const listener of this.#listeners) listener(observation);
  };

  /** Starts empty: the base class would add targets before this class's fields exist. */
  constructor() {
    super();
  }

  override add(target: ExportedTarget): void {
    const device = target.device instanceof ObservedDevice ? target.device : new ObservedDevice(target.device, target.name, this.#emit);
    super.add({ ...target, device });
  }

  subscribe(listener: Listener): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }
}
