// Security under hostile input (issue 8): CHAP and mutual CHAP cannot be bypassed, replayed or
// confused; per-initiator ACLs hold for login and discovery; secrets never reach logs or API
// answers; TFTP and HTTP /files/ stay inside their roots; every mutating API route needs the
// token; DHCP keeps serving a known machine while flooded with random MACs (network
// namespaces dl-sec-*, root only).
import assert from 'node:assert/strict';
import { createSocket } from 'node:dgram';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { TestContext } from 'node:test';
import { RawInitiator } from '../helpers/initiator.ts';
import { IscsiClient, LoginFailed, loginStep } from '../helpers/iscsi-client.ts';
import { startLoggedServer, type LoggedServer } from '../helpers/logged-server.ts';
import { patternedImage } from '../helpers/server.ts';
import { spawnServer, type ServerChild } from '../helpers/server-child.ts';
import { hasTool, needTools, run } from '../helpers/tools.ts';
import { chapResponse, decodeChapBinary, encodeChapBinary } from '../../src/iscsi/chap.ts';
import { encodeTextKeys } from '../../src/iscsi/text-keys.ts';
import type { LoginResponse } from '../../src/iscsi/pdu/types.ts';
import { API_ROUTES } from '../../src/http/api-schemas.ts';
import { encodeClientPacket } from '../../src/tftp/wire-client.ts';
import { decodeServerPacket } from '../../src/tftp/wire.ts';

const CHAP_IQN = 'iqn.2026-11.org.diskless.sec:chap';
const MUTUAL_IQN = 'iqn.2026-11.org.diskless.sec:mutual';
const ACL_A = 'iqn.2026-11.org.diskless.sec:only-a';
const ACL_B = 'iqn.2026-11.org.diskless.sec:only-b';
/** Its allow-list entry is typed in upper case: the same iSCSI name as INIT_C (RFC 3722). */
const ACL_C = 'iqn.2026-11.org.diskless.sec:only-c';
const OPEN_IQN = 'iqn.2026-11.org.diskless.sec:open';
const INIT_A = 'iqn.2026-11.org.diskless.sec:initiator-a';
const INIT_B = 'iqn.2026-11.org.diskless.sec:initiator-b';
const INIT_C = 'iqn.2026-11.org.diskless.sec:initiator-c';
const CHAP = { user: 'sec-user', secret: 'S3cret-initiator-7f1c' };
const MUTUAL = { user: 'sec-target', secret: 'S3cret-target-91ab0' };
const API_TOKEN = 'T0ken-for-the-api-5e5e5e5e';
/** A file just outside the boot root: no TFTP or HTTP request may ever return it. */
const OUTSIDE = 'OUTSIDE-THE-ROOT-4b1d';

/** Every secret the server knows in this file: none may show up in a log line or an API answer. */
const SECRETS = [CHAP.secret, MUTUAL.secret, API_TOKEN];

const isid = (n: number): Buffer => Buffer.from([0x80, 0, 0, 0, 0x5e, n & 0xff]);
const status = (r: LoginResponse): string => `${r.statusClass}/${r.statusDetail}`;

let s: LoggedServer;
const apiSecrets: string[] = [];

before(async () => {
  s = await startLoggedServer((dir) => {
    const disk = (name: string): string => {
      const path = join(dir, `${name}.img`);
      patternedImage(path, 1024 * 1024, name.length);
      return path;
    };
    const boot = join(dir, 'boot');
    mkdirSync(join(boot, 'sub'), { recursive: true });
    writeFileSync(join(boot, 'inside.txt'), 'inside the root\n');
    writeFileSync(join(boot, 'sub', 'nested.txt'), 'nested\n');
    writeFileSync(join(dir, 'outside.txt'), OUTSIDE);
    symlinkSync(join(dir, 'outside.txt'), join(boot, 'escape-abs'));
    symlinkSync('../outside.txt', join(boot, 'escape-rel'));
    symlinkSync(dir, join(boot, 'escape-dir'));
    return {
      http: { apiToken: API_TOKEN },
      tftp: { enabled: true, port: 0, root: boot },
      targets: [
        { iqn: CHAP_IQN, luns: [{ lun: 0, path: disk('chap') }], chap: CHAP },
        { iqn: MUTUAL_IQN, luns: [{ lun: 0, path: disk('mutual') }], chap: CHAP, mutualChap: MUTUAL },
        { iqn: ACL_A, luns: [{ lun: 0, path: disk('a') }, { lun: 1, path: disk('a1') }], initiators: [INIT_A] },
        { iqn: ACL_B, luns: [{ lun: 0, path: disk('b') }], initiators: [INIT_B], chap: CHAP },
        { iqn: ACL_C, luns: [{ lun: 0, path: disk('c') }], initiators: [INIT_C.toUpperCase()] },
        { iqn: OPEN_IQN, luns: [{ lun: 0, path: disk('open') }] },
      ],
    };
  });
});
after(async () => s?.stop());

// --- CHAP ----------------------------------------------------------------------------------

interface ChapRound {
  readonly raw: RawInitiator;
  readonly isid: Buffer;
  readonly id: number;
  readonly challenge: Buffer;
}

/** Security stage up to the target's challenge (AuthMethod, then CHAP_A=5). */
async function startChap(target: string, n: number, initiator = 'iqn.2026-11.org.diskless.sec:chap-client'): Promise<ChapRound> {
  const raw = await RawInitiator.connect(s.server.iscsiPort);
  let r = await loginStep(raw, { csg: 0, nsg: 1, transit: false, isid: isid(n), keys: [['InitiatorName', initiator], ['TargetName', target], ['SessionType', 'Normal'], ['AuthMethod', 'CHAP']] });
  assert.equal(status(r), '0/0', 'AuthMethod=CHAP accepted');
  r = await loginStep(raw, { csg: 0, nsg: 1, transit: false, isid: isid(n), keys: [['CHAP_A', '5']] });
  assert.equal(status(r), '0/0');
  const keys = raw.keysOf(r);
  const challenge = decodeChapBinary(keys.get('CHAP_C') ?? '');
  assert.ok(challenge !== null && challenge.length >= 16, 'a challenge of at least 16 bytes');
  return { raw, isid: isid(n), id: Number(keys.get('CHAP_I')), challenge };
}

/** The target refused the login (class 2) and closed; nothing after it is processed. */
async function assertRefused(raw: RawInitiator, r: LoginResponse, details: readonly number[] = [1]): Promise<void> {
  assert.equal(r.statusClass, 2, `expected an initiator-error class status, got ${status(r)}`);
  assert.ok(details.includes(r.statusDetail), `status detail (0: malformed, 1: authentication failure, 2: authorization failure): expected ${details.join(' or ')}, got ${status(r)}`);
  assert.equal(r.transit, false, 'a failed login never transits');
  assert.equal(r.tsih, 0, 'no session handle for a failed login');
  // RFC 7143 11.13.5 and 12.1.3: a login reject is its status; no keys that would say which part
  // of the security negotiation failed (no AuthMethod=Reject, CHAP_A=Reject, CHAP_R).
  assert.equal(r.data.length, 0, `a login reject carries no text keys, got ${JSON.stringify(r.data.toString('latin1'))}`);
  // A SCSI command sent anyway is never answered: the connection is gone.
  raw.send({
    kind: 'scsi-command', immediate: false, final: true, read: true, write: false, taskAttribute: 1, lun: 0n, initiatorTaskTag: 99,
    expectedDataTransferLength: 512, cmdSn: raw.cmdSn, expStatSn: raw.expStatSn, cdb: Buffer.from([0x28, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0]), ahs: Buffer.alloc(0), data: Buffer.alloc(0),
  });
  const after = await raw.next(1500);
  assert.ok(after === null || (after.kind !== 'data-in' && after.kind !== 'scsi-response'), `a refused login must not serve I/O, got ${after?.kind}`);
  assert.ok(await raw.waitClosed(3000), 'the target closes the connection after a failed login');
  raw.close();
}

