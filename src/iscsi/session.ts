// The full-feature phase of one iSCSI session on one connection (MaxConnections=1, ERL 0):
// the CmdSN window, the task table, SCSI commands with their Data-In, Data-Out and R2T flows,
// NOP, Text (SendTargets), Task Management and Logout (RFC 7143 sections 3.2, 4.2, 11).
// No sockets here: PDUs come in through handle() and leave through the PduSink.
import { EMPTY } from '../lib/bytes.ts';
import { Histogram } from '../lib/histogram.ts';
import { serialAdd, serialInWindow, serialLt } from '../lib/serial-number.ts';
import type { InitiatorPort, ScsiRequest, ScsiResponse as ScsiResult, ScsiTargetDevice } from '../scsi/types.ts';
import { ScsiStatus } from '../scsi/types.ts';
import { decodeLun } from '../scsi/lun.ts';
import { Opcode as ScsiOpcode } from '../scsi/opcode.ts';
import { encodeFixedSense, ScsiError, SenseKey } from '../scsi/sense.ts';
import type { BufferPool } from './buffer-pool.ts';
import { DataInBudget, DEFAULT_DATA_IN_BUDGET_BYTES } from './data-in-budget.ts';
import type { NegotiatedParams } from './negotiation.ts';
import { readDataSegmentLength, readFlags, readInitiatorTaskTag, readOpcode, readU32 } from './pdu/bhs.ts';
import { DataOffset } from './pdu/data.ts';
import { ScsiCommandFlag, ScsiCommandOffset } from './pdu/scsi-command.ts';
import {
  Opcode,
  LogoutReason,
  LogoutResponseCode,
  RejectReason,
  RESERVED_TAG,
  ServiceResponse,
  TaskFunction,
  TaskResponse,
  type DataOut,
  type InitiatorPdu,
  type LogoutRequest,
  type NopOut,
  type ScsiCommand,
  type TargetPdu,
  type TaskManagementRequest,
  type TextRequest,
} from './pdu/types.ts';
import { answerSendTargets, type Portal } from './send-targets.ts';
import type { TargetDirectory } from './target-directory.ts';
import { decodeTextKeys, encodeTextKeys } from './text-keys.ts';
import { WriteCollector } from './write-collector.ts';

/** Where the session's PDUs go; the connection encodes and writes them. */
export interface PduSink {
  /**
   * `pooled`: a buffer from the session's pool that holds the PDU's data; the sink gives it back
   * to the pool once the socket is done with it. `dataInBytes`: Data-In budget the session gets
   * back through dataInWritten() once the socket has handed this PDU to the kernel.
   */
  send(pdu: TargetPdu, pooled?: Buffer | null, dataInBytes?: number): void;
  /** Send what is queued, then close the connection. */
  finish(reason: string): void;
  /** Close now (protocol violation). */
  abort(reason: string): void;
}

export interface SessionLog {
  warn(fields: Record<string, unknown>, message: string): void;
  debug(fields: Record<string, unknown>, message: string): void;
}

export interface SessionInfo {
  readonly tsih: number;
  readonly isid: Buffer;
  readonly cid: number;
  readonly type: 'Normal' | 'Discovery';
  readonly initiatorName: string;
  readonly targetName: string | null;
  readonly params: NegotiatedParams;
}

export interface SessionOptions extends SessionInfo {
  readonly device: ScsiTargetDevice | null;
  readonly targets: TargetDirectory;
  readonly portals: () => readonly Portal[];
  readonly sink: PduSink;
  readonly log: SessionLog;
  /** Called once, on the session's first READ of LBA 0: the machine has started to boot. */
  readonly onFirstRead?: () => void;
  /** The StatSN the next response carries. */
  readonly statSn: number;
  /** CmdSN of the leading login request: the first command's CmdSN (RFC 7143 section 4.2.2.1). */
  readonly cmdSn: number;
  /** Commands the target accepts at once (the CmdSN window). */
  readonly queueDepth: number;
  /** Where write commands get their data-out buffers, and give them back (buffer-pool.ts). */
  readonly pool?: BufferPool;
  /**
   * Bytes of read data this connection may hold before further commands that produce Data-In
   * wait (data-in-budget.ts); DEFAULT_DATA_IN_BUDGET_BYTES when absent.
   */
  readonly dataInBudgetBytes?: number;
}

/** A command in flight; it is also the request handed to the SCSI device (one object, not two). */
interface Task extends ScsiRequest {
  dataOut: Buffer | null;
  readonly command: ScsiCommand;
  readonly lun: number;
  writer: WriteCollector | null;
  /** The pooled buffer behind writer.buffer, returned once the device is done with it. */
  pooled: Buffer | null;
  /** The pooled buffer a READ's data-in went into, given back once the socket has sent it. */
  dataInPooled: Buffer | null;
  /** Bytes of the Data-In budget this command holds: 0 until it may run, then until its data has left. */
  dataInCharged: number;
  /** Admitted, but waiting for Data-In budget: its storage read is not issued yet. */
  waiting: boolean;
  aborted: boolean;
  executing: boolean;
  /** performance.now() when the session admitted the command (for diskless_iscsi_command_seconds). */
  readonly startedMs: number;
}

