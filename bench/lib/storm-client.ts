// The boot-storm client (bench/boot-storm.ts runs it as a child process, so that it never shares
// an event loop or a core's time slice accounting with a diskless server): N iSCSI sessions at
// once, each doing what a booting operating system does to its disk in its first seconds:
// log in (CHAP when given credentials), READ CAPACITY, read the start of the disk in
// `readRequestBytes` commands with `queueDepth` in flight, write `writeBytes` spread over the
// rest of the disk, SYNCHRONIZE CACHE, log out. Every command's latency is recorded, from the
// moment its PDU is handed to the socket to its status.
//
// Built on the project's own codecs (framer, PDU encoders and decoders, CHAP), as
// test/helpers/initiator.ts is; unlike that one, it keeps several commands in flight, answers
// R2Ts, sends immediate and unsolicited data as negotiated, and respects the CmdSN window.
// It offers open-iscsi's defaults (iscsid.conf: InitialR2T=No, ImmediateData=Yes, 256 KiB
// bursts and segments), so each target gets the flow a Linux initiator would give it.
//
// Usage: node --import tsx bench/lib/storm-client.ts PLAN.json
// Prints one line, `STORM-RESULT {json}` (a StormResult), and exits 0; or exits 1 with the error.
import { randomBytes, randomFillSync } from 'node:crypto';
import { closeSync, openSync, readFileSync, readSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';
import { chapResponse, decodeChapBinary, encodeChapBinary } from '../../src/iscsi/chap.ts';
import { PduFramer } from '../../src/iscsi/framer.ts';
import { encodeInitiatorHeader, encodeInitiatorPdu } from '../../src/iscsi/pdu/initiator-encode.ts';
import { decodeTargetPdu } from '../../src/iscsi/pdu/target-decode.ts';
import { BHS_LENGTH, Opcode, RESERVED_TAG, Stage, type DataOut, type InitiatorPdu, type LoginResponse, type ScsiCommand, type TargetPdu } from '../../src/iscsi/pdu/types.ts';
import { decodeTextKeys, encodeTextKeys } from '../../src/iscsi/text-keys.ts';
import { serialLt, serialLte } from '../../src/lib/serial-number.ts';
import { encodeLun } from '../../src/scsi/lun.ts';

export interface StormSessionPlan {
  readonly target: string;
  readonly lun: number;
  readonly initiatorIqn: string;
  readonly chap?: { readonly user: string; readonly secret: string } | undefined;
}

export interface StormPlan {
  readonly host: string;
  readonly port: number;
  readonly sessions: readonly StormSessionPlan[];
  /** Read from offset 0, sequentially, in requests of readRequestBytes. */
  readonly readBytes: number;
  readonly readRequestBytes: number;
  /** Written in requests of writeRequestBytes spread evenly over [writeRegionStart, disk end). */
  readonly writeBytes: number;
  readonly writeRequestBytes: number;
  readonly writeRegionStart: number;
  readonly queueDepth: number;
  /** The file every disk starts as: a few reads of each session are compared with it. */
  readonly verifyFile?: string | undefined;
}

export interface LatencySummary {
  readonly count: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly maxMs: number;
}

export interface StormResult {
  /** From the first connect to the last logout. */
  readonly wallSeconds: number;
  /** When the last session finished its reads (the "OS is loaded" point of the storm). */
  readonly readsDoneSeconds: number;
  readonly bytesRead: number;
  readonly bytesWritten: number;
  readonly login: LatencySummary;
  readonly read: LatencySummary;
  readonly write: LatencySummary;
  readonly sync: LatencySummary;
  /** Reads compared with verifyFile (all equal, or the client fails). */
  readonly verifiedReads: number;
  readonly clientCpuSeconds: number;
  /** What the first session's login settled for writes. */
  readonly flow: FlowParams;
}

const COMMAND_TIMEOUT_MS = 120_000;
/** What we declare we can receive in one PDU (open-iscsi's default). */
const OUR_MAX_RECV_SEGMENT = 262_144;
const SCSI_GOOD = 0;
const SCSI_CHECK_CONDITION = 2;
const SENSE_UNIT_ATTENTION = 6;

/** Nearest-rank percentile of already sorted values. */
function percentile(sorted: Float64Array, p: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(p * sorted.length) - 1))] ?? 0;
}