describe('CHAP cannot be bypassed', () => {
  test('the right secret logs in (control) and reads the disk', async () => {
    const client = await IscsiClient.connect(s.server.iscsiPort, { target: CHAP_IQN, chap: CHAP, isid: isid(1) });
    const r = await client.read(0, 1);
    assert.equal(r.status, 0);
    client.close();
  });

  test('a first request in the operational stage (CSG=1, NSG=3) is refused', async () => {
    const raw = await RawInitiator.connect(s.server.iscsiPort);
    const r = await loginStep(raw, { csg: 1, nsg: 3, transit: true, isid: isid(2), keys: [['InitiatorName', 'iqn.2026-11.org.diskless.sec:x'], ['TargetName', CHAP_IQN], ['SessionType', 'Normal']] });
    await assertRefused(raw, r);
  });

  test('security stage straight to full feature (CSG=0, NSG=3, T=1) without a CHAP exchange is refused', async () => {
    for (const method of ['None', 'CHAP', 'CHAP,None', 'None,CHAP']) {
      const raw = await RawInitiator.connect(s.server.iscsiPort);
      const r = await loginStep(raw, { csg: 0, nsg: 3, transit: true, isid: isid(3), keys: [['InitiatorName', 'iqn.2026-11.org.diskless.sec:x'], ['TargetName', CHAP_IQN], ['AuthMethod', method]] });
      if (r.statusClass === 0) {
        // The target may answer AuthMethod=CHAP, but it must not transit before the exchange.
        assert.equal(r.transit, false, `AuthMethod=${method}: the target transited without CHAP`);
        // Jumping to the operational stage now is an authentication failure.
        const jump = await loginStep(raw, { csg: 1, nsg: 3, transit: true, isid: isid(3), keys: [['HeaderDigest', 'None']] });
        await assertRefused(raw, jump);
      } else {
        await assertRefused(raw, r);
      }
    }
  });

  test('leaving the security stage after the challenge but before CHAP_R is refused', async () => {
    const round = await startChap(CHAP_IQN, 4);
    const r = await loginStep(round.raw, { csg: 1, nsg: 3, transit: true, isid: isid(4), keys: [['HeaderDigest', 'None']] });
    await assertRefused(round.raw, r);
    // And T=1 with the CHAP_N but no CHAP_R.
    const again = await startChap(CHAP_IQN, 5);
    const r2 = await loginStep(again.raw, { csg: 0, nsg: 3, transit: true, isid: isid(5), keys: [['CHAP_N', CHAP.user]] });
    await assertRefused(again.raw, r2);
  });

  test('a wrong secret, a wrong user, and an empty response are refused', async () => {
    const cases: Array<[string, (round: ChapRound) => Array<[string, string]>]> = [
      ['wrong secret', (c) => [['CHAP_N', CHAP.user], ['CHAP_R', encodeChapBinary(chapResponse(c.id, 'not-the-secret', c.challenge))]]],
      ['wrong user', (c) => [['CHAP_N', 'someone-else'], ['CHAP_R', encodeChapBinary(chapResponse(c.id, CHAP.secret, c.challenge))]]],
      ['wrong id', (c) => [['CHAP_N', CHAP.user], ['CHAP_R', encodeChapBinary(chapResponse((c.id + 1) & 0xff, CHAP.secret, c.challenge))]]],
      ['zeros', () => [['CHAP_N', CHAP.user], ['CHAP_R', `0x${'00'.repeat(16)}`]]],
      ['empty', () => [['CHAP_N', CHAP.user], ['CHAP_R', '']]],
    ];
    let n = 10;
    for (const [name, keys] of cases) {
      const round = await startChap(CHAP_IQN, n++);
      const r = await loginStep(round.raw, { csg: 0, nsg: 1, transit: true, isid: round.isid, keys: keys(round) });
      await assertRefused(round.raw, r).catch((err: Error) => assert.fail(`${name}: ${err.message}`));
    }
  });

  test('a CHAP response recorded from an earlier login does not replay: every login gets a fresh challenge', async () => {
    // A login an eavesdropper watches: challenge C1 and the right response R1.
    const watched = await startChap(CHAP_IQN, 20);
    const recorded: Array<[string, string]> = [['CHAP_N', CHAP.user], ['CHAP_R', encodeChapBinary(chapResponse(watched.id, CHAP.secret, watched.challenge))]];
    const ok = await loginStep(watched.raw, { csg: 0, nsg: 1, transit: true, isid: isid(20), keys: recorded });
    assert.equal(status(ok), '0/0', 'the watched login succeeds');
    watched.raw.close();
    // The eavesdropper replays R1 on new logins: refused each time, and no challenge repeats.
    const seen = new Set([watched.challenge.toString('hex')]);
    for (let i = 0; i < 8; i++) {
      const round = await startChap(CHAP_IQN, 21 + i);
      assert.ok(!seen.has(round.challenge.toString('hex')), 'a challenge was reused');
      seen.add(round.challenge.toString('hex'));
      const r = await loginStep(round.raw, { csg: 0, nsg: 1, transit: true, isid: isid(21 + i), keys: recorded });
      // Only a replay whose id and challenge both happen to match could pass (2^-136).
      await assertRefused(round.raw, r);
    }
  });

  test('an unsupported CHAP algorithm (CHAP_A=6, 7, garbage, huge) is refused; a list with 5 is accepted', async () => {
    for (const [n, algorithm] of [[30, '6'], [31, '7,6'], [32, 'md5'], [33, ''], [34, '0x5'], [35, `${'9,'.repeat(2000)}9`]] as const) {
      // A value over 255 bytes is malformed text (RFC 7143 6.1): 0x0200 instead of 0x0201.
      const details = algorithm.length > 255 ? [0] : [1];
      const raw = await RawInitiator.connect(s.server.iscsiPort);
      let r = await loginStep(raw, { csg: 0, nsg: 1, transit: false, isid: isid(n), keys: [['InitiatorName', 'iqn.2026-11.org.diskless.sec:x'], ['TargetName', CHAP_IQN], ['AuthMethod', 'CHAP']] });
      assert.equal(status(r), '0/0');
      r = await loginStep(raw, { csg: 0, nsg: 1, transit: false, isid: isid(n), keys: [['CHAP_A', algorithm]] });
      assert.ok(!raw.keysOf(r).has('CHAP_C'), `CHAP_A=${algorithm.slice(0, 20)}: no challenge may be issued`);
      await assertRefused(raw, r, details).catch((err: Error) => assert.fail(`CHAP_A=${algorithm.slice(0, 20)}: ${err.message}`));
    }
    const listed = await startChap(CHAP_IQN, 36);
    listed.raw.close();
  });

  test('oversized, odd-length and malformed CHAP_R values are refused without harm', async () => {
    const good = (c: ChapRound): Buffer => chapResponse(c.id, CHAP.secret, c.challenge);
    const cases: Array<[string, (c: ChapRound) => string]> = [
      ['17 bytes', (c) => encodeChapBinary(Buffer.concat([good(c), Buffer.from([0])]))],
      ['15 bytes', (c) => encodeChapBinary(good(c).subarray(0, 15))],
      // A digit dropped so that the value changes (a leading 0 nibble would keep it: see below).
      ['odd hex digits', (c) => (good(c).toString('hex').startsWith('0') ? `0x${good(c).toString('hex').slice(3)}` : `0x${good(c).toString('hex').slice(1)}`)],
      ['not hex', () => `0x${'zz'.repeat(16)}`],
      ['no prefix', (c) => good(c).toString('hex')],
      ['bad base64', () => '0b!!!!'],
      ['8 KiB of hex', () => `0x${'ab'.repeat(4096)}`],
      ['60 KiB of hex', () => `0x${'ab'.repeat(30000)}`],
    ];
    let n = 40;
    for (const [name, value] of cases) {
      const round = await startChap(CHAP_IQN, n++);
      const text = value(round);
      const r = await loginStep(round.raw, { csg: 0, nsg: 1, transit: true, isid: round.isid, keys: [['CHAP_N', CHAP.user], ['CHAP_R', text]] });
      // Binary values over 1024 bytes (RFC 7143 5.1) fail as malformed text: 0x0200.
      await assertRefused(round.raw, r, text.length > 2 + 2048 ? [0, 1] : [1]).catch((err: Error) => assert.fail(`CHAP_R ${name}: ${err.message}`));
    }
    // An odd number of hex digits is a valid encoding (RFC 7143 5.1: implied leading zero):
    // when the response's first nibble is 0 it still logs in. Seek such a challenge.
    let oddTried = false;
    for (let i = 0; i < 200 && !oddTried; i++) {
      const round = await startChap(CHAP_IQN, 60);
      const response = good(round);
      if ((response[0] ?? 0xff) >= 0x10) {
        round.raw.close();
        continue;
      }
      const r = await loginStep(round.raw, { csg: 0, nsg: 1, transit: true, isid: isid(60), keys: [['CHAP_N', CHAP.user], ['CHAP_R', `0x${response.toString('hex').slice(1)}`]] });
      assert.equal(status(r), '0/0', 'odd-length hex with an implied leading zero is the same value');
      round.raw.close();
      oddTried = true;
    }
    assert.ok(oddTried, 'no challenge gave a response starting with a zero nibble in 200 logins');
    // A login PDU over 64 KiB is not even parsed: the connection closes.
    const round = await startChap(CHAP_IQN, 61);
    round.raw.send({
      kind: 'login-request', transit: true, continue: false, csg: 0, nsg: 1, versionMax: 0, versionMin: 0, isid: isid(61), tsih: 0, initiatorTaskTag: 1, cid: 0,
      cmdSn: round.raw.cmdSn, expStatSn: round.raw.expStatSn, data: encodeTextKeys([['CHAP_N', CHAP.user], ['CHAP_R', `0x${'cd'.repeat(70000)}`]]),
    });
    const reply = await round.raw.next(3000);
    assert.ok(reply === null || (reply.kind === 'login-response' && reply.statusClass !== 0), `an oversized login PDU got ${reply?.kind}`);
    assert.ok(await round.raw.waitClosed(3000));
  });

  test('mutual CHAP: the target answers only with its own secret, and only after the initiator proved itself', async () => {
    // Control: the client verifies the target's CHAP_R against the configured target secret.
    const client = await IscsiClient.connect(s.server.iscsiPort, { target: MUTUAL_IQN, chap: CHAP, mutual: MUTUAL, isid: isid(70) });
    client.close();
    // An initiator that expects another target secret rejects the target (its answer proves MUTUAL.secret, not this one).
    await assert.rejects(IscsiClient.connect(s.server.iscsiPort, { target: MUTUAL_IQN, chap: CHAP, mutual: { user: MUTUAL.user, secret: 'some-other-target-secret' }, isid: isid(71) }), LoginFailed);
    // The target must not answer a challenge for an initiator that failed its own proof:
    // otherwise anyone could collect (challenge, response) pairs of the target secret.
    const ourChallenge = Buffer.alloc(16, 0x42);
    const round = await startChap(MUTUAL_IQN, 72);
    const r = await loginStep(round.raw, {
      csg: 0, nsg: 1, transit: true, isid: isid(72),
      keys: [['CHAP_N', CHAP.user], ['CHAP_R', encodeChapBinary(chapResponse(round.id, 'wrong', round.challenge))], ['CHAP_I', '1'], ['CHAP_C', encodeChapBinary(ourChallenge)]],
    });
    assert.ok(!raw(r).has('CHAP_R'), 'the target revealed a CHAP_R to an unauthenticated initiator');
    await assertRefused(round.raw, r);
  });

  test('mutual CHAP: bad CHAP_I, oversized or reflected CHAP_C are refused after a correct initiator response', async () => {
    const cases: Array<[string, (c: ChapRound) => Array<[string, string]>]> = [
      ['CHAP_I=256', () => [['CHAP_I', '256'], ['CHAP_C', encodeChapBinary(Buffer.alloc(16, 1))]]],
      ['CHAP_I=-1', () => [['CHAP_I', '-1'], ['CHAP_C', encodeChapBinary(Buffer.alloc(16, 1))]]],
      ['CHAP_I=0x100', () => [['CHAP_I', '0x100'], ['CHAP_C', encodeChapBinary(Buffer.alloc(16, 1))]]],
      ['CHAP_I huge', () => [['CHAP_I', '9'.repeat(5000)], ['CHAP_C', encodeChapBinary(Buffer.alloc(16, 1))]]],
      ['CHAP_C 1025 bytes', () => [['CHAP_I', '3'], ['CHAP_C', encodeChapBinary(Buffer.alloc(1025, 1))]]],
      ['CHAP_C 20000 bytes', () => [['CHAP_I', '3'], ['CHAP_C', encodeChapBinary(Buffer.alloc(20000, 1))]]],
      ['CHAP_C empty', () => [['CHAP_I', '3'], ['CHAP_C', '0x']]],
      ['CHAP_C not hex', () => [['CHAP_I', '3'], ['CHAP_C', '0xqq']]],
      ['CHAP_C reflected', (c) => [['CHAP_I', String(c.id)], ['CHAP_C', encodeChapBinary(c.challenge)]]],
      ['CHAP_I without CHAP_C', () => [['CHAP_I', '3']]],
    ];
    let n = 80;
    for (const [name, extra] of cases) {
      const round = await startChap(MUTUAL_IQN, n++);
      const r = await loginStep(round.raw, {
        csg: 0, nsg: 1, transit: true, isid: round.isid,
        keys: [['CHAP_N', CHAP.user], ['CHAP_R', encodeChapBinary(chapResponse(round.id, CHAP.secret, round.challenge))], ...extra(round)],
      });
      assert.ok(!raw(r).has('CHAP_R'), `${name}: the target answered`);
      const longest = Math.max(...extra(round).map(([, v]) => v.length));
      await assertRefused(round.raw, r, longest > 255 ? [0, 1] : [1]).catch((err: Error) => assert.fail(`${name}: ${err.message}`));
    }
    // Odd-length CHAP_C is a valid value and gets a valid answer.
    const round = await startChap(MUTUAL_IQN, 99);
    const odd = 'abcdef0123456789abcdef0123456789a'; // 33 digits: 17 bytes with a leading 0
    const r = await loginStep(round.raw, {
      csg: 0, nsg: 1, transit: true, isid: isid(99),
      keys: [['CHAP_N', CHAP.user], ['CHAP_R', encodeChapBinary(chapResponse(round.id, CHAP.secret, round.challenge))], ['CHAP_I', '9'], ['CHAP_C', `0x${odd}`]],
    });
    assert.equal(status(r), '0/0');
    const answer = decodeChapBinary(raw(r).get('CHAP_R') ?? '');
    assert.ok(answer?.equals(chapResponse(9, MUTUAL.secret, Buffer.from(`0${odd}`, 'hex'))), 'the target answers the odd-length challenge correctly');
    round.raw.close();
  });
});

