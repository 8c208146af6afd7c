// One TCP connection: the only file in iscsi/ that touches a net.Socket besides the writer.
// Bytes → framer → decoded PDUs → the login machine, then the Session in full-feature phase.
// A malformed PDU gets a Reject or closes this connection only (STYLE: never the server).
import type { Socket } from 'node:net';
import { randomBytes } from 'node:crypto';
import type { Logger } from 'pino';
import { DecodeError } from '../lib/errors.ts';
import { BufferPool } from './buffer-pool.ts';
import { PduFramer, type Frame } from './framer.ts';
import { createLogin, step as stepLogin, type LoginConfig, type LoginResult, type LoginState } from './login.ts';
import { decodeInitiatorPdu } from './pdu/index.ts';
import { Opcode, RejectReason, RESERVED_TAG, type InitiatorPdu, type LoginRequest } from './pdu/types.ts';
import { PduWriter } from './pdu-writer.ts';
import { adoptSocket } from './socket-receive.ts';
import { quickAck } from '../lib/tcp-quickack.ts';
import { Session } from './session.ts';
import type { Portal } from './send-targets.ts';
import type { TargetDirectory } from './target-directory.ts';
import { decodeTextKeys, encodeTextKeys } from './text-keys.ts';
import { LoginStatus } from './login-status.ts';

/** What a connection needs from the server that owns it. */
export interface ConnectionHost {
  readonly targets: TargetDirectory;
  readonly loginConfig: LoginConfig;
  readonly queueDepth: number;
  /** Read data one connection may hold before its further READs wait (data-in-budget.ts). */
  readonly dataInBudgetBytes: number;
  readonly nopIntervalMs: number;
  readonly nopTimeoutMs: number;
  readonly loginTimeoutMs: number;
  portals(localAddress: string): readonly Portal[];
  /**
   * Called when login completes: assigns the TSIH, closes a session this one reinstates
   * (same initiator, ISID and target: RFC 7143 section 6.3.5) and registers it. Returns the TSIH,
   * or a login status to fail with.
   */
  admitSession(connection: Connection, result: LoginResult, cid: number): { tsih: number } | { status: { statusClass: number; statusDetail: number } };
  forgetConnection(connection: Connection): void;
  /** Boot timeline: logins (and why they failed), the first read of LBA 0, the end. */
  onEvent?(event: IscsiEvent): void;
}

export interface IscsiEvent {
  readonly kind: 'login' | 'login-failed' | 'first-read' | 'logout';
  readonly ip: string;
  readonly initiator: string | null;
  readonly target: string | null;
  readonly reason: string;
}

/** How a login-failed event starts when the initiator hung up on our mutual CHAP answer (the live warnings look for it). */
export const MUTUAL_CHAP_HANGUP = 'initiator hung up after the target answered its mutual CHAP challenge';

/** Hard cap on one data segment before negotiation has told us the real limit. */
const LOGIN_MAX_SEGMENT = 65536;
const KEEPALIVE_MS = 30000;
const FRAMER_HARD_CAP = 16 * 1024 * 1024;
/**
 * Write buffers kept for reuse: enough for a full queue of 1 MiB writes (the bench's depth 32),
 * released when the initiator has been quiet for POOL_IDLE_MS.
 */
const POOL_MAX_RETAINED_BYTES = 32 * 1024 * 1024;
const POOL_IDLE_MS = 5000;
/** Data-in buffers of reads from one page up are pooled too (buffer-pool.ts). */
const POOL_MIN_BYTES = 4096;

export class Connection {
  readonly framer: PduFramer;
  readonly writer: PduWriter;
  readonly connectedAt = new Date();
  session: Session | null = null;
  #login: LoginState;
  /** Names the initiator gave in its first login PDU: later PDUs of the login (CHAP_N/CHAP_R) do not repeat them. */
  #loginInitiator: string | null = null;
  #loginTarget: string | null = null;
  /** The target has answered the initiator's mutual CHAP challenge and the login is not over. */
  #answeredMutualChap = false;
  #loginText: Buffer[] = [];
  #statSn: number;
  #closed = false;
  #lastHeardMs = Date.now();
  /** Bytes arrived since the last tick (a flag per read instead of a clock read per read). */
  #heard = false;
  #pingOutstandingSinceMs: number | null = null;
  #pingTag = 0;
  /**
   * Whether this initiator has ever answered a ping. iPXE never does (its iscsi.c ignores
   * NOP-Ins that ask for an answer), so silence only proves a dead peer for initiators that
   * answered before; for the others TCP keepalive finds dead peers.
   */
  #answersPings = false;
  #timer: NodeJS.Timeout;
  #maxSegment = LOGIN_MAX_SEGMENT;
  readonly #pool = new BufferPool(POOL_MAX_RETAINED_BYTES, POOL_MIN_BYTES);
  closeReason = '';

