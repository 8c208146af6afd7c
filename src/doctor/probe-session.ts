// The doctor's iSCSI initiator: one session over a ProbeConnection, doing what iPXE does at boot
// (login with the machine's initiator IQN and CHAP, RFC 7143 sections 6 and 12.1.3) plus
// SendTargets discovery, a SCSI read and a logout. Small on purpose: one command at a time,
// no digests, no writes. Failures are thrown as ProbeFailure, with the stage that failed.
import { randomBytes } from 'node:crypto';
import { chapResponse, decodeChapBinary, encodeChapBinary } from '../iscsi/chap.ts';
import { Stage, type TargetPdu } from '../iscsi/pdu/types.ts';
import { decodeTextKeys, encodeTextKeys } from '../iscsi/text-keys.ts';
import { encodeLun } from '../scsi/lun.ts';
import type { Credentials } from '../boot/boot-entry.ts';
import type { ProbeConnection } from './probe-connection.ts';
import { senseFromResponseData, type Sense } from './probe-scsi.ts';

export type ProbeFailure =
  | { readonly stage: 'login'; readonly statusClass: number; readonly statusDetail: number; readonly message: string }
  | { readonly stage: 'mutual-chap'; readonly message: string }
  | { readonly stage: 'protocol'; readonly message: string };

export class ProbeError extends Error {
  constructor(readonly failure: ProbeFailure) {
    super(failure.message);
    this.name = 'ProbeError';
  }
}

export interface LoginOptions {
  readonly initiatorIqn: string;
  /** null: a discovery session. */
  readonly target: string | null;
  readonly chap?: Credentials | undefined;
  readonly mutualChap?: Credentials | undefined;
}

export interface LoginResult {
  readonly chapUsed: boolean;
  readonly mutualVerified: boolean;
}

export interface ScsiResult {
  readonly status: number;
  readonly data: Buffer;
  readonly sense: Sense | null;
}

/** What iPXE offers in the operational stage (iscsi.c), so the target answers the doctor as it answers iPXE. */
const OPERATIONAL_KEYS: ReadonlyArray<[string, string]> = [
  ['HeaderDigest', 'None'],
  ['DataDigest', 'None'],
  ['InitialR2T', 'Yes'],
  ['ImmediateData', 'No'],
  ['MaxRecvDataSegmentLength', '65536'],
  ['MaxBurstLength', '262144'],
  ['FirstBurstLength', '65536'],
  ['DefaultTime2Wait', '0'],
  ['DefaultTime2Retain', '0'],
  ['MaxOutstandingR2T', '1'],
  ['DataPDUInOrder', 'Yes'],
  ['DataSequenceInOrder', 'Yes'],
  ['ErrorRecoveryLevel', '0'],
];

/** Rounds of login requests before giving up on a target that never moves on. */
const MAX_LOGIN_ROUNDS = 8;

function protocol(message: string): ProbeError {
  return new ProbeError({ stage: 'protocol', message });
}

export class ProbeSession {
  // ISID type 10b, "random" (RFC 7143 section 11.12.5): never the IANA-EN type iPXE uses, so the
  // doctor's session cannot reinstate (and so end) the machine's own session.
  readonly #isid = Buffer.concat([Buffer.from([0x80]), randomBytes(5)]);
  #itt = 1;
  #cmdSn = 1;

  constructor(
    private readonly conn: ProbeConnection,
    private readonly timeoutMs: number,
  ) {}