function raw(r: LoginResponse): Map<string, string> {
  return new Map(r.data.toString('latin1').split('\0').filter((kv) => kv.includes('=')).map((kv) => [kv.slice(0, kv.indexOf('=')), kv.slice(kv.indexOf('=') + 1)] as [string, string]));
}

// --- access control -------------------------------------------------------------------------

async function sendTargets(initiator: string, value: string, n: number): Promise<string[]> {
  const raw = await RawInitiator.connect(s.server.iscsiPort);
  const r = await loginStep(raw, { csg: 1, nsg: 3, transit: true, isid: isid(n), keys: [['InitiatorName', initiator], ['SessionType', 'Discovery']] });
  assert.equal(status(r), '0/0', 'discovery login');
  raw.send({
    kind: 'text-request', immediate: true, final: true, continue: false, lun: 0n, initiatorTaskTag: 5, targetTransferTag: 0xffffffff,
    cmdSn: raw.cmdSn, expStatSn: raw.expStatSn, data: encodeTextKeys([['SendTargets', value]]),
  });
  const text = await raw.next();
  raw.close();
  assert.ok(text?.kind === 'text-response', `SendTargets answer: ${text?.kind}`);
  return text.data.toString('latin1').split('\0').filter((kv) => kv.startsWith('TargetName=')).map((kv) => kv.slice('TargetName='.length));
}