function summarize(values: readonly number[]): LatencySummary {
  const sorted = Float64Array.from(values).sort();
  return { count: sorted.length, p50Ms: percentile(sorted, 0.5), p99Ms: percentile(sorted, 0.99), maxMs: sorted.length === 0 ? 0 : (sorted[sorted.length - 1] ?? 0) };
}

function cdb10(opcode: number, lba: number, blocks: number): Buffer {
  const cdb = Buffer.alloc(16);
  cdb[0] = opcode;
  cdb.writeUInt32BE(lba, 2);
  cdb.writeUInt16BE(blocks, 7);
  return cdb;
}

const READ_10 = 0x28;
const WRITE_10 = 0x2a;
const READ_CAPACITY_10 = 0x25;
const SYNCHRONIZE_CACHE_10 = 0x35;

/** What the login settled that the data flow depends on (RFC 7143 sections 13.10-13.14). */
export interface FlowParams {
  readonly initialR2T: boolean;
  readonly immediateData: boolean;
  readonly firstBurstLength: number;
  /** The target's MaxRecvDataSegmentLength: the largest data segment we may send it. */
  readonly targetMaxRecvSegment: number;
}

interface Task {
  readonly itt: number;
  readonly lun: bigint;
  readonly writeData: Buffer | null;
  /** Data-In lands here when the caller keeps the data (READ CAPACITY, verified reads). */
  readonly capture: Buffer | null;
  /** Data-In bytes so far: a read must get all it asked for. */
  received: number;
  readonly done: (err: Error | null, status: number, sense: Buffer) => void;
}

/** A command waiting for the CmdSN window to open (RFC 7143 section 4.2.2.1). */
type Pending = () => void;

class StormSession {
  readonly #framer = new PduFramer({ headerDigest: false, dataDigest: false, maxDataSegmentLength: 16 * 1024 * 1024 });
  readonly #tasks = new Map<number, Task>();
  readonly #pending: Pending[] = [];
  /** Data-In we do not keep is received here, reused for every PDU (it is never retained). */
  readonly #scratch = Buffer.allocUnsafe(OUR_MAX_RECV_SEGMENT);
  readonly #isid = Buffer.concat([Buffer.from([0x80]), randomBytes(5)]);
  #itt = 0;
  #cmdSn = 1;
  #expStatSn = 0;
  #maxCmdSn = 1;
  #loginWaiter: ((pdu: LoginResponse) => void) | null = null;
  #logoutWaiter: (() => void) | null = null;
  #failure: Error | null = null;
  #flow: FlowParams = { initialR2T: true, immediateData: false, firstBurstLength: 65536, targetMaxRecvSegment: 8192 };

  get flow(): FlowParams {
    return this.#flow;
  }

