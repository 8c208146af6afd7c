// A pipelining iSCSI client over RawInitiator, for the reliability tests (durability, faults,
// load): many commands in flight, routed by ITT; writes with immediate data and Data-Out on
// R2T; CHAP and mutual CHAP logins built PDU by PDU so tests can also do them wrong.
import { randomBytes } from 'node:crypto';
import { RawInitiator, TEST_INITIATOR } from './initiator.ts';
import { chapResponse, decodeChapBinary, encodeChapBinary } from '../../src/iscsi/chap.ts';
import type { LoginResponse, TargetPdu } from '../../src/iscsi/pdu/types.ts';
import { RESERVED_TAG } from '../../src/iscsi/pdu/types.ts';
import { encodeTextKeys } from '../../src/iscsi/text-keys.ts';

export const BLOCK = 512;

export interface ChapSecret {
  readonly user: string;
  readonly secret: string;
}

export interface LoginOptions {
  readonly target: string;
  readonly initiatorName?: string;
  readonly isid?: Buffer;
  readonly chap?: ChapSecret;
  /** Ask the target to authenticate itself; the client checks its answer with this secret. */
  readonly mutual?: ChapSecret;
  readonly host?: string;
  /** Operational keys, replacing the defaults of the same name (InitialR2T=Yes, ...). */
  readonly keys?: ReadonlyArray<[string, string]>;
}

export interface ScsiResult {
  readonly status: number;
  /** Fixed-format sense data (without the 2-byte SenseLength), empty when none. */
  readonly sense: Buffer;
  readonly data: Buffer;
}

/** Sense key, ASC, ASCQ of fixed-format sense data. */
export function senseOf(result: ScsiResult): { key: number; asc: number; ascq: number } | null {
  if (result.sense.length < 14) return null;
  return { key: (result.sense[2] ?? 0) & 0x0f, asc: result.sense[12] ?? 0, ascq: result.sense[13] ?? 0 };
}

export class LoginFailed extends Error {
  constructor(
    readonly statusClass: number,
    readonly statusDetail: number,
    message: string,
  ) {
    super(message);
  }
}

/** One Login Request, and the target's answer (throws if none comes). */
export async function loginStep(
  raw: RawInitiator,
  step: { csg: number; nsg: number; transit: boolean; keys: ReadonlyArray<readonly [string, string]>; isid: Buffer; itt?: number },
): Promise<LoginResponse> {
  raw.send({
    kind: 'login-request', transit: step.transit, continue: false, csg: step.csg, nsg: step.nsg, versionMax: 0, versionMin: 0,
    isid: step.isid, tsih: 0, initiatorTaskTag: step.itt ?? 1, cid: 0, cmdSn: raw.cmdSn, expStatSn: raw.expStatSn,
    data: encodeTextKeys(step.keys.map(([k, v]) => [k, v])),
  });
  const response = await raw.next(5000);
  if (response === null || response.kind !== 'login-response') throw new Error(`expected a login response, got ${response?.kind ?? 'nothing'}`);
  return response;
}

const OPERATIONAL: ReadonlyArray<[string, string]> = [
  ['HeaderDigest', 'None'],
  ['DataDigest', 'None'],
  ['ImmediateData', 'Yes'],
  ['InitialR2T', 'No'],
  ['FirstBurstLength', '262144'],
  ['MaxBurstLength', '1048576'],
  ['MaxRecvDataSegmentLength', '262144'],
];

/**
 * Logs `raw` in: security stage (CHAP when given, AuthMethod=None otherwise), then operational
 * into full feature. Throws LoginFailed with the status of the first non-success answer.
 */
