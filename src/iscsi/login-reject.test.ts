// The Login Response that ends a failed login, byte for byte as it leaves the portal: the
// status, and nothing else (RFC 7143 11.13.5, 12.1.3; see failed() in login.ts). A real
// IscsiServer on loopback, a raw socket, expected headers written out by hand rather than
// through the PDU encoder.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { connect, type Socket } from 'node:net';
import { after, before, describe, it } from 'node:test';
import pino from 'pino';
import { encodeInitiatorPdu } from './pdu/initiator-encode.ts';
import { IscsiServer } from './server.ts';
import { TargetDirectory, type ExportedTarget } from './target-directory.ts';
import { decodeTextKeys, encodeTextKeys } from './text-keys.ts';

const CHAP_IQN = 'iqn.2026-11.org.diskless.test:reject-chap';
const ACL_IQN = 'iqn.2026-11.org.diskless.test:reject-acl';
const INITIATOR = 'iqn.2026-11.org.diskless.test:reject-initiator';
const CHAP = { user: 'reject-user', secret: 'reject-secret-0123' };
const ISID = Buffer.from([0x80, 0x12, 0x34, 0x56, 0x78, 0x9a]);

const device: ExportedTarget['device'] = { execute: () => undefined, reset: () => undefined, hasLun: (lun) => lun === 0 };

let server: IscsiServer;

before(async () => {
  server = new IscsiServer({
    targets: new TargetDirectory([
      { name: CHAP_IQN, alias: null, device, chap: CHAP, mutualChap: null, allowedInitiators: null },
      { name: ACL_IQN, alias: null, device, chap: null, mutualChap: null, allowedInitiators: ['iqn.2026-11.org.diskless.test:someone-else'] },
    ]),
    portalGroupTag: 1,
    discoveryAuth: null,
    nopIntervalMs: 0,
    nopTimeoutMs: 30000,
    maxConnections: 16,
    advertise: [],
    listen: '127.0.0.1',
    log: pino({ level: 'silent' }),
  });
  await server.listen(0, '127.0.0.1');
});
after(async () => server.close());

interface Pdu {
  readonly bhs: Buffer;
  readonly data: Buffer;
}

/** A raw connection: whole PDUs out of the byte stream, and whether the target closed. */
class Wire {
  #buffer = Buffer.alloc(0);
  #closed = false;
  #wake: (() => void) | null = null;
  #cmdSn = 1;
  #itt = 0x100;

  private constructor(readonly socket: Socket) {
    socket.on('data', (chunk: Buffer) => {
      this.#buffer = Buffer.concat([this.#buffer, chunk]);
      this.#wake?.();
    });
    socket.on('close', () => {
      this.#closed = true;
      this.#wake?.();
    });
    socket.on('error', () => undefined);
  }

  static open(port: number): Promise<Wire> {
    return new Promise((resolve, reject) => {
      const socket = connect(port, '127.0.0.1', () => resolve(new Wire(socket)));
      socket.once('error', reject);
    });
  }

  /** Sends a Login Request; returns its ITT and CmdSN. */
  login(csg: number, nsg: number, transit: boolean, keys: Array<[string, string]>): { itt: number; cmdSn: number } {
    const itt = this.#itt++;
    const cmdSn = this.#cmdSn;
    this.socket.write(
      encodeInitiatorPdu({
        kind: 'login-request', transit, continue: false, csg, nsg, versionMax: 0, versionMin: 0, isid: ISID, tsih: 0,
        initiatorTaskTag: itt, cid: 0, cmdSn, expStatSn: 0, data: encodeTextKeys(keys),
      }),
    );
    return { itt, cmdSn };
  }