  private constructor(private readonly socket: Socket) {
    this.#framer.placeData = (header, _ahs, length) => this.#place(header, length);
    socket.on('data', (chunk: Buffer) => {
      try {
        this.#framer.push(chunk, (frame) => this.#receive(decodeTargetPdu(frame.header, frame.ahs, frame.data)));
      } catch (err) {
        this.#fail(err instanceof Error ? err : new Error(String(err)));
      }
    });
    socket.on('close', () => this.#fail(new Error('the target closed the connection')));
    socket.on('error', (err) => this.#fail(err));
  }

  static open(host: string, port: number): Promise<StormSession> {
    return new Promise((resolve, reject) => {
      const socket = connect({ host, port });
      socket.once('connect', () => {
        socket.setNoDelay(true);
        resolve(new StormSession(socket));
      });
      socket.once('error', reject);
    });
  }

  /** Data-In data goes straight where it is wanted: the task's capture buffer, or the scratch. */
  #place(header: Buffer, length: number): Buffer | null {
    if ((header[0] ?? 0) !== Opcode.DataIn || length > this.#scratch.length) return null;
    const task = this.#tasks.get(header.readUInt32BE(16));
    const offset = header.readUInt32BE(40);
    if (task?.capture != null && offset + length <= task.capture.length) return task.capture.subarray(offset, offset + length);
    return this.#scratch.subarray(0, length);
  }

  #fail(err: Error): void {
    if (this.#failure !== null) return;
    this.#failure = err;
    const tasks = [...this.#tasks.values()];
    this.#tasks.clear();
    for (const task of tasks) task.done(err, -1, Buffer.alloc(0));
    for (const run of this.#pending.splice(0)) run();
    this.socket.destroy();
  }

  #send(pdu: InitiatorPdu): void {
    this.socket.write(encodeInitiatorPdu(pdu));
  }

  /** Header and data as two writes: the data is sent from the caller's buffer, not copied. */
  #sendWithData(pdu: ScsiCommand | DataOut): void {
    const header = Buffer.allocUnsafe(BHS_LENGTH);
    encodeInitiatorHeader(pdu, header);
    this.socket.cork();
    this.socket.write(header);
    if (pdu.data.length > 0) this.socket.write(pdu.data);
    const pad = (4 - (pdu.data.length % 4)) % 4;
    if (pad > 0) this.socket.write(Buffer.alloc(pad));
    this.socket.uncork();
  }

  #receive(pdu: TargetPdu): void {
    if ('statSn' in pdu && (pdu.kind !== 'data-in' || pdu.hasStatus)) this.#expStatSn = (pdu.statSn + 1) >>> 0;
    if ('maxCmdSn' in pdu && pdu.kind !== 'login-response' && serialLt(this.#maxCmdSn, pdu.maxCmdSn)) {
      this.#maxCmdSn = pdu.maxCmdSn;
      this.#drainPending();
    }
    switch (pdu.kind) {
      case 'login-response': {
        const waiter = this.#loginWaiter;
        this.#loginWaiter = null;
        waiter?.(pdu);
        return;
      }
      case 'nop-in':
        // A ping from the target: answer it, with its TTT echoed and no task tag (RFC 7143 11.18).
        if (pdu.targetTransferTag !== RESERVED_TAG) {
          this.#send({ kind: 'nop-out', immediate: true, lun: 0n, initiatorTaskTag: RESERVED_TAG, targetTransferTag: pdu.targetTransferTag, cmdSn: this.#cmdSn, expStatSn: this.#expStatSn, data: Buffer.alloc(0) });
        }
        return;
      case 'data-in': {
        const task = this.#tasks.get(pdu.initiatorTaskTag);
        if (task === undefined) return this.#fail(new Error(`Data-In for unknown task ${pdu.initiatorTaskTag}`));
        task.received += pdu.data.length;
        if (pdu.hasStatus) this.#finish(task, pdu.status, Buffer.alloc(0));
        return;
      }
      case 'r2t': {
        const task = this.#tasks.get(pdu.initiatorTaskTag);
        if (task?.writeData == null) return this.#fail(new Error(`R2T for unknown write task ${pdu.initiatorTaskTag}`));
        this.#sendData(task, pdu.bufferOffset, pdu.bufferOffset + pdu.desiredDataTransferLength, pdu.targetTransferTag);
        return;
      }
      case 'scsi-response': {
        const task = this.#tasks.get(pdu.initiatorTaskTag);
        if (task === undefined) return this.#fail(new Error(`SCSI Response for unknown task ${pdu.initiatorTaskTag}`));
        // The data segment is SenseLength (2 bytes) and the sense data (RFC 7143 section 11.4.7).
        this.#finish(task, pdu.status, pdu.data.length > 2 ? Buffer.from(pdu.data.subarray(2)) : Buffer.alloc(0));
        return;
      }
      case 'logout-response': {
        const waiter = this.#logoutWaiter;
        this.#logoutWaiter = null;
        waiter?.();
        return;
      }
      case 'reject':
        return this.#fail(new Error(`the target rejected a PDU (reason 0x${pdu.reason.toString(16)})`));
      case 'async-message':
      case 'text-response':
      case 'task-management-response':
        return;
      default: {
        const never: never = pdu;
        return never;
      }
    }
  }

  #finish(task: Task, status: number, sense: Buffer): void {
    this.#tasks.delete(task.itt);
    task.done(null, status, sense);
  }

  /** Data-Out PDUs for [from, to) of a write, no larger than the target accepts. */
  #sendData(task: Task, from: number, to: number, targetTransferTag: number): void {
    const data = task.writeData;
    if (data === null) return;
    const segment = this.#flow.targetMaxRecvSegment;
    let dataSn = 0;
    for (let offset = from; offset < to; offset += segment) {
      const end = Math.min(to, offset + segment);
      this.#sendWithData({ kind: 'data-out', final: end === to, lun: task.lun, initiatorTaskTag: task.itt, targetTransferTag, expStatSn: this.#expStatSn, dataSn: dataSn++, bufferOffset: offset, data: data.subarray(offset, end) });
    }
  }