export async function login(raw: RawInitiator, options: LoginOptions): Promise<Map<string, string>> {
  const isid = options.isid ?? Buffer.from([0x80, 0, 0, 0, 0, 1]);
  const first: Array<[string, string]> = [
    ['InitiatorName', options.initiatorName ?? TEST_INITIATOR],
    ['TargetName', options.target],
    ['SessionType', 'Normal'],
  ];
  const check = (r: LoginResponse, what: string): Map<string, string> => {
    if (r.statusClass !== 0) throw new LoginFailed(r.statusClass, r.statusDetail, `${what}: login status ${r.statusClass}/${r.statusDetail}`);
    return raw.keysOf(r);
  };
  const agreed = new Map<string, string>();
  if (options.chap === undefined) {
    const r = await loginStep(raw, { csg: 0, nsg: 1, transit: true, keys: [...first, ['AuthMethod', 'None']], isid });
    check(r, 'AuthMethod=None');
  } else {
    const chap = options.chap;
    let r = await loginStep(raw, { csg: 0, nsg: 1, transit: false, keys: [...first, ['AuthMethod', 'CHAP,None']], isid });
    check(r, 'AuthMethod');
    r = await loginStep(raw, { csg: 0, nsg: 1, transit: false, keys: [['CHAP_A', '5']], isid });
    const challenge = check(r, 'CHAP_A');
    const id = Number(challenge.get('CHAP_I'));
    const c = decodeChapBinary(challenge.get('CHAP_C') ?? '');
    if (c === null) throw new Error('target sent no CHAP_C');
    const keys: Array<[string, string]> = [['CHAP_N', chap.user], ['CHAP_R', encodeChapBinary(chapResponse(id, chap.secret, c))]];
    const ourId = randomBytes(1)[0] ?? 7;
    const ourChallenge = randomBytes(16);
    if (options.mutual !== undefined) keys.push(['CHAP_I', String(ourId)], ['CHAP_C', encodeChapBinary(ourChallenge)]);
    r = await loginStep(raw, { csg: 0, nsg: 1, transit: true, keys, isid });
    const answer = check(r, 'CHAP_R');
    if (options.mutual !== undefined) {
      const their = decodeChapBinary(answer.get('CHAP_R') ?? '');
      const expected = chapResponse(ourId, options.mutual.secret, ourChallenge);
      if (answer.get('CHAP_N') !== options.mutual.user || their === null || !their.equals(expected)) {
        throw new LoginFailed(-1, -1, 'the target failed mutual CHAP (wrong CHAP_N or CHAP_R)');
      }
    }
  }
  // options.keys replace the defaults of the same name (a key sent twice is a protocol error).
  const extra = options.keys ?? [];
  const operational = [...OPERATIONAL.filter(([k]) => !extra.some(([e]) => e === k)), ...extra];
  const r = await loginStep(raw, { csg: 1, nsg: 3, transit: true, keys: operational, isid });
  for (const [k, v] of check(r, 'operational')) agreed.set(k, v);
  if (!r.transit || r.nsg !== 3) throw new Error('target did not enter full feature phase');
  return agreed;
}

interface Pending {
  readonly resolve: (r: ScsiResult) => void;
  readonly reject: (e: Error) => void;
  readonly dataOut: Buffer;
  readonly readBuffer: Buffer;
  readonly timer: NodeJS.Timeout;
}

/** A logged-in session with any number of commands in flight (below the target's window). */
export class IscsiClient {
  readonly #pending = new Map<number, Pending>();
  #itt = 0x100;
  #closedError: Error | null = null;
  #maxSegment = 8192;
  /** Milliseconds a command may take before it fails the test. */
  commandTimeoutMs = 30000;
  /** PDUs that belong to no SCSI command (Text, NOP-In with a tag, Async, Reject of others). */
  readonly unsolicited: TargetPdu[] = [];

  private constructor(readonly raw: RawInitiator) {
    raw.answerPings = true;
    void this.#pump();
  }

  static async connect(port: number, options: LoginOptions): Promise<IscsiClient> {
    const raw = await RawInitiator.connect(port, options.host ?? '127.0.0.1');
    try {
      const keys = await login(raw, options);
      const client = new IscsiClient(raw);
      // The target declared its MaxRecvDataSegmentLength: Data-Out segments stay within it.
      client.#maxSegment = Number(keys.get('MaxRecvDataSegmentLength') ?? 8192);
      return client;
    } catch (err) {
      raw.close();
      throw err;
    }
  }

  get closed(): boolean {
    return this.#closedError !== null;
  }

  /** The ITT of the command sent last (for matching traces). */
  get lastItt(): number {
    return this.#itt;
  }

  get inFlight(): number {
    return this.#pending.size;
  }