  async #until(ready: () => boolean, ms = 3000): Promise<void> {
    const deadline = Date.now() + ms;
    while (!ready()) {
      if (Date.now() > deadline) throw new Error('timed out waiting for the target');
      await new Promise<void>((resolve) => {
        this.#wake = resolve;
        setTimeout(resolve, 50);
      });
    }
  }

  /** The next whole PDU (48-byte BHS, no AHS or digests during login, data padded to 4). */
  async next(): Promise<Pdu> {
    const length = (): number => {
      if (this.#buffer.length < 48) return Infinity;
      const data = this.#buffer.readUIntBE(5, 3);
      return 48 + data + ((4 - (data % 4)) % 4);
    };
    await this.#until(() => this.#buffer.length >= length() || this.#closed);
    const total = length();
    assert.ok(this.#buffer.length >= total, `the target closed after ${this.#buffer.length} bytes of a PDU`);
    const bhs = Buffer.from(this.#buffer.subarray(0, 48));
    const data = Buffer.from(this.#buffer.subarray(48, 48 + bhs.readUIntBE(5, 3)));
    this.#buffer = this.#buffer.subarray(total);
    return { bhs, data };
  }

  /** Waits for the target to close; returns the bytes it sent after the last PDU read (none expected). */
  async closedWith(): Promise<Buffer> {
    await this.#until(() => this.#closed);
    return this.#buffer;
  }
}

/**
 * The Login Response of a reject, as RFC 7143 11.13 lays it out: opcode 0x23; T=0, C=0, the
 * request's CSG, NSG 0 (reserved when T=0, and reserved fields are sent as 0: RFC 7143 section
 * 11); versions 0; no AHS, no data; the ISID and ITT echoed; TSIH 0; StatSN; ExpCmdSN and
 * MaxCmdSN the request's CmdSN; status class and detail; the rest zero.
 */
function rejectHeader(o: { csg: number; itt: number; statSn: number; cmdSn: number; statusClass: number; statusDetail: number }): Buffer {
  const h = Buffer.alloc(48);
  h[0] = 0x23;
  h[1] = (o.csg & 3) << 2;
  ISID.copy(h, 8);
  h.writeUInt32BE(o.itt, 16);
  h.writeUInt32BE(o.statSn, 24);
  h.writeUInt32BE(o.cmdSn, 28);
  h.writeUInt32BE(o.cmdSn, 32);
  h[36] = o.statusClass;
  h[37] = o.statusDetail;
  return h;
}

/**
 * Checks a reject against rejectHeader, except the NSG bits of byte 1 (checked on their own
 * below), and that the target then closed without another byte.
 */
async function assertReject(wire: Wire, pdu: Pdu, expected: Buffer): Promise<void> {
  const got = Buffer.from(pdu.bhs);
  got[1] = (got[1] ?? 0) & 0xfc;
  assert.equal(got.toString('hex'), expected.toString('hex'), 'the reject header, byte for byte (NSG bits masked)');
  assert.equal(pdu.data.length, 0, 'a login reject carries no text keys');
  assert.equal((await wire.closedWith()).length, 0, 'nothing after the reject; the target closes (RFC 7143 11.13.5)');
}

const md5Response = (id: number, secret: string, challenge: Buffer): string =>
  `0x${createHash('md5').update(Buffer.of(id)).update(secret).update(challenge).digest('hex')}`;

/** Security stage up to the challenge; returns the wire, the next CmdSN's StatSN and the challenge. */
async function toChallenge(): Promise<{ wire: Wire; statSn: number; id: number; challenge: Buffer }> {
  const wire = await Wire.open(server.port);
  wire.login(0, 1, false, [['InitiatorName', INITIATOR], ['TargetName', CHAP_IQN], ['SessionType', 'Normal'], ['AuthMethod', 'CHAP']]);
  const first = await wire.next();
  assert.equal(first.bhs.readUInt16BE(36), 0, 'AuthMethod=CHAP accepted');
  wire.login(0, 1, false, [['CHAP_A', '5']]);
  const second = await wire.next();
  const keys = new Map(decodeTextKeys(second.data));
  const challenge = Buffer.from((keys.get('CHAP_C') ?? '0x').slice(2), 'hex');
  assert.equal(challenge.length, 16);
  return { wire, statSn: (second.bhs.readUInt32BE(24) + 1) >>> 0, id: Number(keys.get('CHAP_I')), challenge };
}

describe('a login reject on the wire is the status alone', () => {
  it('AuthMethod=None to a CHAP target: 0x0201, 48 bytes, no AuthMethod=Reject', async () => {
    const wire = await Wire.open(server.port);
    const { itt, cmdSn } = wire.login(0, 1, true, [['InitiatorName', INITIATOR], ['TargetName', CHAP_IQN], ['SessionType', 'Normal'], ['AuthMethod', 'None']]);
    const pdu = await wire.next();
    await assertReject(wire, pdu, rejectHeader({ csg: 0, itt, statSn: pdu.bhs.readUInt32BE(24), cmdSn, statusClass: 2, statusDetail: 1 }));
  });

  it('CHAP_A without MD5: 0x0201 and no CHAP_A=Reject (RFC 7143 12.1.3: the reject is the answer)', async () => {
    const wire = await Wire.open(server.port);
    wire.login(0, 1, false, [['InitiatorName', INITIATOR], ['TargetName', CHAP_IQN], ['SessionType', 'Normal'], ['AuthMethod', 'CHAP']]);
    const first = await wire.next();
    const { itt, cmdSn } = wire.login(0, 1, false, [['CHAP_A', '6,7']]);
    const pdu = await wire.next();
    await assertReject(wire, pdu, rejectHeader({ csg: 0, itt, statSn: (first.bhs.readUInt32BE(24) + 1) >>> 0, cmdSn, statusClass: 2, statusDetail: 1 }));
  });

  it('a wrong user and a wrong secret get the same bytes: the reject does not say which part failed', async () => {
    const headers: string[] = [];
    for (const [user, secret] of [[CHAP.user, 'not-the-secret'], ['not-the-user', CHAP.secret]] as const) {
      const round = await toChallenge();
      const { itt, cmdSn } = round.wire.login(0, 1, true, [['CHAP_N', user], ['CHAP_R', md5Response(round.id, secret, round.challenge)]]);
      const pdu = await round.wire.next();
      const expected = rejectHeader({ csg: 0, itt, statSn: round.statSn, cmdSn, statusClass: 2, statusDetail: 1 });
      await assertReject(round.wire, pdu, expected);
      // StatSN starts at a random value per connection: compare the rest.
      headers.push(Buffer.concat([pdu.bhs.subarray(0, 24), pdu.bhs.subarray(28)]).toString('hex'));
    }
    assert.equal(headers[0], headers[1]);
  });

  it('an initiator not on the allow-list: 0x0202; an unknown target: 0x0203; no keys either way', async () => {
    for (const [target, detail] of [[ACL_IQN, 2], ['iqn.2026-11.org.diskless.test:no-such-target', 3]] as const) {
      const wire = await Wire.open(server.port);
      const { itt, cmdSn } = wire.login(0, 1, true, [['InitiatorName', INITIATOR], ['TargetName', target], ['SessionType', 'Normal'], ['AuthMethod', 'None']]);
      const pdu = await wire.next();
      await assertReject(wire, pdu, rejectHeader({ csg: 0, itt, statSn: pdu.bhs.readUInt32BE(24), cmdSn, statusClass: 2, statusDetail: detail }));
    }
  });

  it('NSG is 0 in a reject (T=0: NSG reserved, RFC 7143 11.12.3; reserved fields sent as 0, RFC 7143 section 11)', async () => {
    const wire = await Wire.open(server.port);
    wire.login(0, 1, true, [['InitiatorName', INITIATOR], ['TargetName', CHAP_IQN], ['SessionType', 'Normal'], ['AuthMethod', 'None']]);
    const pdu = await wire.next();
    assert.equal((pdu.bhs[1] ?? 0xff) & 0x03, 0, `byte 1 is 0x${(pdu.bhs[1] ?? 0).toString(16).padStart(2, '0')}`);
    await wire.closedWith();
  });
});