export interface SessionCounters {
  bytesRead: number;
  bytesWritten: number;
  commands: number;
}

/**
 * Upper bounds of diskless_iscsi_command_seconds: from a read served from the page cache
 * (tens of µs) to a write that waits for a slow disk (up to a second); slower goes in +Inf.
 */
export const COMMAND_SECONDS_BOUNDS = [0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1] as const;

/**
 * How long SCSI commands took, from admission (CmdSN order, RFC 7143 section 4.2.2.1) to their
 * last response PDU handed to the writer, by operation class. A write's time includes waiting
 * for its Data-Out. Commands that get no response (aborted, logged out) are not counted.
 */
export interface CommandLatency {
  /** READ(6/10/12/16). */
  readonly read: Histogram;
  /** Commands whose data-out goes to the medium: WRITE, WRITE AND VERIFY, ORWRITE, COMPARE AND WRITE, WRITE ATOMIC. */
  readonly write: Histogram;
  /** Everything else: INQUIRY, TEST UNIT READY, SYNCHRONIZE CACHE, UNMAP, WRITE SAME, ... */
  readonly other: Histogram;
}

export function createCommandLatency(): CommandLatency {
  return { read: new Histogram(COMMAND_SECONDS_BOUNDS), write: new Histogram(COMMAND_SECONDS_BOUNDS), other: new Histogram(COMMAND_SECONDS_BOUNDS) };
}

/** The histogram of a command's class, by its operation code (a jump table, no lookup object). */
function latencyOf(latency: CommandLatency, opcode: number): Histogram {
  switch (opcode) {
    case ScsiOpcode.Read6:
    case ScsiOpcode.Read10:
    case ScsiOpcode.Read12:
    case ScsiOpcode.Read16:
      return latency.read;
    case ScsiOpcode.Write6:
    case ScsiOpcode.Write10:
    case ScsiOpcode.Write12:
    case ScsiOpcode.Write16:
    case ScsiOpcode.WriteAndVerify10:
    case ScsiOpcode.WriteAndVerify12:
    case ScsiOpcode.WriteAndVerify16:
    case ScsiOpcode.OrWrite16:
    case ScsiOpcode.CompareAndWrite:
    case ScsiOpcode.WriteAtomic16:
      return latency.write;
    default:
      return latency.other;
  }
}

/** SCSI residual accounting (RFC 7143 section 11.4.5). */
interface Residual {
  readonly overflow: boolean;
  readonly underflow: boolean;
  readonly count: number;
}

const NO_RESIDUAL: Residual = { overflow: false, underflow: false, count: 0 };
/**
 * Immediate data is received into a pooled buffer of the whole transfer only up to this
 * ExpectedDataTransferLength: the field is the initiator's word, and memory is ours.
 */
const MAX_PLACED_TRANSFER_BYTES = 16 * 1024 * 1024;
/** SPC-4 Annex D: DATA PHASE ERROR. */
const DATA_PHASE_ERROR = { asc: 0x4b, ascq: 0x00 } as const;

/**
 * Residuals of a write (RFC 7143 section 11.4.5.2): the initiator offered `expected` bytes, the
 * CDB wanted `wanted`. More offered than wanted is an underflow; less is an overflow.
 */
function writeResidual(expected: number, wanted: number | undefined): Residual {
  if (wanted === undefined || wanted === expected) return NO_RESIDUAL;
  return wanted < expected ? { overflow: false, underflow: true, count: expected - wanted } : { overflow: true, underflow: false, count: wanted - expected };
}

/** READ(6/10/12/16) starting at LBA 0: where every BIOS and UEFI boot begins. */
function readsLba0(cdb: Buffer): boolean {
  switch (cdb[0] ?? -1) {
    case 0x08:
      return ((cdb[1] ?? 0) & 0x1f) === 0 && cdb[2] === 0 && cdb[3] === 0;
    case 0x28:
    case 0xa8:
      return cdb.readUInt32BE(2) === 0;
    case 0x88:
      return cdb.readBigUInt64BE(2) === 0n;
    default:
      return false;
  }
}

export class Session {
  readonly info: SessionInfo;
  readonly counters: SessionCounters = { bytesRead: 0, bytesWritten: 0, commands: 0 };
  /** This session's command latencies; the server adds them to its target's totals at the end. */
  readonly latency: CommandLatency = createCommandLatency();
  #statSn: number;
  #expCmdSn: number;
  /** Non-immediate commands received but not yet answered: they narrow the window. */
  #pending = 0;
  readonly #tasks = new Map<number, Task>();
  /** Commands that arrived ahead of a CmdSN gap, held until the gap fills. */
  readonly #held = new Map<number, { pdu: ScsiCommand; rawHeader: Buffer }>();
  #nextTransferTag = 1;
  #textContinuation: { tag: number; rest: Buffer } | null = null;
  #loggedOut = false;
  #sawLba0Read = false;
  #closed = false;
  /** The task whose command device.execute() is running (see #allocateDataIn). */
  #allocatingFor: Task | null = null;
  /** Read data this connection holds, from storage read to socket; over it, commands wait. */
  readonly #budget: DataInBudget<Task>;
  /** #startWaiting is on the stack (a command it starts may complete at once and call it again). */
  #startingWaiting = false;
  /**
   * Pooled buffers that immediate data was received into (placeData), by their memory, until
   * the command starts. Weak: a command that is never started takes its buffer with it.
   */
  readonly #placedImmediate = new WeakMap<ArrayBufferLike, Buffer>();