describe('per-initiator access', () => {
  test('an initiator not on the list is refused with 0x0202 (authorization failure); the listed one gets in', async () => {
    const ok = await IscsiClient.connect(s.server.iscsiPort, { target: ACL_A, initiatorName: INIT_A, isid: isid(100) });
    assert.equal((await ok.read(0, 1)).status, 0);
    ok.close();
    for (const [n, who] of [[101, INIT_B], [102, 'iqn.2026-11.org.diskless.sec:initiator-a.evil'], [103, `${INIT_A} `], [104, 'iqn.2026-11.org.diskless.sec:initiator']] as const) {
      const raw = await RawInitiator.connect(s.server.iscsiPort);
      const r = await loginStep(raw, { csg: 0, nsg: 1, transit: true, isid: isid(n), keys: [['InitiatorName', who], ['TargetName', ACL_A], ['AuthMethod', 'None']] });
      await assertRefused(raw, r, [2]);
    }
  });

  test('login and discovery agree on initiator names in another case (RFC 3722: one iSCSI name)', async () => {
    // One comparison (target-directory.ts initiatorAllowed) for both: a spelling that discovery
    // shows a target to may log in to it, and one refused at login does not see it.
    const cases: Array<[number, string, string, boolean]> = [
      [140, INIT_A.toUpperCase(), ACL_A, true],
      [141, INIT_C, ACL_C, true],
      [142, INIT_C.toUpperCase(), ACL_C, true],
      [143, `${INIT_C}x`, ACL_C, false],
      [144, INIT_B.toUpperCase(), ACL_A, false],
    ];
    for (const [n, who, target, allowed] of cases) {
      const seen = (await sendTargets(who, 'All', n)).includes(target);
      const raw = await RawInitiator.connect(s.server.iscsiPort);
      const r = await loginStep(raw, { csg: 0, nsg: 1, transit: true, isid: isid(n), keys: [['InitiatorName', who], ['TargetName', target], ['AuthMethod', 'None']] });
      assert.equal(seen, allowed, `${who} ${allowed ? 'sees' : 'must not see'} ${target} in discovery`);
      if (allowed) {
        assert.equal(status(r), '0/0', `${who} logs in to ${target}`);
        raw.close();
      } else {
        await assertRefused(raw, r, [2]);
      }
    }
    // And a full login with I/O under the upper-case spelling of the allowed name.
    const upper = await IscsiClient.connect(s.server.iscsiPort, { target: ACL_C, initiatorName: INIT_C.toUpperCase(), isid: isid(145) });
    assert.equal((await upper.read(0, 1)).status, 0);
    upper.close();
  });

  test('the right CHAP secret does not help an initiator that is not on the list', async () => {
    await assert.rejects(IscsiClient.connect(s.server.iscsiPort, { target: ACL_B, initiatorName: INIT_A, chap: CHAP, isid: isid(106) }), (err: unknown) => err instanceof LoginFailed && err.statusClass === 2);
    const ok = await IscsiClient.connect(s.server.iscsiPort, { target: ACL_B, initiatorName: INIT_B, chap: CHAP, isid: isid(107) });
    ok.close();
  });

  test('discovery lists only the targets the initiator may log in to (send-targets.ts)', async () => {
    const forA = await sendTargets(INIT_A, 'All', 110);
    assert.ok(forA.includes(ACL_A) && forA.includes(OPEN_IQN), `A sees its own and the open targets: ${forA.join(' ')}`);
    assert.ok(!forA.includes(ACL_B), 'A must not see B');
    const forB = await sendTargets(INIT_B, 'All', 111);
    assert.ok(forB.includes(ACL_B) && !forB.includes(ACL_A), `B: ${forB.join(' ')}`);
    const stranger = await sendTargets('iqn.2026-11.org.diskless.sec:stranger', 'All', 112);
    assert.ok(!stranger.includes(ACL_A) && !stranger.includes(ACL_B) && !stranger.includes(ACL_C), `a stranger sees no ACL target: ${stranger.join(' ')}`);
    // Asking for a hidden target by name does not reveal it either.
    assert.deepEqual(await sendTargets(INIT_A, ACL_B, 113), []);
    assert.deepEqual(await sendTargets(INIT_A, ACL_B.toUpperCase(), 114), []);
  });

  test('a normal session cannot enumerate other targets (SendTargets=All is rejected), LUNs are per target', async () => {
    const client = await IscsiClient.connect(s.server.iscsiPort, { target: ACL_A, initiatorName: INIT_A, isid: isid(115) });
    client.raw.send({
      kind: 'text-request', immediate: true, final: true, continue: false, lun: 0n, initiatorTaskTag: 0x7777, targetTransferTag: 0xffffffff,
      cmdSn: client.raw.cmdSn, expStatSn: client.raw.expStatSn, data: encodeTextKeys([['SendTargets', 'All']]),
    });
    // REPORT LUNS lists this target's two LUNs and nothing of the others.
    const luns = await client.command(Buffer.from([0xa0, 0, 0, 0, 0, 0, 0, 0, 0x10, 0, 0, 0]), { readLength: 4096 });
    assert.equal(luns.status, 0);
    assert.equal(luns.data.readUInt32BE(0), 16, 'two LUNs (8 bytes each)');
    const text = client.unsolicited.find((p) => p.kind === 'text-response');
    assert.ok(text?.kind === 'text-response', 'the Text request was answered');
    assert.equal(text.data.toString('latin1'), 'SendTargets=Reject\0', 'SendTargets=All in a normal session');
    client.close();
  });
});