  async #expect<K extends TargetPdu['kind']>(kind: K): Promise<Extract<TargetPdu, { kind: K }>> {
    for (;;) {
      const pdu = await this.conn.next(this.timeoutMs);
      if ('statSn' in pdu && !(pdu.kind === 'data-in' && !pdu.hasStatus)) this.conn.expStatSn = (pdu.statSn + 1) >>> 0;
      if (pdu.kind === 'async-message') continue;
      if (pdu.kind === 'reject') throw protocol(`the target rejected a PDU (reason 0x${pdu.reason.toString(16)})`);
      if (pdu.kind !== kind) throw protocol(`expected a ${kind}, got a ${pdu.kind}`);
      return pdu as Extract<TargetPdu, { kind: K }>;
    }
  }

  async #loginRound(csg: number, nsg: number, transit: boolean, keys: ReadonlyArray<readonly [string, string]>): Promise<{ transit: boolean; nsg: number; keys: Map<string, string> }> {
    this.conn.send({ kind: 'login-request', transit, continue: false, csg, nsg, versionMax: 0, versionMin: 0, isid: this.#isid, tsih: 0, initiatorTaskTag: this.#itt, cid: 0, cmdSn: this.#cmdSn, expStatSn: this.conn.expStatSn, data: encodeTextKeys(keys) });
    const response = await this.#expect('login-response');
    if (response.statusClass !== 0) {
      throw new ProbeError({ stage: 'login', statusClass: response.statusClass, statusDetail: response.statusDetail, message: `the target refused the login (status 0x${((response.statusClass << 8) | response.statusDetail).toString(16).padStart(4, '0')})` });
    }
    this.#cmdSn = response.expCmdSn;
    return { transit: response.transit, nsg: response.nsg, keys: new Map(decodeTextKeys(response.data)) };
  }

  /** Security stage (CHAP when offered credentials), then operational, into full feature phase. */
  async login(options: LoginOptions): Promise<LoginResult> {
    const first: Array<[string, string]> = [['InitiatorName', options.initiatorIqn], ['SessionType', options.target === null ? 'Discovery' : 'Normal']];
    if (options.target !== null) first.push(['TargetName', options.target]);
    first.push(['AuthMethod', options.chap !== undefined ? 'CHAP,None' : 'None']);
    let answer = await this.#loginRound(Stage.Security, Stage.Operational, true, first);
    let chapUsed = false;
    let mutualVerified = false;
    if (!answer.transit && answer.keys.get('AuthMethod') === 'CHAP') {
      const chap = options.chap;
      if (chap === undefined) throw protocol('the target chose CHAP, which the doctor did not offer');
      const offer = await this.#loginRound(Stage.Security, Stage.Operational, false, [['CHAP_A', '5']]);
      const id = Number(offer.keys.get('CHAP_I'));
      const challenge = decodeChapBinary(offer.keys.get('CHAP_C') ?? '');
      if (offer.keys.get('CHAP_A') !== '5' || !Number.isInteger(id) || challenge === null) throw protocol('the target sent no usable CHAP challenge');
      const keys: Array<[string, string]> = [['CHAP_N', chap.user], ['CHAP_R', encodeChapBinary(chapResponse(id, chap.secret, challenge))]];
      const ours = options.mutualChap !== undefined ? { id: randomBytes(1)[0] ?? 0, challenge: randomBytes(16) } : null;
      if (ours !== null) keys.push(['CHAP_I', String(ours.id)], ['CHAP_C', encodeChapBinary(ours.challenge)]);
      answer = await this.#loginRound(Stage.Security, Stage.Operational, true, keys);
      chapUsed = true;
      if (ours !== null && options.mutualChap !== undefined) {
        const name = answer.keys.get('CHAP_N');
        const response = decodeChapBinary(answer.keys.get('CHAP_R') ?? '');
        if (name !== options.mutualChap.user) throw new ProbeError({ stage: 'mutual-chap', message: `the target answered mutual CHAP as "${name ?? ''}", not "${options.mutualChap.user}"` });
        if (response === null || !response.equals(chapResponse(ours.id, options.mutualChap.secret, ours.challenge))) {
          throw new ProbeError({ stage: 'mutual-chap', message: 'the target\'s mutual CHAP answer does not match the reverse secret the machine is given' });
        }
        mutualVerified = true;
      }
    }
    if (!answer.transit) throw protocol('the target did not leave the security stage');
    if (answer.nsg === Stage.FullFeature) return { chapUsed, mutualVerified };
    const operational = options.target === null ? OPERATIONAL_KEYS.filter(([k]) => k.endsWith('Digest') || k === 'MaxRecvDataSegmentLength') : OPERATIONAL_KEYS;
    let keys: ReadonlyArray<readonly [string, string]> = operational;
    for (let round = 0; round < MAX_LOGIN_ROUNDS; round++) {
      const step = await this.#loginRound(Stage.Operational, Stage.FullFeature, true, keys);
      if (step.transit && step.nsg === Stage.FullFeature) return { chapUsed, mutualVerified };
      keys = [];
    }
    throw protocol('the target never completed the operational stage');
  }

  /** SendTargets=All in a discovery session: the target names this initiator may see. */
  async sendTargets(): Promise<string[]> {
    const itt = ++this.#itt;
    this.conn.send({ kind: 'text-request', immediate: true, final: true, continue: false, lun: 0n, initiatorTaskTag: itt, targetTransferTag: 0xffffffff, cmdSn: this.#cmdSn, expStatSn: this.conn.expStatSn, data: encodeTextKeys([['SendTargets', 'All']]) });
    const response = await this.#expect('text-response');
    return decodeTextKeys(response.data)
      .filter(([k]) => k === 'TargetName')
      .map(([, v]) => v);
  }

  /** One read-type command; collects Data-In at its offsets until the status arrives. */
  async read(lun: number, cdb: Buffer, expectedLength: number): Promise<ScsiResult> {
    const itt = ++this.#itt;
    const full = Buffer.alloc(16);
    cdb.copy(full);
    const cmdSn = this.#cmdSn;
    this.#cmdSn = (cmdSn + 1) >>> 0;
    this.conn.cmdSn = this.#cmdSn;
    this.conn.send({ kind: 'scsi-command', immediate: false, final: true, read: true, write: false, taskAttribute: 1, lun: encodeLun(lun), initiatorTaskTag: itt, expectedDataTransferLength: expectedLength, cmdSn, expStatSn: this.conn.expStatSn, cdb: full, ahs: Buffer.alloc(0), data: Buffer.alloc(0) });
    const data = Buffer.alloc(expectedLength);
    let received = 0;
    for (;;) {
      const pdu = await this.conn.next(this.timeoutMs);
      if ('statSn' in pdu && !(pdu.kind === 'data-in' && !pdu.hasStatus)) this.conn.expStatSn = (pdu.statSn + 1) >>> 0;
      if (pdu.kind === 'async-message') continue;
      if (pdu.kind === 'reject') throw protocol(`the target rejected the command (reason 0x${pdu.reason.toString(16)})`);
      if (pdu.kind === 'data-in' && pdu.initiatorTaskTag === itt) {
        pdu.data.copy(data, pdu.bufferOffset);
        received = Math.max(received, pdu.bufferOffset + pdu.data.length);
        if (pdu.hasStatus) return { status: pdu.status, data: data.subarray(0, received), sense: null };
        continue;
      }
      if (pdu.kind === 'scsi-response' && pdu.initiatorTaskTag === itt) {
        return { status: pdu.status, data: data.subarray(0, received), sense: senseFromResponseData(pdu.data) };
      }
      throw protocol(`unexpected ${pdu.kind} while waiting for a command's data`);
    }
  }

  /** Closes the session politely; a target that does not answer is not the doctor's concern. */
  async logout(): Promise<void> {
    try {
      this.conn.send({ kind: 'logout-request', immediate: true, reasonCode: 0, initiatorTaskTag: ++this.#itt, cid: 0, cmdSn: this.#cmdSn, expStatSn: this.conn.expStatSn });
      await this.#expect('logout-response');
    } catch {
      // The answer does not change the diagnosis.
    } finally {
      this.conn.close();
    }
  }
}
