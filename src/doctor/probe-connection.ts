// One TCP connection of the doctor's own small iSCSI initiator: PDUs out through the project's
// initiator encoders, PDUs in through the framer and the target decoders. It answers the
// target's NOP-In pings itself (RFC 7143 section 11.19), so a slow check is not cut off.
import { connect, type Socket } from 'node:net';
import { PduFramer } from '../iscsi/framer.ts';
import { encodeInitiatorPdu } from '../iscsi/pdu/initiator-encode.ts';
import { decodeTargetPdu } from '../iscsi/pdu/target-decode.ts';
import { RESERVED_TAG, type InitiatorPdu, type TargetPdu } from '../iscsi/pdu/types.ts';

/** Why the connection could not be used: the socket error code (ECONNREFUSED, ...) or our own. */
export class ProbeConnectionError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'ProbeConnectionError';
  }
}

export class ProbeConnection {
  readonly #framer = new PduFramer({ headerDigest: false, dataDigest: false, maxDataSegmentLength: 1024 * 1024 });
  readonly #queue: TargetPdu[] = [];
  #wake: (() => void) | null = null;
  #closed: string | null = null;
  /** Read by the NOP-Out answer; the session keeps these current. */
  cmdSn = 1;
  expStatSn = 0;

  private constructor(private readonly socket: Socket) {
    socket.on('data', (chunk: Buffer) => {
      try {
        this.#framer.push(chunk, (frame) => this.#receive(decodeTargetPdu(frame.header, frame.ahs, Buffer.from(frame.data))));
      } catch (err) {
        this.#close(`the target sent a PDU the doctor cannot read (${(err as Error).message})`);
      }
    });
    socket.on('close', () => this.#close('the target closed the connection'));
    socket.on('error', (err) => this.#close(`connection error: ${err.message}`));
  }

  /** Connects, or fails with the socket's error code (ECONNREFUSED, ETIMEDOUT, ...). */
  static open(host: string, port: number, timeoutMs: number): Promise<ProbeConnection> {
    return new Promise((resolve, reject) => {
      const socket = connect({ host, port });
      const timer = setTimeout(() => {
        socket.destroy();
        reject(new ProbeConnectionError('ETIMEDOUT', `no answer from ${host}:${port} within ${timeoutMs} ms`));
      }, timeoutMs);
      socket.once('connect', () => {
        clearTimeout(timer);
        socket.setNoDelay(true);
        resolve(new ProbeConnection(socket));
      });
      socket.once('error', (err: NodeJS.ErrnoException) => {
        clearTimeout(timer);
        reject(new ProbeConnectionError(err.code ?? 'ECONNECT', `cannot connect to ${host}:${port}: ${err.message}`));
      });
    });
  }

  #receive(pdu: TargetPdu): void {
    if (pdu.kind === 'nop-in' && pdu.targetTransferTag !== RESERVED_TAG) {
      // A ping from the target: answer with its TTT echoed and no task tag.
      this.send({ kind: 'nop-out', immediate: true, lun: 0n, initiatorTaskTag: RESERVED_TAG, targetTransferTag: pdu.targetTransferTag, cmdSn: this.cmdSn, expStatSn: this.expStatSn, data: Buffer.alloc(0) });
      return;
    }
    this.#queue.push(pdu);
    this.#wakeUp();
  }

  #close(reason: string): void {
    if (this.#closed === null) this.#closed = reason;
    this.#wakeUp();
  }

  #wakeUp(): void {
    const wake = this.#wake;
    this.#wake = null;
    wake?.();
  }

  send(pdu: InitiatorPdu): void {
    if (this.#closed === null) this.socket.write(encodeInitiatorPdu(pdu));
  }

  /** The next PDU from the target; throws when the connection ends or the time runs out. */
  async next(timeoutMs: number): Promise<TargetPdu> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const pdu = this.#queue.shift();
      if (pdu !== undefined) return pdu;
      if (this.#closed !== null) throw new ProbeConnectionError('ECONNRESET', this.#closed);
      const left = deadline - Date.now();
      if (left <= 0) throw new ProbeConnectionError('ETIMEDOUT', `the target did not answer within ${timeoutMs} ms`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.#wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
    }
  }

  close(): void {
    this.#closed ??= 'closed by the doctor';
    this.socket.destroy();
  }
}