  async #pump(): Promise<void> {
    for (;;) {
      const pdu = await this.raw.next(60_000);
      if (pdu === null) {
        if (!this.raw.closed) continue;
        this.#fail(new Error('connection closed'));
        return;
      }
      this.#dispatch(pdu);
    }
  }

  #fail(err: Error): void {
    this.#closedError ??= err;
    for (const [itt, p] of this.#pending) {
      clearTimeout(p.timer);
      this.#pending.delete(itt);
      p.reject(err);
    }
  }

  #dispatch(pdu: TargetPdu): void {
    switch (pdu.kind) {
      case 'r2t': {
        const p = this.#pending.get(pdu.initiatorTaskTag);
        if (p === undefined) return;
        let dataSn = 0;
        const end = pdu.bufferOffset + pdu.desiredDataTransferLength;
        for (let offset = pdu.bufferOffset; offset < end; offset += this.#maxSegment) {
          const length = Math.min(this.#maxSegment, end - offset);
          this.raw.send({
            kind: 'data-out', final: offset + length >= end, lun: 0n, initiatorTaskTag: pdu.initiatorTaskTag, targetTransferTag: pdu.targetTransferTag,
            expStatSn: this.raw.expStatSn, dataSn: dataSn++, bufferOffset: offset, data: p.dataOut.subarray(offset, offset + length),
          });
        }
        return;
      }
      case 'data-in': {
        const p = this.#pending.get(pdu.initiatorTaskTag);
        if (p === undefined) return;
        pdu.data.copy(p.readBuffer, pdu.bufferOffset);
        if (pdu.hasStatus) this.#finish(pdu.initiatorTaskTag, { status: pdu.status, sense: Buffer.alloc(0), data: p.readBuffer });
        return;
      }
      case 'scsi-response': {
        const p = this.#pending.get(pdu.initiatorTaskTag);
        if (p === undefined) return;
        const senseLength = pdu.data.length >= 2 ? pdu.data.readUInt16BE(0) : 0;
        this.#finish(pdu.initiatorTaskTag, { status: pdu.status, sense: Buffer.from(pdu.data.subarray(2, 2 + senseLength)), data: p.readBuffer });
        return;
      }
      case 'reject': {
        const itt = pdu.data.length >= 20 ? pdu.data.readUInt32BE(16) : -1;
        const p = this.#pending.get(itt);
        if (p === undefined) return void this.unsolicited.push(pdu);
        clearTimeout(p.timer);
        this.#pending.delete(itt);
        p.reject(new Error(`Reject reason ${pdu.reason}`));
        return;
      }
      case 'nop-in':
      case 'text-response':
      case 'async-message':
      case 'login-response':
      case 'logout-response':
      case 'task-management-response':
        this.unsolicited.push(pdu);
        return;
    }
  }

  #finish(itt: number, result: ScsiResult): void {
    const p = this.#pending.get(itt);
    if (p === undefined) return;
    clearTimeout(p.timer);
    this.#pending.delete(itt);
    p.resolve(result);
  }

  /** Sends a CDB; `dataOut` goes as immediate data (up to the segment limit), the rest on R2T. */
  command(cdb: Buffer, options: { dataOut?: Buffer; readLength?: number } = {}): Promise<ScsiResult> {
    if (this.#closedError !== null) return Promise.reject(this.#closedError);
    const dataOut = options.dataOut ?? Buffer.alloc(0);
    const readLength = options.readLength ?? 0;
    const full = Buffer.alloc(16);
    cdb.copy(full);
    this.#itt = (this.#itt + 1) >>> 0;
    if (this.#itt === RESERVED_TAG) this.#itt = 0x100;
    const itt = this.#itt;
    return new Promise<ScsiResult>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#pending.delete(itt);
        reject(new Error(`command 0x${cdb[0]?.toString(16)} (ITT ${itt}) timed out`));
      }, this.commandTimeoutMs);
      this.#pending.set(itt, { resolve, reject, dataOut, readBuffer: Buffer.alloc(readLength), timer });
      this.raw.send({
        kind: 'scsi-command', immediate: false, final: true, read: readLength > 0, write: dataOut.length > 0, taskAttribute: 1, lun: 0n,
        initiatorTaskTag: itt, expectedDataTransferLength: dataOut.length > 0 ? dataOut.length : readLength, cmdSn: this.raw.cmdSn,
        expStatSn: this.raw.expStatSn, cdb: full, ahs: Buffer.alloc(0), data: dataOut.subarray(0, Math.min(dataOut.length, this.#maxSegment)),
      });
      this.raw.cmdSn = (this.raw.cmdSn + 1) >>> 0;
    });
  }

  /** WRITE(16) of whole blocks at `lba`, FUA when asked. */
  write(lba: number, data: Buffer, fua = false): Promise<ScsiResult> {
    const cdb = Buffer.alloc(16);
    cdb[0] = 0x8a;
    cdb[1] = fua ? 0x08 : 0;
    cdb.writeBigUInt64BE(BigInt(lba), 2);
    cdb.writeUInt32BE(data.length / BLOCK, 10);
    return this.command(cdb, { dataOut: data });
  }

  /** READ(16) of `blocks` blocks at `lba`. */
  read(lba: number, blocks: number): Promise<ScsiResult> {
    const cdb = Buffer.alloc(16);
    cdb[0] = 0x88;
    cdb.writeBigUInt64BE(BigInt(lba), 2);
    cdb.writeUInt32BE(blocks, 10);
    return this.command(cdb, { readLength: blocks * BLOCK });
  }

  /** SYNCHRONIZE CACHE(10) of the whole medium. */
  syncCache(): Promise<ScsiResult> {
    return this.command(Buffer.from([0x35, 0, 0, 0, 0, 0, 0, 0, 0, 0]));
  }

  /** READ CAPACITY(16): the number of blocks. */
  async capacityBlocks(): Promise<number> {
    const cdb = Buffer.from([0x9e, 0x10, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 32, 0, 0]);
    const r = await this.command(cdb, { readLength: 32 });
    if (r.status !== 0) throw new Error(`READ CAPACITY failed: status ${r.status}`);
    return Number(r.data.readBigUInt64BE(0)) + 1;
  }

  close(): void {
    this.raw.close();
    this.#fail(new Error('closed by the client'));
  }
}