describe('discovery with CHAP (iscsi.discoveryAuth)', () => {
  let d: LoggedServer;
  const discovery = { user: 'disc-user', secret: 'Disc-secret-0123' };
  before(async () => {
    d = await startLoggedServer((dir) => {
      const path = join(dir, 'd.img');
      patternedImage(path, 1024 * 1024);
      return { iscsi: { discoveryAuth: discovery }, targets: [{ iqn: OPEN_IQN, luns: [{ lun: 0, path }] }] };
    }, 'info');
  });
  after(async () => d?.stop());

  test('a discovery session without CHAP, or with the wrong secret, is refused', async () => {
    const plain = await RawInitiator.connect(d.server.iscsiPort);
    const r = await loginStep(plain, { csg: 1, nsg: 3, transit: true, isid: isid(130), keys: [['InitiatorName', INIT_A], ['SessionType', 'Discovery']] });
    await assertRefused(plain, r);
    const none = await RawInitiator.connect(d.server.iscsiPort);
    const r2 = await loginStep(none, { csg: 0, nsg: 3, transit: true, isid: isid(131), keys: [['InitiatorName', INIT_A], ['SessionType', 'Discovery'], ['AuthMethod', 'None']] });
    await assertRefused(none, r2);
    // The right secret gets in (control).
    const raw = await RawInitiator.connect(d.server.iscsiPort);
    await loginStep(raw, { csg: 0, nsg: 1, transit: false, isid: isid(132), keys: [['InitiatorName', INIT_A], ['SessionType', 'Discovery'], ['AuthMethod', 'CHAP']] });
    const step = await loginStep(raw, { csg: 0, nsg: 1, transit: false, isid: isid(132), keys: [['CHAP_A', '5']] });
    const keys = raw.keysOf(step);
    const challenge = decodeChapBinary(keys.get('CHAP_C') ?? '') ?? Buffer.alloc(0);
    const id = Number(keys.get('CHAP_I'));
    const wrong = await loginStep(raw, { csg: 0, nsg: 1, transit: true, isid: isid(132), keys: [['CHAP_N', discovery.user], ['CHAP_R', encodeChapBinary(chapResponse(id, 'not-it', challenge))]] });
    await assertRefused(raw, wrong);
    const good = await RawInitiator.connect(d.server.iscsiPort);
    await loginStep(good, { csg: 0, nsg: 1, transit: false, isid: isid(133), keys: [['InitiatorName', INIT_A], ['SessionType', 'Discovery'], ['AuthMethod', 'CHAP']] });
    const c = raw.keysOf(await loginStep(good, { csg: 0, nsg: 1, transit: false, isid: isid(133), keys: [['CHAP_A', '5']] }));
    const ok = await loginStep(good, {
      csg: 0, nsg: 1, transit: true, isid: isid(133),
      keys: [['CHAP_N', discovery.user], ['CHAP_R', encodeChapBinary(chapResponse(Number(c.get('CHAP_I')), discovery.secret, decodeChapBinary(c.get('CHAP_C') ?? '') ?? Buffer.alloc(0)))]],
    });
    assert.equal(status(ok), '0/0', 'the discovery secret logs in');
    good.close();
    assert.equal(d.logs().indexOf(discovery.secret), -1, 'the discovery secret is not logged');
  });
});

// --- secrets -------------------------------------------------------------------------------

function api(method: string, path: string, options: { body?: unknown; headers?: Record<string, string> } = {}): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const data = options.body === undefined ? undefined : Buffer.from(JSON.stringify(options.body));
    const req = httpRequest(
      {
        host: '127.0.0.1', port: s.server.httpPort, method, path,
        headers: { ...(data !== undefined ? { 'content-type': 'application/json', 'content-length': String(data.length) } : {}), ...(options.headers ?? {}) },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('latin1') }));
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(data);
  });
}

const auth = { authorization: `Bearer ${API_TOKEN}` };