  #drainPending(): void {
    while (this.#pending.length > 0 && serialLte(this.#cmdSn, this.#maxCmdSn)) this.#pending.shift()?.();
  }

  /**
   * One SCSI command; resolves with its latency in ms (from the moment it was sent, not from
   * when it waited for the CmdSN window) once its status is GOOD.
   */
  command(lun: number, cdb: Buffer, options: { readLength?: number; writeData?: Buffer; capture?: Buffer }): Promise<number> {
    return new Promise((resolve, reject) => {
      let attempts = 0;
      const issue = (): void => {
        attempts++;
        if (this.#failure !== null) return reject(this.#failure);
        const itt = this.#itt++ & 0x7fffffff;
        const writeData = options.writeData ?? null;
        const length = writeData?.length ?? options.readLength ?? 0;
        const started = performance.now();
        const timer = setTimeout(() => this.#fail(new Error(`command ${itt} (opcode 0x${(cdb[0] ?? 0).toString(16)}) got no status within ${COMMAND_TIMEOUT_MS} ms`)), COMMAND_TIMEOUT_MS);
        const task: Task = {
          itt,
          lun: encodeLun(lun),
          writeData,
          capture: options.capture ?? null,
          received: 0,
          done: (err, status, sense) => {
            clearTimeout(timer);
            if (err !== null) return reject(err);
            if (status === SCSI_GOOD && task.received !== (options.readLength ?? 0)) return reject(new Error(`command ${itt} (opcode 0x${(cdb[0] ?? 0).toString(16)}) got ${task.received} of ${options.readLength ?? 0} bytes`));
            if (status === SCSI_GOOD) return resolve(performance.now() - started);
            // A UNIT ATTENTION (tgtd reports its power-on reset to the first command of a
            // session) is retried, as every initiator's SCSI layer does.
            const key = sense[0] === 0x72 || sense[0] === 0x73 ? (sense[1] ?? 0) & 0x0f : (sense[2] ?? 0) & 0x0f;
            if (status === SCSI_CHECK_CONDITION && key === SENSE_UNIT_ATTENTION && attempts < 4) return this.#enqueue(issue);
            reject(new Error(`command ${itt} (opcode 0x${(cdb[0] ?? 0).toString(16)}) ended with SCSI status 0x${status.toString(16)}, sense ${sense.subarray(0, 18).toString('hex')}`));
          },
        };
        this.#tasks.set(itt, task);
        const cmdSn = this.#cmdSn;
        this.#cmdSn = (cmdSn + 1) >>> 0;
        // Immediate data, then unsolicited Data-Out up to FirstBurstLength (RFC 7143 section
        // 3.2.4.2), then whatever the target asks for with R2Ts.
        const flow = this.#flow;
        const unsolicited = writeData === null ? 0 : Math.min(writeData.length, flow.immediateData || !flow.initialR2T ? flow.firstBurstLength : 0);
        const immediate = writeData === null || !flow.immediateData ? 0 : Math.min(unsolicited, flow.targetMaxRecvSegment);
        this.#sendWithData({
          kind: 'scsi-command',
          immediate: false,
          final: writeData === null || flow.initialR2T || immediate === unsolicited,
          read: options.readLength !== undefined && options.readLength > 0,
          write: writeData !== null,
          taskAttribute: 1,
          lun: task.lun,
          initiatorTaskTag: itt,
          expectedDataTransferLength: length,
          cmdSn,
          expStatSn: this.#expStatSn,
          cdb,
          ahs: Buffer.alloc(0),
          data: writeData === null ? Buffer.alloc(0) : writeData.subarray(0, immediate),
        });
        if (writeData !== null && !flow.initialR2T && unsolicited > immediate) this.#sendData(task, immediate, unsolicited, RESERVED_TAG);
      };
      this.#enqueue(issue);
    });
  }