  /** SCSI initiator port of this session: name + ",i,0x" + ISID (RFC 7143 section 10.1.1). */
  readonly #initiatorPort: InitiatorPort;

  constructor(private readonly opts: SessionOptions) {
    this.info = opts;
    this.#initiatorPort = { name: opts.initiatorName, portId: `,i,0x${opts.isid.toString('hex')}` };
    this.#statSn = opts.statSn;
    this.#expCmdSn = opts.cmdSn;
    this.#budget = new DataInBudget(opts.dataInBudgetBytes ?? DEFAULT_DATA_IN_BUDGET_BYTES);
  }

  get expCmdSn(): number {
    return this.#expCmdSn;
  }

  get maxCmdSn(): number {
    const free = Math.max(0, this.opts.queueDepth - this.#pending);
    // A MaxCmdSN of ExpCmdSN - 1 closes the window (RFC 7143 section 4.2.2.1).
    return serialAdd(this.#expCmdSn, free - 1);
  }

  get statSn(): number {
    return this.#statSn;
  }

  get activeTasks(): number {
    return this.#tasks.size;
  }

  handle(pdu: InitiatorPdu, rawHeader: Buffer): void {
    switch (pdu.kind) {
      case 'scsi-command':
        return this.#onCommandPdu(pdu, rawHeader);
      case 'data-out':
        return this.#onDataOut(pdu, rawHeader);
      case 'nop-out':
        return this.#onNopOut(pdu, rawHeader);
      case 'text-request':
        return this.#onText(pdu, rawHeader);
      case 'task-management-request':
        return this.#onTaskManagement(pdu, rawHeader);
      case 'logout-request':
        return this.#onLogout(pdu, rawHeader);
      case 'snack-request':
        // SNACK needs ErrorRecoveryLevel > 0; this target negotiates 0 (RFC 7143 section 11.16).
        return this.reject(RejectReason.CommandNotSupported, rawHeader);
      case 'login-request':
        // A login request in full-feature phase is a protocol error (RFC 7143 section 6.2).
        return this.reject(RejectReason.ProtocolError, rawHeader);
    }
  }

  /** Sends a Reject carrying the offending header (RFC 7143 section 11.17). */
  reject(reason: number, rawHeader: Buffer): void {
    this.opts.log.warn({ reason, opcode: (rawHeader[0] ?? 0) & 0x3f }, 'rejecting PDU');
    this.opts.sink.send({ kind: 'reject', reason, dataSn: 0, data: Buffer.from(rawHeader.subarray(0, 48)), ...this.#status() });
  }

  /** A NOP-In ping for an idle initiator; the answering NOP-Out carries our tag back. */
  ping(tag: number): void {
    this.opts.sink.send({
      kind: 'nop-in',
      lun: 0n,
      initiatorTaskTag: RESERVED_TAG,
      targetTransferTag: tag,
      // A ping does not advance StatSN (RFC 7143 section 11.19.4).
      statSn: this.#statSn,
      expCmdSn: this.#expCmdSn,
      maxCmdSn: this.maxCmdSn,
      data: EMPTY,
    });
  }

  /** Bytes of Data-In waiting for budget or holding it (for tests and diagnostics). */
  get dataIn(): { readonly outstandingBytes: number; readonly waitingCommands: number } {
    return { outstandingBytes: this.#budget.outstandingBytes, waitingCommands: this.#budget.waitingCount };
  }

  /**
   * The socket has handed `bytes` of Data-In budget to the kernel (the writer's callback for the
   * last Data-In PDU of commands): commands waiting for budget may start.
   */
  dataInWritten(bytes: number): void {
    this.#releaseDataIn(bytes);
  }

  /** The connection is gone: drop every task; responses still in flight are discarded. */
  close(): void {
    for (const task of this.#tasks.values()) {
      task.aborted = true;
      // Never started: nothing to wait for but its data-out buffer (a bidirectional command).
      if (task.waiting) this.#dropWaiting(task);
    }
    // Nothing waits any more, so budget given back from now on starts nothing.
    this.#budget.clear();
    this.#tasks.clear();
    this.#held.clear();
    if (this.#closed) return;
    this.#closed = true;
    // The I_T nexus ends with the session: its SPC-2 reservations go (SAM-5 6.3.4, SPC-2 5.5.1).
    this.opts.device?.nexusLost?.(this.#initiatorPort);
  }

  #status(): { statSn: number; expCmdSn: number; maxCmdSn: number } {
    const statSn = this.#statSn;
    this.#statSn = serialAdd(statSn, 1);
    return { statSn, expCmdSn: this.#expCmdSn, maxCmdSn: this.maxCmdSn };
  }

  /**
   * CmdSN ordering (RFC 7143 section 4.2.2.1): immediate commands bypass it; a command outside
   * the window is silently ignored; one ahead of ExpCmdSN waits until the gap fills.
   * Returns false when the command must not be processed now.
   */
  #admit(immediate: boolean, cmdSn: number): boolean {
    if (immediate) return true;
    if (!serialInWindow(cmdSn, this.#expCmdSn, serialAdd(this.#expCmdSn, this.opts.queueDepth - 1))) {
      this.opts.log.warn({ cmdSn, expCmdSn: this.#expCmdSn }, 'command outside the CmdSN window ignored');
      return false;
    }
    if (cmdSn !== this.#expCmdSn) return false;
    this.#expCmdSn = serialAdd(this.#expCmdSn, 1);
    this.#pending++;
    return true;
  }

  #onCommandPdu(pdu: ScsiCommand, rawHeader: Buffer): void {
    if (this.info.type === 'Discovery') return this.reject(RejectReason.ProtocolError, rawHeader);
    if (!pdu.immediate && pdu.cmdSn !== this.#expCmdSn && serialLt(this.#expCmdSn, pdu.cmdSn)) {
      if (serialInWindow(pdu.cmdSn, this.#expCmdSn, serialAdd(this.#expCmdSn, this.opts.queueDepth - 1))) {
        this.#held.set(pdu.cmdSn, { pdu, rawHeader });
        return;
      }
    }
    if (!this.#admit(pdu.immediate, pdu.cmdSn)) return;
    this.#startCommand(pdu, rawHeader);
    // Commands that were waiting for this CmdSN can go now.
    for (let next = this.#held.get(this.#expCmdSn); next !== undefined; next = this.#held.get(this.#expCmdSn)) {
      this.#held.delete(this.#expCmdSn);
      this.#admit(false, next.pdu.cmdSn);
      this.#startCommand(next.pdu, next.rawHeader);
    }
  }

  #startCommand(pdu: ScsiCommand, rawHeader: Buffer): void {
    const params = this.info.params;
    if (this.#tasks.has(pdu.initiatorTaskTag)) {
      // An ITT must be unique among the session's outstanding tasks (RFC 7143 section 11.2.1.8).
      this.#finishPending(pdu.immediate);
      return this.reject(RejectReason.TaskInProgress, rawHeader);
    }
    if (pdu.data.length > 0 && (!params.immediateData || !pdu.write)) {
      this.#finishPending(pdu.immediate);
      return this.reject(RejectReason.ProtocolError, rawHeader);
    }
    const lun = decodeLun(pdu.lun) ?? -1;
    const read = pdu.read;
    const task: Task = {
      cdb: pdu.cdb,
      dataOut: null,
      expectedDataInLength: read ? pdu.expectedDataTransferLength : 0,
      initiator: this.#initiatorPort,
      allocateDataIn: read && this.opts.pool !== undefined ? this.#allocateDataIn : undefined,
      command: pdu,
      lun,
      writer: null,
      pooled: null,
      dataInPooled: null,
      dataInCharged: 0,
      waiting: false,
      aborted: false,
      executing: false,
      startedMs: performance.now(),
    };
    this.counters.commands++;
    if (pdu.write && pdu.expectedDataTransferLength > 0) {
      const length = pdu.expectedDataTransferLength;
      // Immediate data was normally received into a pooled buffer for the whole transfer
      // (#placeImmediate). Otherwise, when it is the whole transfer, it is used where it lies:
      // memory the framer hands out is never reused, so no copy is needed.
      let storage: Buffer | undefined;
      const placed = pdu.data.byteOffset === 0 ? this.#placedImmediate.get(pdu.data.buffer) : undefined;
      if (placed !== undefined && placed.length >= length) {
        // The immediate data was received into this buffer already (placeData).
        this.#placedImmediate.delete(pdu.data.buffer);
        storage = task.pooled = placed;
      } else if (pdu.data.length === length) storage = pdu.data;
      else if (this.opts.pool !== undefined) storage = task.pooled = this.opts.pool.take(length);
      const writer = new WriteCollector(length, params, this.#allocateTag, storage);
      const problem = pdu.data.length > 0 || pdu.final ? writer.acceptImmediate(pdu.data, pdu.final) : null;
      if (problem !== null) {
        this.#finishPending(pdu.immediate);
        return this.reject(RejectReason.ProtocolError, rawHeader);
      }
      task.writer = writer;
      this.#tasks.set(pdu.initiatorTaskTag, task);
      if (writer.complete) return this.#start(task);
      this.#sendR2ts(task, writer);
      return;
    }
    this.#tasks.set(pdu.initiatorTaskTag, task);
    this.#start(task);
  }

  /** A Target Transfer Tag for an R2T or a text continuation (one function for all tasks). */
  readonly #allocateTag = (): number => {
    const tag = this.#nextTransferTag;
    this.#nextTransferTag = this.#nextTransferTag >= 0x7fffffff ? 1 : this.#nextTransferTag + 1;
    return tag;
  };

  #sendR2ts(task: Task, writer: WriteCollector): void {
    for (const r2t of writer.nextR2ts()) {
      this.opts.sink.send({
        kind: 'r2t',
        lun: task.command.lun,
        initiatorTaskTag: task.command.initiatorTaskTag,
        ...r2t,
        // R2T carries StatSN without advancing it (RFC 7143 section 11.8.3).
        statSn: this.#statSn,
        expCmdSn: this.#expCmdSn,
        maxCmdSn: this.maxCmdSn,
      });
    }
  }

  /**
   * The framer's DataPlacement for this session: a Data-Out that belongs to a write task still
   * gathering data is received straight into the task's buffer (write-collector.ts), and the
   * partial immediate data of a large write into a pooled buffer for the whole transfer.
   * Anything else (other PDUs, unknown tasks, PDUs the collector would refuse) gets framer
   * memory and goes through handle() as usual.
   */
  placeData(header: Buffer, length: number): Buffer | null {
    if (readDataSegmentLength(header) !== length) return null;
    const opcode = readOpcode(header);
    if (opcode === Opcode.ScsiCommand) return this.#placeImmediate(header, length);
    if (opcode !== Opcode.DataOut) return null;
    const task = this.#tasks.get(readInitiatorTaskTag(header));
    if (task === undefined || task.writer === null || task.executing) return null;
    return task.writer.placeDataOut(readU32(header, DataOffset.TargetTransferTag), readU32(header, DataOffset.DataSn), readU32(header, DataOffset.BufferOffset), length);
  }

  /**
   * A write's immediate data goes into a pooled buffer for the whole transfer, at offset 0: the
   * first part of a large write (a 1 MiB write carries FirstBurstLength of it), so that neither
   * the framer nor the collector copies it again, and all of a small one, so that it needs no
   * memory of the framer's (which would be fresh memory per write: the framer's receive buffer
   * is reused). The buffer goes back to the pool when the command completes.
   */
  #placeImmediate(header: Buffer, length: number): Buffer | null {
    const pool = this.opts.pool;
    if (pool === undefined || !this.info.params.immediateData || (readFlags(header) & ScsiCommandFlag.Write) === 0) return null;
    const transfer = readU32(header, ScsiCommandOffset.ExpectedDataTransferLength);
    // Below the pool's smallest class the request would not be pooled (or could share memory
    // with other buffers: Node's slab). More data than the transfer is refused later.
    if (length > transfer || transfer < pool.minPooledBytes || transfer > MAX_PLACED_TRANSFER_BYTES) return null;
    const storage = pool.take(transfer);
    this.#placedImmediate.set(storage.buffer, storage);
    return storage.subarray(0, length);
  }

  #onDataOut(pdu: DataOut, rawHeader: Buffer): void {
    const task = this.#tasks.get(pdu.initiatorTaskTag);
    if (task === undefined || task.writer === null || task.executing) {
      // Data for a task we do not know (or no longer expect): RFC 7143 section 11.17.1.
      return this.reject(RejectReason.InvalidPduField, rawHeader);
    }
    const writer = task.writer;
    const problem = writer.acceptDataOut(pdu.targetTransferTag, pdu.dataSn, pdu.bufferOffset, pdu.data, pdu.final);
    if (problem === 'data-sn-mismatch') {
      // ErrorRecoveryLevel 0 cannot ask for the missing PDU again: the command fails with
      // ABORTED COMMAND, DATA PHASE ERROR (SAM-5 5.3; RFC 7143 section 7.1.4.1).
      this.opts.log.warn({ itt: pdu.initiatorTaskTag, dataSn: pdu.dataSn }, 'Data-Out with an unexpected DataSN');
      task.executing = true;
      return this.#complete(task, { status: ScsiStatus.CheckCondition, dataIn: null, sense: encodeFixedSense(new ScsiError(SenseKey.AbortedCommand, DATA_PHASE_ERROR)) });
    }
    if (problem !== null) {
      this.opts.log.warn({ itt: pdu.initiatorTaskTag, problem }, 'bad Data-Out');
      return this.reject(RejectReason.ProtocolError, rawHeader);
    }
    if (writer.complete) return this.#start(task);
    if (pdu.final) this.#sendR2ts(task, writer);
  }

  /**
   * Executes a command now, or, when it will produce Data-In and the connection's Data-In budget
   * is spent, once earlier data has left (data-in-budget.ts). Under budget: a few compares.
   */
  #start(task: Task): void {
    const bytes = task.expectedDataInLength;
    if (bytes > 0) {
      if (!this.#budget.tryAcquire(bytes)) {
        // Admitted (it counts against the CmdSN window), not started: no storage read, no buffer.
        // Its data-out, if any, is complete: further Data-Out for it is refused as for a
        // running command (executing), so nothing can complete it while it waits.
        task.waiting = true;
        task.executing = true;
        this.#budget.enqueue(task, bytes);
        return;
      }
      task.dataInCharged = bytes;
    }
    this.#execute(task);
  }

  /** Gives Data-In budget back and starts, oldest first, the waiting commands that now fit. */
  #releaseDataIn(bytes: number): void {
    if (bytes === 0) return;
    this.#budget.release(bytes);
    if (this.#budget.waitingCount > 0) this.#startWaiting();
  }

  #startWaiting(): void {
    // A command started here may complete synchronously and give budget back, which calls this
    // again: the loop already running picks up what that freed.
    if (this.#startingWaiting) return;
    this.#startingWaiting = true;
    try {
      for (let task = this.#budget.next(); task !== undefined; task = this.#budget.next()) {
        task.waiting = false;
        task.dataInCharged = task.expectedDataInLength;
        this.#execute(task);
      }
    } finally {
      this.#startingWaiting = false;
    }
  }

  /** A waiting command that will never run (aborted, or the connection is closing). */
  #dropWaiting(task: Task): void {
    task.waiting = false;
    this.#budget.remove(task);
    if (task.pooled !== null) {
      this.opts.pool?.give(task.pooled);
      task.pooled = null;
    }
  }

  #execute(task: Task): void {
    task.executing = true;
    const command = task.command;
    if (!this.#sawLba0Read && readsLba0(command.cdb)) {
      this.#sawLba0Read = true;
      this.opts.onFirstRead?.();
    }
    const device = this.opts.device;
    if (device === null) return;
    task.dataOut = task.writer?.buffer ?? null;
    // A READ takes its data-in buffer synchronously, inside execute() (sbc-read-write.ts).
    this.#allocatingFor = task;
    device.execute(task.lun, task, (result) => this.#complete(task, result));
    this.#allocatingFor = null;
  }

  /**
   * The data-in buffer of a READ, from the pool: it goes back once the socket has sent it, or
   * at once when its data is copied into the writer's arena. Shared by every command (no closure
   * per command); the task is the one #execute is running.
   */
  readonly #allocateDataIn = (length: number): Buffer => {
    const task = this.#allocatingFor;
    const pool = this.opts.pool;
    if (task === null) return Buffer.allocUnsafe(length);
    // The buffer is what the memory costs: a CDB asking for more than the expected data
    // transfer length is charged for all of it (its data is truncated only when sent).
    if (length > task.dataInCharged) {
      this.#budget.charge(length - task.dataInCharged);
      task.dataInCharged = length;
    }
    if (pool === undefined || task.dataInPooled !== null) return Buffer.allocUnsafe(length);
    const buffer = pool.take(length);
    task.dataInPooled = buffer;
    return buffer.length === length ? buffer : buffer.subarray(0, length);
  };

  #finishPending(immediate: boolean): void {
    if (!immediate && this.#pending > 0) this.#pending--;
  }

  #complete(task: Task, result: ScsiResult): void {
    // The device is done with the data-out (or never got it): recycle its buffer, aborted or not.
    if (task.pooled !== null) {
      this.opts.pool?.give(task.pooled);
      task.pooled = null;
    }
    // A pooled data-in buffer goes back once the socket has sent it (see #sendDataIn); with
    // nothing to send it goes back now.
    const dataInPooled = task.dataInPooled;
    task.dataInPooled = null;
    // Its Data-In budget goes back with its last Data-In PDU once written, or below, now.
    const charged = task.dataInCharged;
    task.dataInCharged = 0;
    if (task.aborted) {
      this.#giveBack(dataInPooled);
      return this.#releaseDataIn(charged);
    }
    const command = task.command;
    this.#tasks.delete(command.initiatorTaskTag);
    this.#finishPending(command.immediate);
    if (this.#loggedOut) {
      this.#giveBack(dataInPooled);
      return this.#releaseDataIn(charged);
    }
    if (command.write) this.counters.bytesWritten += task.writer?.received ?? 0;

    const expected = command.read ? command.expectedDataTransferLength : 0;
    const data = result.dataIn ?? EMPTY;
    const sendLength = Math.min(data.length, expected);
    let residual = NO_RESIDUAL;
    if (command.read && data.length < expected) residual = { overflow: false, underflow: true, count: expected - data.length };
    else if (data.length > expected) residual = { overflow: true, underflow: false, count: data.length - expected };
    else if (command.write) residual = writeResidual(command.expectedDataTransferLength, result.dataOutLength);
    else if (!command.read && command.expectedDataTransferLength > 0) {
      residual = { overflow: false, underflow: true, count: command.expectedDataTransferLength };
    }
    const foldStatus = result.sense === null && result.status === ScsiStatus.Good;
    const dataSnCount = sendLength > 0 ? this.#sendDataIn(command, sendLength === data.length ? data : data.subarray(0, sendLength), foldStatus, result.status, residual, dataInPooled, charged) : 0;
    if (dataSnCount === 0) this.#giveBack(dataInPooled);
    this.counters.bytesRead += sendLength;
    // The status went out folded into the last Data-In.
    if (dataSnCount > 0 && foldStatus) return this.#observeLatency(task);

    const sense = result.sense;
    let senseData = EMPTY;
    if (sense !== null) {
      // The data segment of a SCSI Response is SenseLength (2 bytes) then the sense data
      // (RFC 7143 section 11.4.7.2).
      senseData = Buffer.allocUnsafe(2 + sense.length);
      senseData.writeUInt16BE(sense.length, 0);
      sense.copy(senseData, 2);
    }
    const statSn = this.#nextStatSn();
    this.opts.sink.send({
      kind: 'scsi-response',
      bidiReadResidualOverflow: false,
      bidiReadResidualUnderflow: false,
      residualOverflow: residual.overflow,
      residualUnderflow: residual.underflow,
      response: ServiceResponse.CommandCompleted,
      status: result.status,
      initiatorTaskTag: command.initiatorTaskTag,
      snackTag: 0,
      expDataSn: dataSnCount > 0 ? dataSnCount : (task.writer?.r2tCount ?? 0),
      bidiReadResidualCount: 0,
      residualCount: residual.count,
      data: senseData,
      statSn,
      expCmdSn: this.#expCmdSn,
      maxCmdSn: this.maxCmdSn,
    });
    this.#observeLatency(task);
    // No Data-In went out to carry the budget back: it comes back now, after this response.
    if (dataSnCount === 0) this.#releaseDataIn(charged);
  }

  #giveBack(pooled: Buffer | null): void {
    if (pooled !== null) this.opts.pool?.give(pooled);
  }

  /** The StatSN for the next response, advancing it (RFC 7143 section 4.2.2.2). */
  #nextStatSn(): number {
    const statSn = this.#statSn;
    this.#statSn = serialAdd(statSn, 1);
    return statSn;
  }

  /** One clock read per completion; the start was read once, at admission. */
  #observeLatency(task: Task): void {
    latencyOf(this.latency, task.command.cdb[0] ?? -1).observe((performance.now() - task.startedMs) / 1000);
  }