describe('secrets stay secret', () => {
  test('no secret in any API answer, in /metrics, or in any log line (trace level)', async () => {
    // Exercise the code paths that handle secrets: logins good and bad, targets and machines
    // with CHAP through the API, a machine whose secret the server generates.
    const good = await IscsiClient.connect(s.server.iscsiPort, { target: MUTUAL_IQN, chap: CHAP, mutual: MUTUAL, isid: isid(120) });
    good.close();
    await assert.rejects(IscsiClient.connect(s.server.iscsiPort, { target: CHAP_IQN, chap: { user: CHAP.user, secret: 'wrong-secret-abc' }, isid: isid(121) }));
    const apiChap = { user: 'api-user', secret: 'Api-target-secret-77aa' };
    const apiMutual = { user: 'api-target', secret: 'Api-mutual-secret-88bb' };
    const machineChap = { user: 'pc-sec', secret: 'Machine-secret-99cc' };
    apiSecrets.push(apiChap.secret, apiMutual.secret, machineChap.secret);
    const created = await api('POST', '/api/targets', { headers: auth, body: { iqn: 'iqn.2026-11.org.diskless.sec:api', chap: apiChap, mutualChap: apiMutual, allowedInitiators: [INIT_A] } });
    assert.equal(created.status, 201, created.body);
    const patched = await api('PATCH', '/api/targets/iqn.2026-11.org.diskless.sec:api', { headers: auth, body: { chap: { user: 'api-user', secret: 'Api-target-secret-2-dd' } } });
    apiSecrets.push('Api-target-secret-2-dd');
    assert.equal(patched.status, 200, patched.body);
    // A body that fails validation must not echo the secret back in the error.
    const invalid = await api('POST', '/api/targets', { headers: auth, body: { iqn: 'not-an-iqn', chap: { user: '', secret: 'Echo-me-not-secret-ee' } } });
    apiSecrets.push('Echo-me-not-secret-ee');
    assert.equal(invalid.status, 400);
    const disk = await api('POST', '/api/disks', { headers: auth, body: { name: 'sec-disk', sizeBytes: 1024 * 1024 } });
    assert.equal(disk.status, 201, disk.body);
    const machine = await api('POST', '/api/machines', { headers: auth, body: { mac: '52:54:00:5e:c0:01', name: 'sec-pc', disks: ['sec-disk'] } });
    assert.equal(machine.status, 201, machine.body);
    const withChap = await api('POST', '/api/machines', { headers: auth, body: { mac: '52:54:00:5e:c0:02', name: 'sec-pc2', boot: { kind: 'shell' }, chap: machineChap } });
    assert.equal(withChap.status, 201, withChap.body);
    // The generated secret of sec-pc reaches iPXE in its boot script (that is its purpose: iPXE
    // cannot log in otherwise): that is the one place a secret leaves, to that MAC's script (and,
    // once this server has leased the MAC an address, only to that address: see the DHCP tests
    // below; here DHCP is off and the request comes from this host).
    const script = await api('GET', '/boot.ipxe?mac=52:54:00:5e:c0:01');
    const generated = /set password (\S+)/.exec(script.body)?.[1];
    assert.ok(generated !== undefined && generated.length >= 16, `the boot script carries the machine's CHAP secret:\n${script.body}`);
    apiSecrets.push(generated);
    // It works for a login, so it is the real secret.
    const user = /set username (\S+)/.exec(script.body)?.[1] ?? '';
    const initiator = /set initiator-iqn (\S+)/.exec(script.body)?.[1] ?? 'iqn.2026-11.org.diskless:sec-pc';
    const target = /iscsi:[^ ]*?:(iqn\.[^\s"]+)/.exec(script.body)?.[1] ?? '';
    const own = await IscsiClient.connect(s.server.iscsiPort, { target, initiatorName: initiator, chap: { user, secret: generated }, isid: isid(122) });
    own.close();
    // Another MAC's script does not carry it.
    const other = await api('GET', '/boot.ipxe?mac=52:54:00:5e:c0:03');
    assert.ok(!other.body.includes(generated));

    const answers: Array<[string, string]> = [];
    for (const path of ['/api/targets', '/api/targets/iqn.2026-11.org.diskless.sec:api', `/api/targets/${encodeURIComponent(MUTUAL_IQN)}`, '/api/machines', '/api/machines/sec-pc', '/api/machines/sec-pc2', '/api/disks', '/api/sessions', '/api/events', '/api/leases', '/api/images', '/api/openapi.json', '/metrics', '/api/machines/sec-pc/doctor']) {
      const r = await api('GET', path, { headers: auth });
      answers.push([path, r.body]);
    }
    answers.push(['POST /api/targets', created.body], ['PATCH', patched.body], ['400', invalid.body], ['machine', machine.body], ['machine with chap', withChap.body]);
    for (const secret of [...SECRETS, ...apiSecrets]) {
      for (const [path, body] of answers) assert.ok(!body.includes(secret), `${path} shows a secret (${secret.slice(0, 4)}...)`);
    }
    assert.match(answers.find(([p]) => p === '/api/machines/sec-pc2')?.[1] ?? '', /\[redacted\]/, 'credentials are shown redacted');
    const logs = s.logs();
    assert.ok(logs.length > 1000, 'the server logged (trace level)');
    for (const secret of [...SECRETS, ...apiSecrets]) {
      const at = logs.indexOf(secret);
      assert.equal(at, -1, `a secret (${secret.slice(0, 4)}...) appears in the log: ${logs.slice(Math.max(0, at - 300), at + 50)}`);
    }
  });
});

// --- files ---------------------------------------------------------------------------------

function tftpGet(port: number, filename: string, opcode: 'rrq' | 'wrq' = 'rrq'): Promise<{ data: Buffer; error: string | null }> {
  return new Promise((resolve) => {
    const socket = createSocket('udp4');
    const chunks: Buffer[] = [];
    const finish = (error: string | null): void => {
      clearTimeout(timer);
      socket.close();
      resolve({ data: Buffer.concat(chunks), error });
    };
    const timer = setTimeout(() => finish('timeout'), 3000);
    socket.on('message', (msg, from) => {
      const packet = decodeServerPacket(msg);
      if (packet.kind === 'error') return finish(`${packet.code} ${packet.message}`);
      if (packet.kind === 'oack') return socket.send(encodeClientPacket({ kind: 'ack', block: 0 }), from.port, from.address);
      chunks.push(packet.data);
      socket.send(encodeClientPacket({ kind: 'ack', block: packet.block }), from.port, from.address);
      if (packet.data.length < 512) finish(null);
    });
    socket.send(encodeClientPacket({ kind: opcode, filename, mode: 'octet', options: [] }), port, '127.0.0.1');
  });
}

/** A raw HTTP/1.1 GET: the path goes on the wire exactly as given (no client normalisation). */
function rawHttpGet(port: number, path: string): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    // No half-close: the server answers only while both directions are open.
    const socket = connect(port, '127.0.0.1', () => socket.write(`GET ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n`));
    const chunks: Buffer[] = [];
    socket.on('data', (c: Buffer) => chunks.push(c));
    socket.on('close', () => {
      const text = Buffer.concat(chunks).toString('latin1');
      resolve({ status: Number(/^HTTP\/1\.1 (\d+)/.exec(text)?.[1] ?? 0), text });
    });
    socket.on('error', reject);
  });
}

const ESCAPES = [
  '../outside.txt', '..\\outside.txt', 'sub/../../outside.txt', 'sub/../../../../../../etc/passwd', '/../outside.txt', '....//outside.txt',
  '%2e%2e/outside.txt', '%2e%2e%2foutside.txt', '..%2foutside.txt', '%252e%252e/outside.txt', '..%5coutside.txt', '..%c0%afoutside.txt',
  'escape-abs', 'escape-rel', 'escape-dir/outside.txt', '/etc/passwd', '//etc/passwd', 'sub/./../../outside.txt',
];

describe('TFTP and HTTP stay inside their roots', () => {
  test('TFTP: `..`, backslashes, absolute paths and symlinks out of the root are refused; WRQ is refused', async () => {
    const port = s.server.tftpPort;
    assert.ok(port !== null);
    const inside = await tftpGet(port, 'sub/nested.txt');
    assert.equal(inside.data.toString(), 'nested\n', 'control: a file inside the root');
    const absolute = await tftpGet(port, join(s.dir, 'outside.txt'));
    for (const name of [...ESCAPES, join(s.dir, 'outside.txt'), `${s.dir}/boot/../outside.txt`]) {
      const r = await tftpGet(port, name);
      assert.ok(!r.data.toString('latin1').includes(OUTSIDE), `TFTP ${name} returned the outside file`);
      assert.ok(!r.data.toString('latin1').includes('root:'), `TFTP ${name} returned /etc/passwd`);
      assert.notEqual(r.error, null, `TFTP ${name}: expected an ERROR packet`);
    }
    assert.notEqual(absolute.error, null);
    const wrq = await tftpGet(port, 'new-file.txt', 'wrq');
    assert.notEqual(wrq.error, null, 'a write request must be refused');
  });

  test('HTTP /files/: raw, encoded, double-encoded and symlink escapes never return the outside file', async () => {
    const inside = await rawHttpGet(s.server.httpPort, '/files/sub/nested.txt');
    assert.equal(inside.status, 200, 'control: a file inside the root');
    assert.match(inside.text, /nested/);
    for (const name of [...ESCAPES, encodeURIComponent(join(s.dir, 'outside.txt'))]) {
      const r = await rawHttpGet(s.server.httpPort, `/files/${name}`);
      assert.ok(!r.text.includes(OUTSIDE), `HTTP /files/${name} returned the outside file`);
      assert.ok(!/root:x?:0:0/.test(r.text), `HTTP /files/${name} returned /etc/passwd`);
      assert.ok(r.status >= 400 && r.status < 500, `HTTP /files/${name}: status ${r.status}`);
    }
    // Paths outside /files/ that resolve to it after normalisation.
    for (const path of ['/files/../files/../outside.txt', '/%2e%2e/outside.txt', '/console/../../outside.txt', '/console/%2e%2e/%2e%2e/outside.txt', '/console/../http/server.ts', '/console/%2e%2e/http/server.ts']) {
      const r = await rawHttpGet(s.server.httpPort, path);
      assert.ok(!r.text.includes(OUTSIDE), `HTTP ${path} returned the outside file`);
      assert.ok(!r.text.includes('buildHttpServer'), `HTTP ${path} returned server source`);
    }
  });
});

// --- API token -----------------------------------------------------------------------------

const SAMPLE_PARAMS: Readonly<Record<string, string>> = { ref: 'sec-pc2', name: 'sec-disk', iqn: encodeURIComponent(OPEN_IQN), lun: '0', version: '1', snapshot: 'x' };