  /** Sends now if the CmdSN window is open, else once it opens. */
  #enqueue(issue: Pending): void {
    // After a failure, issue() rejects at once.
    if (this.#failure !== null || (serialLte(this.#cmdSn, this.#maxCmdSn) && this.#pending.length === 0)) issue();
    else this.#pending.push(issue);
  }

  async #loginRound(csg: number, nsg: number, transit: boolean, keys: ReadonlyArray<readonly [string, string]>): Promise<{ response: LoginResponse; keys: Map<string, string> }> {
    if (this.#failure !== null) throw this.#failure;
    const answer = new Promise<LoginResponse>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('no login response within 30 s')), 30_000);
      this.#loginWaiter = (pdu) => {
        clearTimeout(timer);
        resolve(pdu);
      };
      this.socket.once('close', () => reject(this.#failure ?? new Error('the target closed the connection during login')));
    });
    this.#send({ kind: 'login-request', transit, continue: false, csg, nsg, versionMax: 0, versionMin: 0, isid: this.#isid, tsih: 0, initiatorTaskTag: 0, cid: 0, cmdSn: this.#cmdSn, expStatSn: this.#expStatSn, data: encodeTextKeys(keys) });
    const response = await answer;
    if (response.statusClass !== 0) throw new Error(`login refused: status class ${response.statusClass}, detail ${response.statusDetail}`);
    this.#cmdSn = response.expCmdSn;
    this.#maxCmdSn = response.maxCmdSn;
    return { response, keys: new Map(decodeTextKeys(response.data)) };
  }

  /** Security stage (CHAP when given credentials), operational stage, full feature phase. */
  async login(plan: StormSessionPlan): Promise<void> {
    const security: Array<[string, string]> = [
      ['InitiatorName', plan.initiatorIqn],
      ['SessionType', 'Normal'],
      ['TargetName', plan.target],
      ['AuthMethod', plan.chap !== undefined ? 'CHAP,None' : 'None'],
    ];
    let step = await this.#loginRound(Stage.Security, Stage.Operational, true, security);
    if (!step.response.transit && step.keys.get('AuthMethod') === 'CHAP') {
      if (plan.chap === undefined) throw new Error(`${plan.target} asks for CHAP and the plan has no credentials`);
      const offer = await this.#loginRound(Stage.Security, Stage.Operational, false, [['CHAP_A', '5']]);
      const id = Number(offer.keys.get('CHAP_I'));
      const challenge = decodeChapBinary(offer.keys.get('CHAP_C') ?? '');
      if (!Number.isInteger(id) || challenge === null) throw new Error(`${plan.target} sent no usable CHAP challenge`);
      step = await this.#loginRound(Stage.Security, Stage.Operational, true, [
        ['CHAP_N', plan.chap.user],
        ['CHAP_R', encodeChapBinary(chapResponse(id, plan.chap.secret, challenge))],
      ]);
    }
    if (!step.response.transit) throw new Error(`${plan.target} did not leave the security stage`);
    const negotiated = new Map(step.keys);
    if (step.response.nsg !== Stage.FullFeature) {
      // open-iscsi's defaults (iscsid.conf), so both targets are driven as Linux would drive them.
      let keys: ReadonlyArray<readonly [string, string]> = [
        ['HeaderDigest', 'None'],
        ['DataDigest', 'None'],
        ['InitialR2T', 'No'],
        ['ImmediateData', 'Yes'],
        ['MaxRecvDataSegmentLength', String(OUR_MAX_RECV_SEGMENT)],
        ['MaxBurstLength', '16776192'],
        ['FirstBurstLength', '262144'],
        ['DefaultTime2Wait', '2'],
        ['DefaultTime2Retain', '0'],
        ['MaxOutstandingR2T', '1'],
        ['DataPDUInOrder', 'Yes'],
        ['DataSequenceInOrder', 'Yes'],
        ['ErrorRecoveryLevel', '0'],
      ];
      for (let round = 0; ; round++) {
        if (round === 8) throw new Error(`${plan.target} never completed the operational stage`);
        const answer = await this.#loginRound(Stage.Operational, Stage.FullFeature, true, keys);
        for (const [k, v] of answer.keys) negotiated.set(k, v);
        if (answer.response.transit && answer.response.nsg === Stage.FullFeature) break;
        keys = [];
      }
    }
    const number = (key: string, fallback: number): number => {
      const value = Number(negotiated.get(key));
      return Number.isInteger(value) && value > 0 ? value : fallback;
    };
    const bool = (key: string, ours: boolean, rule: 'and' | 'or'): boolean => {
      const value = negotiated.get(key);
      if (value !== 'Yes' && value !== 'No') return ours;
      return rule === 'and' ? ours && value === 'Yes' : ours || value === 'Yes';
    };
    this.#flow = {
      // InitialR2T is OR-ed, ImmediateData AND-ed; a key the target did not answer keeps our
      // offer only if it is the RFC default, else the RFC default applies (Yes for both).
      initialR2T: negotiated.has('InitialR2T') ? bool('InitialR2T', false, 'or') : true,
      immediateData: negotiated.has('ImmediateData') ? bool('ImmediateData', true, 'and') : true,
      firstBurstLength: Math.min(number('FirstBurstLength', 65536), number('MaxBurstLength', 262144)),
      targetMaxRecvSegment: number('MaxRecvDataSegmentLength', 8192),
    };
  }

  async logout(): Promise<void> {
    if (this.#failure !== null) throw this.#failure;
    const answer = new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('no logout response within 30 s')), 30_000);
      this.#logoutWaiter = () => {
        clearTimeout(timer);
        resolve();
      };
    });
    this.#send({ kind: 'logout-request', immediate: true, reasonCode: 0, initiatorTaskTag: this.#itt++ & 0x7fffffff, cid: 0, cmdSn: this.#cmdSn, expStatSn: this.#expStatSn });
    await answer;
    this.#failure = new Error('logged out');
    this.socket.end();
  }

  destroy(): void {
    this.socket.destroy();
  }
}