  readonly socket: Socket;

  /** `accepted` comes from a server listening with pauseOnConnect (see socket-receive.ts). */
  constructor(
    accepted: Socket,
    private readonly host: ConnectionHost,
    private readonly log: Logger,
  ) {
    // Until login completes, nothing bigger than a login PDU is buffered: an unauthenticated
    // peer must not make the server hold 16 MiB per connection (the framer throws at the BHS).
    this.framer = new PduFramer({ headerDigest: false, dataDigest: false, maxDataSegmentLength: LOGIN_MAX_SEGMENT });
    // Reads land in the framer's memory (no allocation per read), or, failing that, arrive as
    // 'data' chunks.
    const adopted = adoptSocket(accepted, { readBuffer: () => this.framer.readBuffer(), received: (length) => this.#onReceived(length) });
    const socket = adopted ?? accepted;
    this.socket = socket;
    // The writer tells the session when Data-In has reached the kernel: its budget comes back.
    this.writer = new PduWriter(socket, this.#pool, (bytes) => this.session?.dataInWritten(bytes));
    this.#login = createLogin(host.loginConfig, randomBytes);
    this.#peerAddress();
    this.#statSn = randomBytes(4).readUInt32BE(0);
    socket.setNoDelay(true);
    // Finds dead peers that do not answer NOP-In pings (see #answersPings).
    socket.setKeepAlive(true, KEEPALIVE_MS);
    if (adopted === null) {
      socket.on('data', (chunk: Buffer) => this.#onData(chunk));
      socket.resume();
    }
    socket.on('error', (err) => this.#shutdown(`socket error: ${err.message}`));
    socket.on('close', () => this.#shutdown('peer closed the connection'));
    const tick = Math.max(50, Math.min(1000, host.nopIntervalMs || 1000, host.loginTimeoutMs));
    // An initiator that stops reading its socket shows as data that never leaves (no drain).
    socket.on('drain', () => (this.#sentSinceTick = true));
    this.#timer = setInterval(() => this.#onTick(Date.now()), tick);
    this.#timer.unref();
  }

  get peer(): string {
    return `${this.socket.remoteAddress ?? '?'}:${this.socket.remotePort ?? 0}`;
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** Closes this connection (reinstatement, shutdown); the session's tasks are dropped. */
  close(reason: string): void {
    this.#shutdown(reason);
    this.socket.destroy();
  }

  #onData(chunk: Buffer): void {
    this.#heard = true;
    try {
      this.framer.push(chunk, this.#onFrame);
    } catch (err) {
      this.#protocolFailure(err);
    }
    this.#ackHeaderAlone();
  }

  #onReceived(length: number): void {
    this.#heard = true;
    try {
      this.framer.received(length, this.#onFrame);
    } catch (err) {
      this.#protocolFailure(err);
    }
    this.#ackHeaderAlone();
  }

  /**
   * A read that ended right after a PDU's header: iPXE sends the data segment only once that
   * header is acknowledged, and the kernel would delay the ACK by 40 ms (lib/tcp-quickack.ts).
   */
  #ackHeaderAlone(): void {
    if (!this.#closed && this.framer.waitingForData) quickAck(this.socket);
  }

  readonly #onFrame = (frame: Frame): void => {
    if (this.#closed) return;
    if (!frame.headerDigestOk) {
      // A header we cannot trust: with ERL 0 the connection is dropped (RFC 7143 section 7.8).
      return this.close('header digest error');
    }
    if (!frame.dataDigestOk) {
      this.log.warn('data digest error');
      this.session?.reject(RejectReason.DataDigestError, frame.header);
      return;
    }
    if (frame.data.length > this.#maxSegment) {
      this.log.warn({ length: frame.data.length, max: this.#maxSegment }, 'data segment longer than MaxRecvDataSegmentLength');
      if (this.session === null) return this.close('oversized login PDU');
      return this.session.reject(RejectReason.ProtocolError, frame.header);
    }
    let pdu: InitiatorPdu;
    try {
      pdu = decodeInitiatorPdu(frame.header, frame.ahs, frame.data);
    } catch (err) {
      if (!(err instanceof DecodeError)) throw err;
      this.log.warn({ code: err.code, opcode: (frame.header[0] ?? 0) & 0x3f }, err.message);
      if (this.session === null) return this.close(`undecodable PDU during login: ${err.message}`);
      const opcode = (frame.header[0] ?? 0) & 0x3f;
      const known = (Object.values(Opcode) as number[]).includes(opcode);
      return this.session.reject(known ? RejectReason.InvalidPduField : RejectReason.CommandNotSupported, frame.header);
    }
    if (pdu.kind === 'nop-out' && pdu.initiatorTaskTag === RESERVED_TAG && pdu.targetTransferTag === this.#pingTag) this.#answersPings = true;
    if (this.session !== null) return this.session.handle(pdu, frame.header);
    if (pdu.kind !== 'login-request') return this.close(`${pdu.kind} before login completed`);
    this.#onLogin(pdu);
  };

  #onLogin(pdu: LoginRequest): void {
    // Keys can span several Login PDUs (C bit): gather them, answer each partial PDU with an
    // empty response, and run the login machine on the whole text (RFC 7143 section 6.3).
    this.#loginText.push(pdu.data);
    const base = { isid: pdu.isid, tsih: 0, initiatorTaskTag: pdu.initiatorTaskTag, versionMax: 0, versionActive: 0, expCmdSn: pdu.cmdSn, maxCmdSn: pdu.cmdSn };
    if (pdu.continue) {
      this.writer.send({ kind: 'login-response', transit: false, continue: false, csg: pdu.csg, nsg: pdu.nsg, statusClass: 0, statusDetail: 0, data: Buffer.alloc(0), statSn: this.#nextStatSn(), ...base });
      return;
    }
    const text = this.#loginText.length === 1 ? (this.#loginText[0] ?? Buffer.alloc(0)) : Buffer.concat(this.#loginText);
    this.#loginText = [];
    let keys: Array<[string, string]>;
    try {
      keys = decodeTextKeys(text);
    } catch (err) {
      return this.#failLogin(pdu, LoginStatus.InitiatorError, `malformed login keys: ${(err as Error).message}`);
    }
    const step = stepLogin(this.#login, {
      transit: pdu.transit,
      continue: pdu.continue,
      csg: pdu.csg,
      nsg: pdu.nsg,
      versionMax: pdu.versionMax,
      versionMin: pdu.versionMin,
      isid: pdu.isid,
      tsih: pdu.tsih,
      cid: pdu.cid,
      keys,
    });
    this.#login = step.state;
    // A PDU after our CHAP_R means the initiator accepted it.
    this.#answeredMutualChap = false;
    this.#loginInitiator ??= keys.find(([k]) => k === 'InitiatorName')?.[1] ?? null;
    this.#loginTarget ??= keys.find(([k]) => k === 'TargetName')?.[1] ?? null;
    const r = step.response;
    if (step.outcome === 'failed') {
      this.log.warn({ statusClass: r.statusClass, statusDetail: r.statusDetail, reason: step.error?.message }, 'login failed');
      this.#emit('login-failed', keys, step.error?.message ?? `status 0x${((r.statusClass << 8) | r.statusDetail).toString(16).padStart(4, '0')}`);
      return this.#failLogin(pdu, { statusClass: r.statusClass, statusDetail: r.statusDetail }, step.error?.message ?? 'login failed');
    }
    let tsih = 0;
    if (step.outcome === 'complete' && step.result !== undefined) {
      const admitted = this.host.admitSession(this, step.result, pdu.cid);
      if ('status' in admitted) return this.#failLogin(pdu, admitted.status, 'session not admitted');
      tsih = admitted.tsih;
    }
    const statSn = this.#nextStatSn();
    const complete = step.outcome === 'complete' && step.result !== undefined;
    this.writer.send({
      kind: 'login-response',
      transit: r.transit,
      continue: false,
      csg: r.csg,
      nsg: r.nsg,
      statusClass: 0,
      statusDetail: 0,
      data: encodeTextKeys(r.keys),
      statSn,
      ...base,
      tsih,
      maxCmdSn: complete ? (pdu.cmdSn + this.host.queueDepth - 1) >>> 0 : pdu.cmdSn,
    });
    // Our CHAP_R is the target's proof (mutual CHAP, RFC 7143 section 12.1.3): an initiator that
    // disagrees with it has no status to send back, it can only hang up.
    this.#answeredMutualChap = !complete && r.keys.some(([k]) => k === 'CHAP_R');
    if (complete && step.result !== undefined) this.#enterFullFeature(step.result, tsih, pdu);
  }

  #enterFullFeature(result: LoginResult, tsih: number, pdu: LoginRequest): void {
    const params = result.params;
    // Digests apply from the first PDU after the final login response (RFC 7143 section 13.1).
    this.framer.setDigests(params.headerDigest, params.dataDigest);
    // Above MaxRecvDataSegmentLength a segment is answered with a Reject, so it is read whole.
    this.framer.setMaxDataSegmentLength(FRAMER_HARD_CAP);
    this.writer.headerDigest = params.headerDigest;
    this.writer.dataDigest = params.dataDigest;
    this.#maxSegment = params.maxRecvDataSegmentLengthTarget;
    const target = result.targetName === undefined ? null : this.host.targets.get(result.targetName);
    const localAddress = this.socket.localAddress ?? '127.0.0.1';
    this.session = new Session({
      tsih,
      isid: Buffer.from(pdu.isid),
      cid: pdu.cid,
      type: result.sessionType,
      initiatorName: result.initiatorName,
      targetName: target?.name ?? null,
      params,
      device: target?.device ?? null,
      targets: this.host.targets,
      portals: () => this.host.portals(localAddress),
      sink: {
        send: (out, pooled, dataInBytes) => this.writer.send(out, pooled ?? null, dataInBytes ?? 0),
        finish: (reason) => {
          this.closeReason = reason;
          this.writer.end();
        },
        abort: (reason) => this.close(reason),
      },
      log: this.log,
      onFirstRead: () => this.host.onEvent?.({ kind: 'first-read', ip: this.#peerAddress(), initiator: result.initiatorName, target: target?.name ?? null, reason: 'ok' }),
      statSn: this.#statSn,
      cmdSn: pdu.cmdSn,
      queueDepth: this.host.queueDepth,
      pool: this.#pool,
      dataInBudgetBytes: this.host.dataInBudgetBytes,
    });
    const session = this.session;
    // Data-Out segments go straight into their write task's buffer (framer.ts, session.ts).
    // An oversized segment is refused in #onFrame, so it never lands in a task's buffer.
    this.framer.placeData = (header, _ahs, length) => (length <= this.#maxSegment ? session.placeData(header, length) : null);
    this.log.info({ type: result.sessionType, initiator: result.initiatorName, target: target?.name, tsih, params }, 'login complete');
    if (result.sessionType === 'Normal') this.host.onEvent?.({ kind: 'login', ip: this.#peerAddress(), initiator: result.initiatorName, target: target?.name ?? null, reason: 'ok' });
  }

  #failLogin(pdu: LoginRequest, status: { statusClass: number; statusDetail: number }, reason: string): void {
    this.writer.send({
      kind: 'login-response',
      transit: false,
      continue: false,
      csg: pdu.csg,
      nsg: 0, // T=0 makes NSG reserved (RFC 7143 11.12.3), and reserved fields are sent as 0 (section 11)
      versionMax: 0,
      versionActive: 0,
      isid: pdu.isid,
      tsih: 0,
      initiatorTaskTag: pdu.initiatorTaskTag,
      statusClass: status.statusClass,
      statusDetail: status.statusDetail,
      data: Buffer.alloc(0),
      statSn: this.#nextStatSn(),
      expCmdSn: pdu.cmdSn,
      maxCmdSn: pdu.cmdSn,
    });
    // A login reject ends the connection (RFC 7143 section 11.13.5).
    this.closeReason = reason;
    this.writer.end();
  }

  #nextStatSn(): number {
    const statSn = this.#statSn;
    this.#statSn = (statSn + 1) >>> 0;
    return statSn;
  }

  #onTick(nowMs: number): void {
    if (this.#closed) return;
    if (this.#heard) {
      // Anything from the initiator answers an outstanding ping.
      this.#heard = false;
      this.#lastHeardMs = nowMs;
      this.#pingOutstandingSinceMs = null;
    }
    if (this.session === null) {
      if (nowMs - this.connectedAt.getTime() > this.host.loginTimeoutMs) this.close('login did not complete in time');
      return;
    }
    if (nowMs - this.#lastHeardMs >= POOL_IDLE_MS) {
      // Quiet initiator (a booted machine's iPXE connection, say): give back what busy
      // traffic grew, so a fleet of idle connections costs little memory.
      this.#pool.clear();
      this.writer.trimIdle();
      this.framer.trimIdle();
    }
    if (this.#stalledFor(nowMs) > this.host.nopTimeoutMs) return this.close('initiator stopped reading: responses unsent for longer than the NOP-In timeout');
    if (this.host.nopIntervalMs <= 0) return;
    if (this.#pingOutstandingSinceMs !== null) {
      if (nowMs - this.#pingOutstandingSinceMs <= this.host.nopTimeoutMs) return;
      if (this.#answersPings) return this.close('initiator did not answer NOP-In');
      // Never answered one: an initiator without ping support (iPXE). Ping again later.
      this.#pingOutstandingSinceMs = null;
      this.#lastHeardMs = nowMs;
      return;
    }
    if (nowMs - this.#lastHeardMs >= this.host.nopIntervalMs) {
      this.#pingOutstandingSinceMs = nowMs;
      this.#pingTag = 0x1000 + (nowMs & 0xffff);
      this.session.ping(this.#pingTag);
    }
  }

  /**
   * How long responses have waited in the socket with none of them leaving. Catches an
   * initiator that stopped reading even when it never answers pings (iPXE does not): its kernel
   * keeps ACKing with a zero window, so TCP keepalive never fires either.
   */
  #stalledFor(nowMs: number): number {
    const unsent = this.socket.writableLength;
    const moved = this.#sentSinceTick || unsent === 0 || unsent < this.#unsentAtTick;
    this.#sentSinceTick = false;
    this.#unsentAtTick = unsent;
    if (moved) {
      this.#stalledSinceMs = null;
      return 0;
    }
    this.#stalledSinceMs ??= nowMs;
    return nowMs - this.#stalledSinceMs;
  }

  #protocolFailure(err: unknown): void {
    const message = err instanceof Error ? err.message : String(err);
    this.log.warn({ err: message }, 'closing connection after a framing error');
    this.close(message);
  }

  #shutdown(reason: string): void {
    if (this.#closed) return;
    this.#closed = true;
    if (this.closeReason === '') this.closeReason = reason;
    clearInterval(this.#timer);
    this.session?.close();
    this.host.forgetConnection(this);
    this.log.info({ reason: this.closeReason }, 'connection closed');
    if (this.session === null && this.#answeredMutualChap) {
      this.#emit('login-failed', [], `${MUTUAL_CHAP_HANGUP}: the initiator does not accept the target's mutual CHAP credentials`);
    }
    const info = this.session?.info;
    if (info?.type === 'Normal') this.host.onEvent?.({ kind: 'logout', ip: this.#peerAddress(), initiator: info.initiatorName, target: info.targetName, reason: this.closeReason });
  }

  /** Since when the socket has held unsent data without draining any of it, or null. */
  #stalledSinceMs: number | null = null;
  #sentSinceTick = false;
  #unsentAtTick = 0;

  /** Kept from the first look: a closed socket no longer knows its peer. */
  #peer: string | null = null;

  #peerAddress(): string {
    if (this.#peer !== null) return this.#peer;
    const address = this.socket.remoteAddress ?? '';
    if (address === '') return '';
    this.#peer = address.startsWith('::ffff:') ? address.slice(7) : address;
    return this.#peer;
  }

  #emit(kind: 'login-failed', keys: ReadonlyArray<readonly [string, string]>, reason: string): void {
    const find = (key: string) => keys.find(([k]) => k === key)?.[1] ?? null;
    this.host.onEvent?.({ kind, ip: this.#peerAddress(), initiator: find('InitiatorName') ?? this.#loginInitiator, target: find('TargetName') ?? this.#loginTarget, reason });
  }
}