/** Method and path of every route the live fastify instance serves (from its route tree). */
function servedRoutes(methods: readonly string[]): Array<{ method: string; path: string }> {
  const out: Array<{ method: string; path: string }> = [];
  for (const method of methods) {
    const tree = s.server.http.printRoutes({ method: method as 'POST', commonPrefix: false });
    const stack: string[] = [];
    for (const line of tree.split('\n')) {
      const match = /^((?:│ {3}| {4})*)[├└]── (\S+)(?: \(([^)]*)\))?/.exec(line);
      if (match === null) continue;
      const depth = (match[1] ?? '').length / 4;
      stack.length = depth;
      const path = (stack[depth - 1] ?? '') + (match[2] ?? '');
      stack.push(path);
      if ((match[3] ?? '').split(', ').includes(method)) out.push({ method, path });
    }
  }
  return out;
}

describe('the API token', () => {
  test('every mutating route refuses a request without the token, with a wrong one, or with it in the URL', async (t) => {
    const mutating = API_ROUTES.filter((r) => r.method !== 'GET');
    assert.ok(mutating.length >= 10, 'the route table lists the changes');
    assert.ok(mutating.every((r) => r.auth), `a mutating route without auth: ${mutating.filter((r) => !r.auth).map((r) => `${r.method} ${r.path}`).join(', ')}`);
    // Probe what the live server really serves, not only the table: a route added without a
    // table entry (its token check would escape openapi.test.ts) is probed too, and named.
    const served = servedRoutes(['POST', 'PUT', 'PATCH', 'DELETE']);
    const unlisted = served.filter((r) => !API_ROUTES.some((a) => a.method === r.method && a.path === r.path));
    if (unlisted.length > 0) t.diagnostic(`served but not in API_ROUTES: ${unlisted.map((r) => `${r.method} ${r.path}`).join(', ')}`);
    for (const r of mutating) assert.ok(served.some((x) => x.method === r.method && x.path === r.path), `${r.method} ${r.path} is in the table but not served`);
    const before = (await api('GET', '/api/targets')).body;
    const wrong = [
      {},
      { authorization: 'Bearer ' },
      { authorization: 'Bearer wrong-token-wrong-token' },
      { authorization: `Bearer ${API_TOKEN.slice(0, -1)}` },
      { authorization: `Bearer ${API_TOKEN}x` },
      { authorization: `bearer ${API_TOKEN}` },
      { authorization: `Basic ${Buffer.from(`x:${API_TOKEN}`).toString('base64')}` },
      { authorization: API_TOKEN },
      { 'x-api-token': API_TOKEN },
    ];
    for (const route of served) {
      const path = route.path.replace(/:(\w+)/g, (_m, p: string) => SAMPLE_PARAMS[p] ?? 'x');
      const body = route.method !== 'DELETE' ? { name: 'x', iqn: 'iqn.2026-11.org.diskless.sec:sneaky', mac: '52:54:00:5e:c0:09', sizeBytes: 1048576, disk: 'sec-disk', boot: { kind: 'shell' } } : undefined;
      for (const headers of wrong) {
        const r = await api(route.method, path, { headers, ...(body !== undefined ? { body } : {}) });
        assert.equal(r.status, 401, `${route.method} ${path} with ${JSON.stringify(Object.keys(headers))}: ${r.status} ${r.body.slice(0, 200)}`);
      }
      const inQuery = await api(route.method, `${path}?token=${API_TOKEN}`, body !== undefined ? { body } : {});
      assert.equal(inQuery.status, 401, `${route.method} ${path}?token= must be refused for changes`);
    }
    assert.equal((await api('GET', '/api/targets')).body, before, 'nothing changed');
    assert.equal((await api('GET', '/api/machines/sec-pc2')).status, 200, 'the machine is still there');
    assert.equal((await api('GET', '/api/disks/sec-disk')).status, 200, 'the disk is still there');
  });
});

// --- DHCP flood ----------------------------------------------------------------------------

const SRV = 'dl-sec-srv';
const CLI = 'dl-sec-cli';
const SERVER_IP = '10.252.0.1';
const KNOWN_MAC = '52:54:00:5e:c0:de';

async function sh(...args: string[]): Promise<string> {
  const r = await run(args[0] ?? 'true', args.slice(1), { timeoutMs: 30000 });
  if (r.code !== 0) throw new Error(`${args.join(' ')} failed (${r.code}): ${r.stderr}`);
  return r.stdout;
}