  /**
   * Splits data-in into PDUs of at most the initiator's MaxRecvDataSegmentLength, ending a
   * sequence (F bit) every MaxBurstLength bytes (RFC 7143 sections 11.7.1 and 13.13), and folds
   * the status into the last PDU when allowed (no sense data). Returns the number of PDUs.
   * `charged`: the command's Data-In budget, given back once the socket has written the last PDU.
   */
  #sendDataIn(command: ScsiCommand, data: Buffer, foldStatus: boolean, status: number, residual: Residual, pooled: Buffer | null, charged: number): number {
    const segment = this.info.params.maxRecvDataSegmentLengthInitiator;
    const burst = this.info.params.maxBurstLength;
    let dataSn = 0;
    let offset = 0;
    let burstLeft = burst;
    while (offset < data.length) {
      const length = Math.min(segment, data.length - offset, burstLeft);
      const last = offset + length >= data.length;
      burstLeft -= length;
      const final = last || burstLeft === 0;
      if (burstLeft === 0) burstLeft = burst;
      const withStatus = last && foldStatus;
      // Written as one object literal of one shape: the writer's encoder sees a single map.
      this.opts.sink.send(
        {
          kind: 'data-in',
          final,
          acknowledge: false,
          residualOverflow: withStatus && residual.overflow,
          residualUnderflow: withStatus && residual.underflow,
          hasStatus: withStatus,
          status: withStatus ? status : 0,
          lun: 0n,
          initiatorTaskTag: command.initiatorTaskTag,
          targetTransferTag: RESERVED_TAG,
          // StatSN is valid (and advances) only with the status (RFC 7143 section 11.7.3).
          statSn: withStatus ? this.#nextStatSn() : 0,
          expCmdSn: this.#expCmdSn,
          maxCmdSn: this.maxCmdSn,
          dataSn,
          bufferOffset: offset,
          residualCount: withStatus ? residual.count : 0,
          data: offset === 0 && length === data.length ? data : data.subarray(offset, offset + length),
        },
        // The pooled buffer and the budget go back after the last PDU, which the socket sends last.
        last ? pooled : null,
        last ? charged : 0,
      );
      dataSn++;
      offset += length;
    }
    return dataSn;
  }

  #onNopOut(pdu: NopOut, rawHeader: Buffer): void {
    if (pdu.initiatorTaskTag === RESERVED_TAG) {
      // The answer to our ping, or an initiator's one-way ping: no reply (RFC 7143 11.18).
      return;
    }
    if (!this.#admit(pdu.immediate, pdu.cmdSn)) return;
    if (pdu.targetTransferTag !== RESERVED_TAG) {
      this.#finishPending(pdu.immediate);
      return this.reject(RejectReason.ProtocolError, rawHeader);
    }
    this.#finishPending(pdu.immediate);
    this.opts.sink.send({
      kind: 'nop-in',
      lun: pdu.lun,
      initiatorTaskTag: pdu.initiatorTaskTag,
      targetTransferTag: RESERVED_TAG,
      data: Buffer.from(pdu.data),
      ...this.#status(),
    });
  }

  #onText(pdu: TextRequest, rawHeader: Buffer): void {
    if (!this.#admit(pdu.immediate, pdu.cmdSn)) return;
    this.#finishPending(pdu.immediate);
    let body: Buffer;
    if (pdu.targetTransferTag !== RESERVED_TAG) {
      // The initiator asks for the rest of a long answer (RFC 7143 section 11.10.4).
      if (this.#textContinuation === null || this.#textContinuation.tag !== pdu.targetTransferTag) {
        return this.reject(RejectReason.InvalidPduField, rawHeader);
      }
      body = this.#textContinuation.rest;
    } else {
      let pairs: Array<[string, string]>;
      try {
        pairs = decodeTextKeys(pdu.data);
      } catch {
        return this.reject(RejectReason.ProtocolError, rawHeader);
      }
      const answer: Array<[string, string]> = [];
      for (const [key, value] of pairs) {
        if (key === 'SendTargets') {
          const target = this.info.targetName;
          answer.push(...answerSendTargets(value, this.info.type, target, this.info.initiatorName, this.opts.targets.list(), this.opts.portals()));
        } else {
          answer.push([key, 'NotUnderstood']);
        }
      }
      body = encodeTextKeys(answer);
    }
    const max = this.info.params.maxRecvDataSegmentLengthInitiator;
    const more = body.length > max;
    const tag = more ? this.#allocateTag() : RESERVED_TAG;
    this.#textContinuation = more ? { tag, rest: body.subarray(max) } : null;
    this.opts.sink.send({
      kind: 'text-response',
      final: !more,
      continue: more,
      lun: 0n,
      initiatorTaskTag: pdu.initiatorTaskTag,
      targetTransferTag: tag,
      data: more ? body.subarray(0, max) : body,
      ...this.#status(),
    });
  }

  #onTaskManagement(pdu: TaskManagementRequest, _rawHeader: Buffer): void {
    if (!this.#admit(pdu.immediate, pdu.cmdSn)) return;
    this.#finishPending(pdu.immediate);
    const lun = decodeLun(pdu.lun);
    const device = this.opts.device;
    let response: number = TaskResponse.FunctionComplete;
    switch (pdu.function) {
      case TaskFunction.AbortTask: {
        const task = this.#tasks.get(pdu.referencedTaskTag);
        // A task not found is reported complete: it may have finished already (RFC 7143 11.5.1).
        if (task !== undefined) this.#abortTask(task);
        break;
      }
      case TaskFunction.AbortTaskSet:
      case TaskFunction.ClearTaskSet:
        for (const task of [...this.#tasks.values()]) if (task.lun === lun) this.#abortTask(task);
        break;
      case TaskFunction.LogicalUnitReset:
        if (lun === null || device === null || !device.hasLun(lun)) {
          response = TaskResponse.LunDoesNotExist;
          break;
        }
        for (const task of [...this.#tasks.values()]) if (task.lun === lun) this.#abortTask(task);
        device.reset(lun);
        break;
      case TaskFunction.TargetWarmReset:
      case TaskFunction.TargetColdReset:
        for (const task of [...this.#tasks.values()]) this.#abortTask(task);
        device?.reset(null);
        break;
      case TaskFunction.TaskReassign:
        response = TaskResponse.TaskReassignmentNotSupported;
        break;
      default:
        response = TaskResponse.FunctionNotSupported;
    }
    this.opts.sink.send({ kind: 'task-management-response', response, initiatorTaskTag: pdu.initiatorTaskTag, ...this.#status() });
    if (pdu.function === TaskFunction.TargetColdReset) return this.opts.sink.finish('target cold reset');
    // An aborted command that waited for Data-In budget may have held up smaller ones behind it
    // that fit now (first come, first served): with nothing outstanding, no release would start them.
    if (this.#budget.waitingCount > 0) this.#startWaiting();
  }

  #abortTask(task: Task): void {
    task.aborted = true;
    this.#tasks.delete(task.command.initiatorTaskTag);
    this.#finishPending(task.command.immediate);
    // Still waiting for Data-In budget: it never runs and never answers (an aborted task gets no
    // response, RFC 7143 section 11.5.1). A running one keeps its budget until the device is done.
    if (task.waiting) this.#dropWaiting(task);
  }

  #onLogout(pdu: LogoutRequest, _rawHeader: Buffer): void {
    if (!this.#admit(pdu.immediate, pdu.cmdSn)) return;
    this.#finishPending(pdu.immediate);
    let response: number = LogoutResponseCode.Closed;
    if (pdu.reasonCode === LogoutReason.CloseConnection && pdu.cid !== this.info.cid) response = LogoutResponseCode.CidNotFound;
    if (pdu.reasonCode === LogoutReason.RemoveConnectionForRecovery) response = LogoutResponseCode.RecoveryNotSupported;
    this.opts.sink.send({
      kind: 'logout-response',
      response,
      initiatorTaskTag: pdu.initiatorTaskTag,
      time2Wait: this.info.params.defaultTime2Wait,
      time2Retain: this.info.params.defaultTime2Retain,
      ...this.#status(),
    });
    if (response === LogoutResponseCode.Closed) {
      this.#loggedOut = true;
      this.close();
      this.opts.sink.finish('logout');
    }
  }
}