/** Runs `count` operations with at most `depth` in flight (a booting OS's queue). */
async function queued(count: number, depth: number, op: (index: number) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < count) await op(next++);
  };
  await Promise.all(Array.from({ length: Math.min(depth, count) }, worker));
}

/** Where write `index` of `count` goes: spread evenly, 4 KiB-aligned, most not cluster-aligned. */
export function writeOffset(plan: StormPlan, diskBytes: number, index: number, count: number): number {
  const span = diskBytes - plan.writeRegionStart - plan.writeRequestBytes - 3 * 4096;
  const stride = Math.floor(span / count / 65536) * 65536;
  // The + (index % 4) × 4 KiB: a filesystem's 4 KiB blocks do not start on 16 KiB overlay
  // clusters, so three writes in four copy part of a cluster from the image (copy-on-write).
  return plan.writeRegionStart + index * stride + (index % 4) * 4096;
}

interface MachineResult {
  readonly login: number;
  readonly reads: number[];
  readonly writes: number[];
  readonly sync: number;
  readonly readsDone: number;
  readonly verifiedReads: number;
  readonly bytesRead: number;
  readonly bytesWritten: number;
  readonly flow: FlowParams;
}

async function bootOneMachine(plan: StormPlan, machine: StormSessionPlan, index: number, t0: number, verifyFd: number | null): Promise<MachineResult> {
  const session = await StormSession.open(plan.host, plan.port);
  try {
    await session.login(machine);
    const login = performance.now() - t0;
    const capacity = Buffer.alloc(8);
    await session.command(machine.lun, cdb10(READ_CAPACITY_10, 0, 0), { readLength: 8, capture: capacity });
    const blockBytes = capacity.readUInt32BE(4);
    const diskBytes = (capacity.readUInt32BE(0) + 1) * blockBytes;
    if (blockBytes === 0 || diskBytes < plan.readBytes || diskBytes < plan.writeRegionStart + plan.writeBytes) throw new Error(`${machine.target} is ${diskBytes} bytes in ${blockBytes}-byte blocks: too small for the plan`);

    const readCount = Math.ceil(plan.readBytes / plan.readRequestBytes);
    // Three reads per machine are kept and compared with the image afterwards: the first, the
    // last and one that differs per machine.
    const checked = new Map<number, Buffer>([0, readCount - 1, (index * 7919) % readCount].map((i) => [i, Buffer.alloc(plan.readRequestBytes)]));
    const reads: number[] = [];
    let bytesRead = 0;
    await queued(readCount, plan.queueDepth, async (i) => {
      const offset = i * plan.readRequestBytes;
      const length = Math.min(plan.readRequestBytes, plan.readBytes - offset);
      const capture = checked.get(i);
      reads.push(await session.command(machine.lun, cdb10(READ_10, offset / blockBytes, length / blockBytes), { readLength: length, ...(capture !== undefined ? { capture } : {}) }));
      bytesRead += length;
    });
    const readsDone = performance.now() - t0;

    const writeCount = Math.ceil(plan.writeBytes / plan.writeRequestBytes);
    // Random bytes, so nothing along the way can shortcut zeros.
    const data = randomFillSync(Buffer.allocUnsafe(plan.writeRequestBytes));
    const writes: number[] = [];
    let bytesWritten = 0;
    await queued(writeCount, plan.queueDepth, async (i) => {
      const offset = writeOffset(plan, diskBytes, i, writeCount);
      writes.push(await session.command(machine.lun, cdb10(WRITE_10, offset / blockBytes, data.length / blockBytes), { writeData: data }));
      bytesWritten += data.length;
    });
    const sync = await session.command(machine.lun, cdb10(SYNCHRONIZE_CACHE_10, 0, 0), {});
    await session.logout();

    let verifiedReads = 0;
    if (verifyFd !== null) {
      const expected = Buffer.alloc(plan.readRequestBytes);
      for (const [i, got] of checked) {
        const n = readSync(verifyFd, expected, 0, expected.length, i * plan.readRequestBytes);
        if (!got.subarray(0, n).equals(expected.subarray(0, n))) throw new Error(`${machine.target}: read ${i} (offset ${i * plan.readRequestBytes}) differs from the image`);
        verifiedReads++;
      }
    }
    return { login, reads, writes, sync, readsDone, verifiedReads, bytesRead, bytesWritten, flow: session.flow };
  } finally {
    session.destroy();
  }
}