describe('DHCP under a flood of random MACs', () => {
  let child: ServerChild | null = null;
  let dir = '';
  let netUp = false;
  const ready = (t: TestContext): boolean => {
    if (process.getuid?.() !== 0) {
      process.stderr.write(`skipping "${t.name}": needs root for ip netns\n`);
      t.skip('needs root for ip netns');
      return false;
    }
    return needTools(t, { ip: 'iproute2', perfdhcp: 'kea-admin', busybox: 'busybox' });
  };
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'dl-sec-dhcp-'));
    if (process.getuid?.() !== 0 || !hasTool('ip') || !hasTool('perfdhcp') || !hasTool('busybox')) return;
    for (const ns of [SRV, CLI]) await run('ip', ['netns', 'del', ns]);
    await sh('ip', 'netns', 'add', SRV);
    await sh('ip', 'netns', 'add', CLI);
    netUp = true;
    await sh('ip', '-n', SRV, 'link', 'set', 'lo', 'up');
    await sh('ip', '-n', CLI, 'link', 'set', 'lo', 'up');
    await sh('ip', '-n', SRV, 'link', 'add', 'dl-sec0', 'type', 'veth', 'peer', 'name', 'dl-sec1', 'netns', CLI);
    await sh('ip', '-n', SRV, 'addr', 'add', `${SERVER_IP}/24`, 'dev', 'dl-sec0');
    await sh('ip', '-n', SRV, 'link', 'set', 'dl-sec0', 'up');
    await sh('ip', '-n', CLI, 'link', 'set', 'dl-sec1', 'up');
  });
  after(async () => {
    await child?.stop();
    if (netUp) for (const ns of [SRV, CLI]) await run('ip', ['netns', 'del', ns]);
    rmSync(dir, { recursive: true, force: true });
  });

  test('a known machine keeps getting its lease and boot file while perfdhcp floods with random MACs', { timeout: 60_000 }, async (t) => {
    if (!ready(t)) return;
    child = await spawnServer({
      dataDir: dir, listen: '0.0.0.0', logLevel: 'warn',
      iscsi: { port: 0 }, http: { port: 0 }, tftp: { enabled: false },
      dhcp: { mode: 'full', interface: 'dl-sec0', pool: { first: '10.252.0.100', last: '10.252.0.160' }, leaseSeconds: 600 },
      machines: [{ mac: KNOWN_MAC, name: 'known', boot: { kind: 'shell' } }],
    }, { netns: SRV });
    await sh('ip', '-n', CLI, 'link', 'set', 'dl-sec1', 'address', KNOWN_MAC);
    const script = join(dir, 'udhcpc.sh');
    writeFileSync(script, '#!/bin/sh\n[ "$1" = bound ] && echo "ip=$ip boot_file=$boot_file"\nexit 0\n', { mode: 0o755 });
    const pxeLease = async (): Promise<{ ip: string; bootFile: string; ms: number }> => {
      const started = Date.now();
      const r = await run('ip', ['netns', 'exec', CLI, 'busybox', 'udhcpc', '-i', 'dl-sec1', '-n', '-q', '-f', '-t', '8', '-T', '1', '-s', script,
        '-V', 'PXEClient:Arch:00000:UNDI:002001', '-x', '0x5d:0000', '-O', 'bootfile'], { timeoutMs: 30000 });
      const line = r.stdout.split('\n').find((l) => l.startsWith('ip=')) ?? '';
      return { ip: /ip=(\S*)/.exec(line)?.[1] ?? '', bootFile: /boot_file=(\S*)/.exec(line)?.[1] ?? '', ms: Date.now() - started };
    };
    const first = await pxeLease();
    assert.match(first.ip, /^10\.252\.0\.\d+$/, 'the known machine gets a lease before the flood');
    assert.equal(first.bootFile, 'undionly.kpxe');
    // perfdhcp relays from 10.252.0.2 with random MACs, as fast as it can, for 12 s: far more
    // clients than the pool (61 addresses) can hold.
    await sh('ip', '-n', CLI, 'addr', 'add', '10.252.0.2/24', 'dev', 'dl-sec1');
    const flood = run('ip', ['netns', 'exec', CLI, 'perfdhcp', '-4', '-l', 'dl-sec1', '-r', '3000', '-R', '1000000', '-p', '12', '-t', '3'], { timeoutMs: 40000 });
    await new Promise((r) => setTimeout(r, 2000));
    const during: Array<{ ip: string; bootFile: string; ms: number }> = [];
    for (let i = 0; i < 3; i++) during.push(await pxeLease());
    const perf = await flood;
    await sh('ip', '-n', CLI, 'addr', 'del', '10.252.0.2/24', 'dev', 'dl-sec1');
    const sent = /sent packets: (\d+)/.exec(perf.stdout)?.[1] ?? '?';
    const received = /received packets: (\d+)/.exec(perf.stdout)?.[1] ?? '?';
    t.diagnostic(`flood: perfdhcp sent ${sent} DISCOVERs, got ${received} answers; known machine during the flood: ${during.map((d) => `${d.ip || 'none'} in ${d.ms} ms`).join(', ')}`);
    assert.ok(Number(sent) > 5000, `the flood was real: ${perf.stdout.slice(0, 2000)}`);
    for (const d of during) {
      assert.equal(d.ip, first.ip, 'the known machine keeps its address under the flood');
      assert.equal(d.bootFile, 'undionly.kpxe', 'and its boot answer');
    }
    const afterFlood = await pxeLease();
    assert.equal(afterFlood.ip, first.ip, 'and after it');
    assert.equal(child.child.exitCode, null, 'the server is still running');
  });

  test('a boot script with a CHAP secret goes only to the address the machine leased (http.scriptSecretsTo)', { timeout: 60_000 }, async (t) => {
    if (process.getuid?.() !== 0) {
      t.skip('needs root for ip netns');
      return;
    }
    if (!netUp || !needTools(t, { ip: 'iproute2', busybox: 'busybox', curl: 'curl' })) return;
    await child?.stop();
    const scriptDir = join(dir, 'script');
    mkdirSync(scriptDir, { recursive: true });
    const disk = join(scriptDir, 'pc.img');
    patternedImage(disk, 1024 * 1024);
    const secret = 'Leased-only-secret-3e3e';
    child = await spawnServer({
      dataDir: scriptDir, listen: '0.0.0.0', logLevel: 'info',
      iscsi: { port: 0 }, http: { port: 0 }, tftp: { enabled: false },
      dhcp: { mode: 'full', interface: 'dl-sec0', pool: { first: '10.252.0.100', last: '10.252.0.160' }, leaseSeconds: 600 },
      targets: [{ iqn: 'iqn.2026-11.org.diskless.sec:leased', luns: [{ lun: 0, path: disk }], chap: { user: 'leased', secret } }],
      machines: [{ mac: KNOWN_MAC, name: 'leased', boot: { kind: 'sanboot', disks: [{ target: 'iqn.2026-11.org.diskless.sec:leased' }] } }],
    }, { netns: SRV });
    const url = `http://${SERVER_IP}:${child.httpPort}/boot.ipxe?mac=${KNOWN_MAC}`;
    const curl = async (ns: string, from: string | null): Promise<{ status: number; body: string }> => {
      const r = await run('ip', ['netns', 'exec', ns, 'curl', '-s', '-w', '\n%{http_code}', ...(from !== null ? ['--interface', from] : []), url], { timeoutMs: 15000 });
      const cut = r.stdout.lastIndexOf('\n');
      return { status: Number(r.stdout.slice(cut + 1)), body: r.stdout.slice(0, cut) };
    };
    // Before any lease from this server: served as to anyone (nothing to hold the request to).
    await sh('ip', '-n', CLI, 'addr', 'add', '10.252.0.3/24', 'dev', 'dl-sec1');
    try {
      const before = await curl(CLI, '10.252.0.3');
      assert.equal(before.status, 200, before.body);
      // The machine takes a lease, as its iPXE does before fetching the script.
      await sh('ip', '-n', CLI, 'link', 'set', 'dl-sec1', 'address', KNOWN_MAC);
      const script = join(dir, 'udhcpc-script.sh');
      writeFileSync(script, '#!/bin/sh\n[ "$1" = bound ] && echo "ip=$ip"\nexit 0\n', { mode: 0o755 });
      const got = await run('ip', ['netns', 'exec', CLI, 'busybox', 'udhcpc', '-i', 'dl-sec1', '-n', '-q', '-f', '-t', '8', '-T', '1', '-s', script, '-V', 'PXEClient:Arch:00000:UNDI:002001', '-x', '0x5d:0000'], { timeoutMs: 30000 });
      const leased = /ip=(\S+)/.exec(got.stdout)?.[1] ?? assert.fail(`no lease: ${got.stdout} ${got.stderr}`);
      await sh('ip', '-n', CLI, 'addr', 'add', `${leased}/24`, 'dev', 'dl-sec1');
      try {
        const own = await curl(CLI, leased);
        assert.equal(own.status, 200, `from the leased ${leased}: ${own.body}`);
        assert.match(own.body, new RegExp(`set password ${secret}`));
        const other = await curl(CLI, '10.252.0.3');
        assert.equal(other.status, 403, `from another address of the same network: ${other.body}`);
        assert.match(other.body, /carries its iSCSI CHAP secret/);
        assert.ok(!other.body.includes(secret), 'the 403 does not carry the secret');
        // The server's own host (its namespace) still gets it: operators and tools there.
        const self = await curl(SRV, null);
        assert.equal(self.status, 200, self.body);
        await new Promise((r) => setTimeout(r, 200));
        const logs = child.stderr();
        assert.match(logs, /"level":40[^\n]*boot script refused|boot script refused[^\n]*"level":40/, 'a warn line for the refusal');
        assert.match(logs, /boot script refused[^\n]*"client":"10\.252\.0\.3"|"client":"10\.252\.0\.3"[^\n]*boot script refused/);
        assert.equal(logs.indexOf(secret), -1, 'no secret in the log');
      } finally {
        await run('ip', ['-n', CLI, 'addr', 'del', `${leased}/24`, 'dev', 'dl-sec1']);
      }
    } finally {
      await run('ip', ['-n', CLI, 'addr', 'del', '10.252.0.3/24', 'dev', 'dl-sec1']);
    }
  });
});
