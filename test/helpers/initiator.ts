// A small raw iSCSI initiator for tests that must send what real initiators never do
// (truncated headers, unknown opcodes, oversized segments) and look at the exact answers.
import { connect, type Socket } from 'node:net';
import { PduFramer } from '../../src/iscsi/framer.ts';
import { encodeInitiatorPdu } from '../../src/iscsi/pdu/initiator-encode.ts';
import { decodeTargetPdu } from '../../src/iscsi/pdu/target-decode.ts';
import { RESERVED_TAG, type InitiatorPdu, type LoginResponse, type TargetPdu } from '../../src/iscsi/pdu/types.ts';
import { decodeTextKeys, encodeTextKeys } from '../../src/iscsi/text-keys.ts';
import { crc32c, writeDigest } from '../../src/lib/crc32c.ts';

export const TEST_INITIATOR = 'iqn.2026-11.org.diskless.test:initiator';

export class RawInitiator {
  readonly #framer = new PduFramer({ headerDigest: false, dataDigest: false, maxDataSegmentLength: 16 * 1024 * 1024 });
  readonly #queue: TargetPdu[] = [];
  #waiters: Array<() => void> = [];
  #closed = false;
  cmdSn = 1;
  expStatSn = 0;
  /** Answer the target's NOP-In pings, as a live initiator does. */
  answerPings = false;
  itt = 1;

  private constructor(readonly socket: Socket) {
    socket.on('data', (chunk: Buffer) =>
      this.#framer.push(chunk, (frame) => {
        const pdu = decodeTargetPdu(frame.header, frame.ahs, frame.data);
        if (this.answerPings && pdu.kind === 'nop-in' && pdu.targetTransferTag !== RESERVED_TAG) {
          // Answer the target's ping (RFC 7143 section 11.18): ITT reserved, its TTT echoed.
          this.send({ kind: 'nop-out', immediate: true, lun: 0n, initiatorTaskTag: RESERVED_TAG, targetTransferTag: pdu.targetTransferTag, cmdSn: this.cmdSn, expStatSn: this.expStatSn, data: Buffer.alloc(0) });
          return;
        }
        if ('statSn' in pdu && pdu.kind !== 'data-in') this.expStatSn = (pdu.statSn + 1) >>> 0;
        this.#queue.push(pdu);
        this.#wake();
      }),
    );
    socket.on('close', () => {
      this.#closed = true;
      this.#wake();
    });
    socket.on('error', () => undefined);
  }

  static connect(port: number, host = '127.0.0.1'): Promise<RawInitiator> {
    return new Promise((resolve, reject) => {
      const socket = connect(port, host, () => resolve(new RawInitiator(socket)));
      socket.once('error', reject);
    });
  }

  #wake(): void {
    const waiters = this.#waiters;
    this.#waiters = [];
    for (const w of waiters) w();
  }

  get closed(): boolean {
    return this.#closed;
  }

  sendRaw(bytes: Buffer): void {
    this.socket.write(bytes);
  }

  send(pdu: InitiatorPdu): void {
    this.socket.write(this.withDigests(encodeInitiatorPdu(pdu)));
  }

  /** Header and data digests on, both ways (call after a login that negotiated CRC32C). */
  enableDigests(): void {
    this.digests = true;
    this.#framer.setDigests(true, true);
  }

  digests = false;

  /** BHS + CRC32C, then data and padding + CRC32C (RFC 7143 section 13.1); no AHS here. */
  withDigests(encoded: Buffer): Buffer {
    if (!this.digests) return encoded;
    const header = encoded.subarray(0, 48);
    const rest = encoded.subarray(48);
    const hd = Buffer.alloc(4);
    writeDigest(hd, 0, crc32c(header));
    if (rest.length === 0) return Buffer.concat([header, hd]);
    const dd = Buffer.alloc(4);
    writeDigest(dd, 0, crc32c(rest));
    return Buffer.concat([header, hd, rest, dd]);
  }

  /** The next PDU from the target, or null if the connection closes or the time runs out. */
  async next(timeoutMs = 3000): Promise<TargetPdu | null> {
    const deadline = Date.now() + timeoutMs;
    while (this.#queue.length === 0) {
      if (this.#closed) return null;
      const left = deadline - Date.now();
      if (left <= 0) return null;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.#waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
    return this.#queue.shift() ?? null;
  }

  /** Waits for the target to close the connection. */
  async waitClosed(timeoutMs = 3000): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    while (!this.#closed && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 20));
    }
    return this.#closed;
  }

  /** A one-PDU login straight into full-feature phase (operational stage, no security). */
  async login(keys: Array<[string, string]>, isid = Buffer.from([0x80, 0, 0, 0, 0, 1])): Promise<LoginResponse> {
    this.send({
      kind: 'login-request',
      transit: true,
      continue: false,
      csg: 1,
      nsg: 3,
      versionMax: 0,
      versionMin: 0,
      isid,
      tsih: 0,
      initiatorTaskTag: this.itt++,
      cid: 0,
      cmdSn: this.cmdSn,
      expStatSn: 0,
      data: encodeTextKeys([['InitiatorName', TEST_INITIATOR], ...keys]),
    });
    const response = await this.next();
    if (response === null || response.kind !== 'login-response') throw new Error(`expected a login response, got ${response?.kind ?? 'nothing'}`);
    return response;
  }

  keysOf(pdu: { data: Buffer }): Map<string, string> {
    return new Map(decodeTextKeys(pdu.data));
  }

  /** Sends a SCSI command (no data-out) and returns the PDUs until its status. */
  async command(cdb: Buffer, expectedLength: number, lun = 0n, read = true): Promise<TargetPdu[]> {
    const full = Buffer.alloc(16);
    cdb.copy(full);
    const itt = this.itt++;
    this.send({
      kind: 'scsi-command',
      immediate: false,
      final: true,
      read: read && expectedLength > 0,
      write: false,
      taskAttribute: 1,
      lun,
      initiatorTaskTag: itt,
      expectedDataTransferLength: expectedLength,
      cmdSn: this.cmdSn++,
      expStatSn: this.expStatSn,
      cdb: full,
      ahs: Buffer.alloc(0),
      data: Buffer.alloc(0),
    });
    const out: TargetPdu[] = [];
    for (;;) {
      const pdu = await this.next();
      if (pdu === null) throw new Error('connection closed before the command completed');
      out.push(pdu);
      if (pdu.kind === 'scsi-response' || (pdu.kind === 'data-in' && pdu.hasStatus) || pdu.kind === 'reject') return out;
    }
  }

  nopOut(data = Buffer.alloc(0)): void {
    this.send({ kind: 'nop-out', immediate: true, lun: 0n, initiatorTaskTag: this.itt++, targetTransferTag: RESERVED_TAG, cmdSn: this.cmdSn, expStatSn: this.expStatSn, data });
  }

  close(): void {
    this.socket.destroy();
  }
}