export async function runStorm(plan: StormPlan): Promise<StormResult> {
  const verifyFd = plan.verifyFile !== undefined ? openSync(plan.verifyFile, 'r') : null;
  const cpuBefore = process.cpuUsage();
  const t0 = performance.now();
  try {
    const machines = await Promise.all(plan.sessions.map((m, i) => bootOneMachine(plan, m, i, t0, verifyFd)));
    const wallMs = performance.now() - t0;
    const cpu = process.cpuUsage(cpuBefore);
    return {
      wallSeconds: wallMs / 1000,
      readsDoneSeconds: Math.max(...machines.map((m) => m.readsDone)) / 1000,
      bytesRead: machines.reduce((s, m) => s + m.bytesRead, 0),
      bytesWritten: machines.reduce((s, m) => s + m.bytesWritten, 0),
      login: summarize(machines.map((m) => m.login)),
      read: summarize(machines.flatMap((m) => m.reads)),
      write: summarize(machines.flatMap((m) => m.writes)),
      sync: summarize(machines.map((m) => m.sync)),
      verifiedReads: machines.reduce((s, m) => s + m.verifiedReads, 0),
      clientCpuSeconds: (cpu.user + cpu.system) / 1e6,
      flow: machines[0]?.flow ?? { initialR2T: true, immediateData: true, firstBurstLength: 0, targetMaxRecvSegment: 0 },
    };
  } finally {
    if (verifyFd !== null) closeSync(verifyFd);
  }
}

async function main(): Promise<void> {
  const planPath = process.argv[2];
  if (planPath === undefined) throw new Error('usage: storm-client.ts PLAN.json');
  const plan = JSON.parse(readFileSync(planPath, 'utf8')) as StormPlan;
  const result = await runStorm(plan);
  process.stdout.write(`STORM-RESULT ${JSON.stringify(result)}\n`);
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().then(
    () => process.exit(0),
    (err: unknown) => {
      process.stderr.write(`storm client failed: ${err instanceof Error ? err.message : String(err)}\n`);
      process.exit(1);
    },
  );
}
