import { createHash } from 'node:crypto';
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import type { ChapCredentials, LoginConfig, LoginState, LoginStep, LoginStepRequest, TargetLoginInfo } from './login.ts';
import { createLogin, step } from './login.ts';
import { loginStatusCode } from './login-status.ts';
import type { KeyValue } from './negotiation.ts';
import { DEFAULT_TARGET_POLICY } from './negotiation.ts';
import { answerSendTargets } from './send-targets.ts';
import { initiatorAllowed, normalizeIscsiName, sameIscsiName, TargetDirectory, type ExportedTarget } from './target-directory.ts';

const INITIATOR = 'iqn.2010-04.org.ipxe:host1';
const OPEN = 'iqn.2024-01.dev.diskless:open';
const CHAP = 'iqn.2024-01.dev.diskless:chap';
const ONEWAY = 'iqn.2024-01.dev.diskless:oneway';
const ACL = 'iqn.2024-01.dev.diskless:acl';
const alice: ChapCredentials = { user: 'alice', secret: 'alice-secret-1' };
const targetCreds: ChapCredentials = { user: 'diskless', secret: 'target-secret-2' };
const discoveryCreds: ChapCredentials = { user: 'disco', secret: 'disco-secret-3' };

const TARGETS: Record<string, TargetLoginInfo> = {
  [OPEN]: { name: OPEN, alias: 'open disk', chap: null, mutualChap: null, allowedInitiators: null },
  [CHAP]: { name: CHAP, chap: alice, mutualChap: targetCreds, allowedInitiators: null },
  [ONEWAY]: { name: ONEWAY, chap: alice, mutualChap: null, allowedInitiators: null },
  [ACL]: { name: ACL, chap: null, mutualChap: null, allowedInitiators: ['iqn.allowed'] },
};

function config(discoveryAuth: ChapCredentials | null = null): LoginConfig {
  return {
    portalGroupTag: 1,
    lookupTarget: (name) => TARGETS[name] ?? null,
    discoveryAuth,
    policy: DEFAULT_TARGET_POLICY,
  };
}

/** A deterministic random source: 0x10, 0x11, 0x12, ... */
function counterRandom(): (n: number) => Buffer {
  let next = 0x10;
  return (n) => Buffer.from(Array.from({ length: n }, () => next++ & 0xff));
}

const ISID = Buffer.from('400001370000', 'hex');

function req(csg: number, nsg: number, transit: boolean, keys: KeyValue[], extra: Partial<LoginStepRequest> = {}): LoginStepRequest {
  return { transit, continue: false, csg, nsg, versionMax: 0, versionMin: 0, isid: ISID, tsih: 0, cid: 0, keys, ...extra };
}

const names = (target: string, sessionType = 'Normal'): KeyValue[] => [
  ['InitiatorName', INITIATOR],
  ['TargetName', target],
  ['SessionType', sessionType],
];

const IPXE_OPERATIONAL: KeyValue[] = [
  ['HeaderDigest', 'None'],
  ['DataDigest', 'None'],
  ['InitialR2T', 'Yes'],
  ['ImmediateData', 'No'],
  ['MaxRecvDataSegmentLength', '8192'],
  ['MaxBurstLength', '262144'],
  ['FirstBurstLength', '65536'],
  ['MaxOutstandingR2T', '1'],
  ['ErrorRecoveryLevel', '0'],
];

function get(keys: KeyValue[], key: string): string | undefined {
  return keys.find(([k]) => k === key)?.[1];
}

/** Runs requests in order; returns every step. */
function run(state: LoginState, ...requests: Array<LoginStepRequest | ((prev: LoginStep) => LoginStepRequest)>): LoginStep[] {
  const steps: LoginStep[] = [];
  let s = state;
  for (const r of requests) {
    const prev = steps[steps.length - 1];
    const request = typeof r === 'function' ? (prev === undefined ? assert.fail('no previous step') : r(prev)) : r;
    const st = step(s, request);
    steps.push(st);
    s = st.state;
  }
  return steps;
}

function last(steps: LoginStep[]): LoginStep {
  const s = steps[steps.length - 1];
  assert.ok(s !== undefined);
  return s;
}

function status(st: LoginStep): number {
  return loginStatusCode({ statusClass: st.response.statusClass, statusDetail: st.response.statusDetail });
}

/** The initiator's CHAP_R, computed independently of chap.ts. */
function md5Response(idText: string, secret: string, challengeHex: string): string {
  const buf = Buffer.concat([Buffer.of(Number(idText)), Buffer.from(secret), Buffer.from(challengeHex.slice(2), 'hex')]);
  return `0x${createHash('md5').update(buf).digest('hex')}`;
}

/** Answer the target's challenge (from the previous response) as `creds`, plus extra keys. */
function chapAnswer(creds: ChapCredentials, extra: KeyValue[] = [], transit = true) {
  return (prev: LoginStep): LoginStepRequest => {
    const id = get(prev.response.keys, 'CHAP_I') ?? assert.fail('no CHAP_I');
    const challenge = get(prev.response.keys, 'CHAP_C') ?? assert.fail('no CHAP_C');
    return req(0, 1, transit, [['CHAP_N', creds.user], ['CHAP_R', md5Response(id, String(creds.secret), challenge)], ...extra]);
  };
}

function chapLogin(target: string, creds: ChapCredentials, mutual: KeyValue[] = [], cfg = config()): LoginStep[] {
  const sessionType = target === '' ? 'Discovery' : 'Normal';
  const first: KeyValue[] = target === '' ? [['InitiatorName', INITIATOR], ['SessionType', 'Discovery']] : names(target, sessionType);
  return run(
    createLogin(cfg, counterRandom()),
    req(0, 1, true, [...first, ['AuthMethod', 'CHAP,None']]),
    req(0, 1, true, [['CHAP_A', '5']]),
    chapAnswer(creds, mutual),
    req(1, 3, true, target === '' ? [['MaxRecvDataSegmentLength', '8192']] : IPXE_OPERATIONAL),
  );
}

describe('login: successful logins', () => {
  it('iPXE without authentication: security (None) → operational → full feature', () => {
    const steps = run(
      createLogin(config(), counterRandom()),
      req(0, 1, true, [...names(OPEN), ['AuthMethod', 'None']]),
      req(1, 3, true, IPXE_OPERATIONAL),
    );
    const [s1, s2] = steps;
    assert.ok(s1 && s2);
    assert.deepEqual(s1.response, {
      transit: true,
      continue: false,
      csg: 0,
      nsg: 1,
      versionMax: 0,
      versionActive: 0,
      statusClass: 0,
      statusDetail: 0,
      keys: [
        ['AuthMethod', 'None'],
        ['TargetPortalGroupTag', '1'],
      ],
    });
    assert.equal(s1.outcome, 'in-progress');
    assert.equal(s2.outcome, 'complete');
    assert.equal(s2.response.transit, true);
    assert.equal(s2.response.nsg, 3);
    assert.deepEqual(s2.response.keys, [
      ['HeaderDigest', 'None'],
      ['DataDigest', 'None'],
      ['InitialR2T', 'Yes'],
      ['ImmediateData', 'No'],
      ['MaxRecvDataSegmentLength', '262144'],
      ['MaxBurstLength', '262144'],
      ['FirstBurstLength', '65536'],
      ['MaxOutstandingR2T', '1'],
      ['ErrorRecoveryLevel', '0'],
      ['TargetAlias', 'open disk'],
    ]);
    const result = s2.result ?? assert.fail('no result');
    assert.equal(result.sessionType, 'Normal');
    assert.equal(result.initiatorName, INITIATOR);
    assert.equal(result.targetName, OPEN);
    assert.deepEqual(result.isid, ISID);
    assert.equal(result.tsih, 0);
    assert.equal(result.params.maxRecvDataSegmentLengthInitiator, 8192);
    assert.equal(result.params.maxRecvDataSegmentLengthTarget, 262144);
    assert.equal(result.params.immediateData, false);
    assert.equal(result.params.initialR2T, true);
  });

  it('libiscsi style: straight into the operational stage, one request', () => {
    const st = last(
      run(
        createLogin(config(), counterRandom()),
        req(1, 3, true, [
          ...names(OPEN),
          ['InitiatorAlias', 'box'],
          ['HeaderDigest', 'CRC32C,None'],
          ['DataDigest', 'None,CRC32C'],
          ['InitialR2T', 'No'],
          ['ImmediateData', 'Yes'],
          ['MaxBurstLength', '262144'],
          ['FirstBurstLength', '262144'],
          ['MaxRecvDataSegmentLength', '262144'],
          ['DataPDUInOrder', 'Yes'],
          ['DataSequenceInOrder', 'Yes'],
        ]),
      ),
    );
    assert.equal(st.outcome, 'complete');
    assert.equal(get(st.response.keys, 'TargetPortalGroupTag'), '1');
    assert.equal(get(st.response.keys, 'HeaderDigest'), 'CRC32C');
    assert.equal(get(st.response.keys, 'DataDigest'), 'None');
    const p = st.result?.params ?? assert.fail('no params');
    assert.equal(p.headerDigest, true);
    assert.equal(p.initialR2T, false);
    assert.equal(p.immediateData, true);
    assert.equal(p.firstBurstLength, 262144);
    assert.equal(st.result?.initiatorAlias, 'box');
  });

  it('security stage straight to full feature declares MaxRecvDataSegmentLength', () => {
    const st = last(run(createLogin(config(), counterRandom()), req(0, 3, true, [...names(OPEN), ['AuthMethod', 'None']])));
    assert.equal(st.outcome, 'complete');
    assert.equal(get(st.response.keys, 'MaxRecvDataSegmentLength'), '262144');
  });

  it('one-way CHAP', () => {
    const steps = chapLogin(CHAP, alice);
    const [s1, s2, s3, s4] = steps;
    assert.ok(s1 && s2 && s3 && s4);
    // The target may not leave the security stage before CHAP is done.
    assert.equal(s1.response.transit, false);
    assert.deepEqual(s1.response.keys, [
      ['AuthMethod', 'CHAP'],
      ['TargetPortalGroupTag', '1'],
    ]);
    assert.equal(s2.response.transit, false);
    assert.deepEqual(s2.response.keys, [
      ['CHAP_A', '5'],
      ['CHAP_I', '16'],
      ['CHAP_C', '0x1112131415161718191a1b1c1d1e1f20'],
    ]);
    assert.equal(s3.response.transit, true);
    assert.equal(s3.response.nsg, 1);
    assert.deepEqual(s3.response.keys, []);
    assert.equal(s4.outcome, 'complete');
    assert.equal(s4.result?.chapUser, 'alice');
  });

  it('mutual CHAP: the target answers the initiator challenge', () => {
    const challenge = '0xa0a1a2a3a4a5a6a7a8a9aaabacadaeaf';
    const steps = chapLogin(CHAP, alice, [['CHAP_I', '77'], ['CHAP_C', challenge]]);
    const s3 = steps[2] ?? assert.fail();
    assert.equal(status(s3), 0);
    assert.deepEqual(s3.response.keys, [
      ['CHAP_N', 'diskless'],
      ['CHAP_R', md5Response('77', 'target-secret-2', challenge)],
    ]);
    assert.equal(last(steps).outcome, 'complete');
  });

  it('a CHAP target with mutual credentials does not force mutual CHAP', () => {
    assert.equal(last(chapLogin(CHAP, alice)).outcome, 'complete');
  });

  it('CHAP_A offered in the same request as AuthMethod', () => {
    const st = last(run(createLogin(config(), counterRandom()), req(0, 1, true, [...names(CHAP), ['AuthMethod', 'CHAP'], ['CHAP_A', '7,5']])));
    assert.equal(get(st.response.keys, 'AuthMethod'), 'CHAP');
    assert.equal(get(st.response.keys, 'CHAP_A'), '5');
  });

  it('libiscsi repeats InitiatorName/TargetName/SessionType in the operational stage', () => {
    const steps = run(
      createLogin(config(), counterRandom()),
      req(0, 1, true, [...names(CHAP), ['AuthMethod', 'CHAP,None']]),
      req(0, 1, true, [['CHAP_A', '5']]),
      chapAnswer(alice),
      req(1, 3, true, [...names(CHAP), ['MaxRecvDataSegmentLength', '262144']]),
    );
    assert.equal(last(steps).outcome, 'complete');
  });

  it('discovery session without authentication: no TPGT, session keys Irrelevant', () => {
    const steps = run(
      createLogin(config(), counterRandom()),
      req(0, 1, true, [['InitiatorName', INITIATOR], ['SessionType', 'Discovery'], ['AuthMethod', 'None']]),
      req(1, 3, true, [['HeaderDigest', 'None'], ['MaxRecvDataSegmentLength', '32768'], ['MaxBurstLength', '262144']]),
    );
    const [s1, s2] = steps;
    assert.ok(s1 && s2);
    assert.deepEqual(s1.response.keys, [['AuthMethod', 'None']]);
    assert.deepEqual(s2.response.keys, [
      ['HeaderDigest', 'None'],
      ['MaxRecvDataSegmentLength', '262144'],
      ['MaxBurstLength', 'Irrelevant'],
    ]);
    assert.equal(s2.outcome, 'complete');
    assert.equal(s2.result?.sessionType, 'Discovery');
    assert.equal(s2.result?.targetName, undefined);
  });

  it('discovery session with discovery CHAP', () => {
    const cfg = config(discoveryCreds);
    assert.equal(last(chapLogin('', discoveryCreds, [], cfg)).outcome, 'complete');
    const wrong = chapLogin('', alice, [], cfg);
    assert.equal(status(wrong[2] ?? assert.fail()), 0x0201);
    const none = last(run(createLogin(cfg, counterRandom()), req(0, 1, true, [['InitiatorName', INITIATOR], ['SessionType', 'Discovery'], ['AuthMethod', 'None']])));
    assert.equal(status(none), 0x0201);
  });

  it('C bit: a continued request gets an empty response, the keys are used with the last one', () => {
    const steps = run(
      createLogin(config(), counterRandom()),
      req(1, 0, false, names(OPEN), { continue: true }),
      req(1, 3, true, [['MaxRecvDataSegmentLength', '8192']]),
    );
    const [s1, s2] = steps;
    assert.ok(s1 && s2);
    assert.equal(s1.outcome, 'in-progress');
    assert.deepEqual(s1.response.keys, []);
    assert.equal(s1.response.transit, false);
    assert.equal(s2.outcome, 'complete');
  });

  it('the target waits when the initiator does not ask to transit', () => {
    const steps = run(
      createLogin(config(), counterRandom()),
      req(0, 0, false, [...names(OPEN), ['AuthMethod', 'None']]),
      req(0, 1, true, []),
      req(1, 0, false, [['MaxRecvDataSegmentLength', '8192']]),
      req(1, 3, true, []),
    );
    assert.deepEqual(
      steps.map((s) => [s.response.transit, s.outcome]),
      [
        [false, 'in-progress'],
        [true, 'in-progress'],
        [false, 'in-progress'],
        [true, 'complete'],
      ],
    );
  });

  it('unknown keys are answered NotUnderstood', () => {
    const st = last(run(createLogin(config(), counterRandom()), req(1, 3, true, [...names(OPEN), ['X-com.example.Thing', '1']])));
    assert.equal(st.outcome, 'complete');
    assert.equal(get(st.response.keys, 'X-com.example.Thing'), 'NotUnderstood');
  });
});

describe('login: failures', () => {
  const open = (): LoginState => createLogin(config(), counterRandom());
  // [name, requests, expected status, expected keys in the failing response]. A login reject
  // carries none: RFC 7143 12.1.3 answers with "a Login reject with 'Authentication Failure'
  // status", not with AuthMethod=Reject or CHAP_A=Reject (see failed() in login.ts).
  const table: Array<[string, Array<LoginStepRequest | ((p: LoginStep) => LoginStepRequest)>, number, KeyValue[]?]> = [
    ['missing InitiatorName', [req(0, 1, true, [['TargetName', OPEN], ['AuthMethod', 'None']])], 0x0207],
    ['missing TargetName (Normal)', [req(0, 1, true, [['InitiatorName', INITIATOR], ['AuthMethod', 'None']])], 0x0207],
    ['unknown target', [req(0, 1, true, [...names('iqn.nope'), ['AuthMethod', 'None']])], 0x0203],
    ['initiator not allowed', [req(0, 1, true, [...names(ACL), ['AuthMethod', 'None']])], 0x0202],
    ['unsupported SessionType', [req(0, 1, true, [...names(OPEN, 'Bogus'), ['AuthMethod', 'None']])], 0x0209],
    ['VersionMin above 0', [req(0, 1, true, [...names(OPEN)], { versionMin: 1, versionMax: 2 })], 0x0205],
    ['CSG 3', [req(3, 3, true, names(OPEN))], 0x0200],
    ['CSG 2', [req(2, 3, true, names(OPEN))], 0x0200],
    ['NSG 2', [req(0, 2, true, names(OPEN))], 0x0200],
    ['NSG lower than CSG', [req(1, 0, true, names(OPEN))], 0x0200],
    ['operational to operational', [req(1, 1, true, names(OPEN))], 0x0200],
    ['T and C both set', [req(1, 3, true, names(OPEN), { continue: true })], 0x0200],
    ['key negotiated twice', [req(0, 1, true, [...names(OPEN), ['AuthMethod', 'None'], ['MaxBurstLength', '512']]), req(1, 3, true, [['MaxBurstLength', '512']])], 0x0200],
    ['ISID changes', [req(0, 1, true, [...names(OPEN), ['AuthMethod', 'None']]), req(1, 3, true, [], { isid: Buffer.alloc(6) })], 0x0200],
    ['wrong stage after transit', [req(0, 1, true, [...names(OPEN), ['AuthMethod', 'None']]), req(0, 1, true, [])], 0x0200],
    ['security key in operational stage', [req(1, 3, true, [...names(OPEN), ['AuthMethod', 'None']])], 0x0200],
    ['InitiatorName changed', [req(0, 1, true, [...names(OPEN), ['AuthMethod', 'None']]), req(1, 3, true, [['InitiatorName', 'iqn.other']])], 0x0200],
    // CHAP cannot be bypassed
    ['CHAP target entered at the operational stage', [req(1, 3, true, names(CHAP))], 0x0201],
    ['CHAP target without AuthMethod', [req(0, 1, true, names(CHAP))], 0x0201],
    ['CHAP target, AuthMethod=None', [req(0, 1, true, [...names(CHAP), ['AuthMethod', 'None']])], 0x0201, []],
    ['non-CHAP target, AuthMethod=CHAP only', [req(0, 1, true, [...names(OPEN), ['AuthMethod', 'CHAP']])], 0x0201, []],
    ['jump to operational after AuthMethod=CHAP', [req(0, 1, true, [...names(CHAP), ['AuthMethod', 'CHAP']]), req(1, 3, true, IPXE_OPERATIONAL)], 0x0201],
    ['no CHAP_A after AuthMethod=CHAP', [req(0, 1, true, [...names(CHAP), ['AuthMethod', 'CHAP']]), req(0, 1, true, [])], 0x0201],
    ['CHAP_A without MD5', [req(0, 1, true, [...names(CHAP), ['AuthMethod', 'CHAP']]), req(0, 1, true, [['CHAP_A', '6,7']])], 0x0201, []],
    [
      'transit after the challenge without answering it',
      [req(0, 1, true, [...names(CHAP), ['AuthMethod', 'CHAP']]), req(0, 1, true, [['CHAP_A', '5']]), req(0, 1, true, [])],
      0x0201,
    ],
    [
      'jump to operational after the challenge',
      [req(0, 1, true, [...names(CHAP), ['AuthMethod', 'CHAP']]), req(0, 1, true, [['CHAP_A', '5']]), req(1, 3, true, IPXE_OPERATIONAL)],
      0x0201,
    ],
    ['CHAP_R before the challenge', [req(0, 1, true, [...names(CHAP), ['AuthMethod', 'CHAP']]), req(0, 1, true, [['CHAP_N', 'alice'], ['CHAP_R', `0x${'00'.repeat(16)}`]])], 0x0201],
    ['CHAP keys after AuthMethod=None', [req(0, 0, false, [...names(OPEN), ['AuthMethod', 'None']]), req(0, 1, true, [['CHAP_N', 'alice']])], 0x0200],
    ['AuthMethod sent twice in one request', [req(0, 1, true, [...names(OPEN), ['AuthMethod', 'None'], ['AuthMethod', 'None']])], 0x0200],
  ];
  for (const [name, requests, expected, keys] of table) {
    it(`${name} → 0x${expected.toString(16).padStart(4, '0')}`, () => {
      const st = last(run(open(), ...requests));
      assert.equal(st.outcome, 'failed');
      assert.equal(status(st), expected);
      assert.equal(st.response.transit, false);
      assert.ok(st.error !== undefined);
      // Every reject is the status alone: no keys, T=0, NSG=0 (reserved when T=0).
      assert.deepEqual(st.response.keys, keys ?? []);
      assert.equal(st.response.nsg, 0);
    });
  }

  const chapTable: Array<[string, string, ChapCredentials, KeyValue[]]> = [
    ['wrong secret', CHAP, { user: 'alice', secret: 'not-the-secret' }, []],
    ['wrong user', CHAP, { user: 'mallory', secret: 'alice-secret-1' }, []],
    ['reflected challenge', CHAP, alice, [['CHAP_I', '1'], ['CHAP_C', '0x1112131415161718191a1b1c1d1e1f20']]],
    ['mutual requested, target has no outgoing secret', ONEWAY, alice, [['CHAP_I', '1'], ['CHAP_C', '0x0102030405060708']]],
    ['CHAP_I without CHAP_C', CHAP, alice, [['CHAP_I', '1']]],
    ['CHAP_C without CHAP_I', CHAP, alice, [['CHAP_C', '0x0102030405060708']]],
    ['oversized initiator challenge', CHAP, alice, [['CHAP_I', '1'], ['CHAP_C', `0x${'ab'.repeat(1025)}`]]],
  ];
  for (const [name, target, creds, mutual] of chapTable) {
    it(`CHAP: ${name} → 0x0201`, () => {
      const steps = chapLogin(target, creds, mutual);
      const s3 = steps[2] ?? assert.fail();
      assert.equal(s3.outcome, 'failed');
      assert.equal(status(s3), 0x0201);
      assert.deepEqual(s3.response.keys, []);
      // Once failed, the login stays failed.
      const s4 = steps[3] ?? assert.fail();
      assert.equal(s4.outcome, 'failed');
      assert.equal(status(s4), 0x0201);
    });
  }

  it('a step after completion fails', () => {
    const steps = run(open(), req(1, 3, true, names(OPEN)), req(1, 3, true, []));
    assert.equal(steps[0]?.outcome, 'complete');
    assert.equal(last(steps).outcome, 'failed');
  });
});

describe('login property', () => {
  const keyName = fc.constantFrom(
    'InitiatorName',
    'TargetName',
    'SessionType',
    'AuthMethod',
    'CHAP_A',
    'CHAP_I',
    'CHAP_C',
    'CHAP_N',
    'CHAP_R',
    'MaxBurstLength',
    'FirstBurstLength',
    'HeaderDigest',
    'MaxRecvDataSegmentLength',
    'ImmediateData',
    'X-junk',
  );
  const value = fc.oneof(
    fc.constantFrom(INITIATOR, OPEN, CHAP, ONEWAY, ACL, 'Normal', 'Discovery', 'None', 'CHAP', 'CHAP,None', '5', 'alice', '1', '8192', 'Yes', 'CRC32C'),
    fc.uint8Array({ minLength: 0, maxLength: 20 }).map((b) => `0x${Buffer.from(b).toString('hex')}`),
    fc.string({ maxLength: 40 }),
  );
  const request: fc.Arbitrary<LoginStepRequest> = fc.record({
    transit: fc.boolean(),
    continue: fc.boolean(),
    csg: fc.integer({ min: 0, max: 3 }),
    nsg: fc.integer({ min: 0, max: 3 }),
    versionMax: fc.integer({ min: 0, max: 2 }),
    versionMin: fc.constantFrom(0, 0, 0, 1),
    isid: fc.constantFrom(ISID, Buffer.alloc(6)),
    tsih: fc.constantFrom(0, 0, 5),
    cid: fc.constantFrom(0, 0, 1),
    keys: fc.array(fc.tuple(keyName, value), { maxLength: 8 }),
  });

  it('random request sequences never throw, and CHAP is never bypassed', () => {
    fc.assert(
      fc.property(fc.array(request, { minLength: 1, maxLength: 8 }), fc.constantFrom(OPEN, CHAP, ONEWAY), fc.boolean(), (requests, target, plausible) => {
        let state = createLogin(config(discoveryCreds), counterRandom());
        let failedOnce = false;
        // Half the runs start with a plausible first request, so later stages get explored.
        const first = req(0, 1, true, [...names(target), ['AuthMethod', 'CHAP,None']]);
        for (const r of plausible ? [first, ...requests] : requests) {
          const st = step(state, r);
          state = st.state;
          const code = status(st);
          if (failedOnce) assert.equal(st.outcome, 'failed');
          if (st.outcome === 'failed') {
            failedOnce = true;
            assert.notEqual(code, 0);
            assert.equal(st.response.transit, false);
            assert.deepEqual(st.response.keys, [], 'a login reject carries no keys');
          } else {
            assert.equal(code, 0);
          }
          if (st.outcome === 'complete') {
            assert.ok(st.response.transit && st.response.nsg === 3);
            assert.ok(st.result !== undefined);
            // Random keys cannot answer a random challenge: CHAP targets (and CHAP-protected
            // discovery) never complete, nor does the ACL target. Only the open target can.
            assert.equal(st.result.sessionType, 'Normal');
            assert.equal(st.result.targetName, OPEN);
          }
          if (st.response.transit) assert.ok(r.transit, 'target set T without the initiator');
        }
      }),
      { numRuns: Number(process.env.FC_RUNS ?? 1000) },
    );
  });
});

describe('login and discovery agree on who may use a target (one iSCSI name comparison)', () => {
  // The allow-list entry as an administrator might type it, and initiator names in other
  // spellings. RFC 3722 (stringprep for iSCSI names): table B.1 maps to nothing, B.2 folds case,
  // NFKC; so the first four are the same name as the entry, the last three are not.
  const ALLOWED = 'IQN.2026-11.Org.Example:PC1';
  const spellings: Array<[string, boolean]> = [
    ['iqn.2026-11.org.example:pc1', true],
    ['IQN.2026-11.ORG.EXAMPLE:PC1', true],
    ['iqn.2026-11.org.example:pc\u00ad1', true],
    ['\uff49\uff51\uff4e.2026-11.org.example:pc1', true],
    ['iqn.2026-11.org.example:pc1 ', false],
    ['iqn.2026-11.org.example:pc10', false],
    ['iqn.2026-11.org.example:pc', false],
  ];
  const TARGET = 'iqn.2026-11.org.example:disk';
  const info: TargetLoginInfo = { name: TARGET, chap: null, mutualChap: null, allowedInitiators: [ALLOWED] };
  const exported: ExportedTarget = { name: TARGET, alias: null, device: { execute: () => undefined, reset: () => undefined, hasLun: () => true }, chap: null, mutualChap: null, allowedInitiators: [ALLOWED] };
  const cfg: LoginConfig = { portalGroupTag: 1, lookupTarget: (name) => (sameIscsiName(name, TARGET) ? info : null), discoveryAuth: null, policy: DEFAULT_TARGET_POLICY };
  const portals = [{ address: '10.0.0.1', port: 3260, portalGroupTag: 1 }];

  for (const [initiator, allowed] of spellings) {
    it(`${JSON.stringify(initiator)}: login ${allowed ? 'succeeds' : 'is refused (0x0202)'} and discovery ${allowed ? 'lists' : 'hides'} the target`, () => {
      const login = run(
        createLogin(cfg, counterRandom()),
        req(0, 1, true, [['InitiatorName', initiator], ['TargetName', TARGET], ['AuthMethod', 'None']]),
        req(1, 3, true, IPXE_OPERATIONAL),
      );
      const loggedIn = last(login).outcome === 'complete';
      if (!allowed) assert.equal(status(login[0] ?? assert.fail()), 0x0202);
      const listed = answerSendTargets('All', 'Discovery', null, initiator, [exported], portals).some(([k, v]) => k === 'TargetName' && v === TARGET);
      const byName = answerSendTargets(TARGET.toUpperCase(), 'Discovery', null, initiator, [exported], portals).length > 0;
      assert.equal(loggedIn, allowed, 'login');
      assert.equal(listed, allowed, 'SendTargets=All');
      assert.equal(byName, allowed, 'SendTargets=<name>, the name in another case');
      assert.equal(initiatorAllowed(info, initiator), allowed, 'the shared check');
    });
  }

  it('a random name: login and discovery give the same verdict', () => {
    const letter = fc.constantFrom('a', 'A', 'q', 'Q', '1', ':', '.', '-', '\u00ad', '\u200b', '\uff41', ' ');
    fc.assert(
      fc.property(fc.array(letter, { minLength: 1, maxLength: 6 }), fc.array(letter, { minLength: 1, maxLength: 6 }), (a, b) => {
        const entry = `iqn.2026-11.x:${a.join('')}`;
        const who = `iqn.2026-11.x:${b.join('')}`;
        const t: TargetLoginInfo = { name: TARGET, chap: null, mutualChap: null, allowedInitiators: [entry] };
        const c: LoginConfig = { ...cfg, lookupTarget: () => t };
        const login = step(createLogin(c, counterRandom()), req(0, 1, true, [['InitiatorName', who], ['TargetName', TARGET], ['AuthMethod', 'None']]));
        const listed = answerSendTargets('All', 'Discovery', null, who, [{ ...exported, allowedInitiators: [entry] }], portals).length > 0;
        assert.equal(login.outcome !== 'failed', listed);
      }),
      { numRuns: Number(process.env.FC_RUNS ?? 500) },
    );
  });

  it('the target directory finds a target by any spelling of its name', () => {
    const directory = new TargetDirectory([exported]);
    assert.equal(directory.get('IQN.2026-11.ORG.EXAMPLE:DISK')?.name, TARGET);
    assert.equal(directory.get('iqn.2026-11.org.example:di\u00adsk')?.name, TARGET);
    assert.equal(directory.get('iqn.2026-11.org.example:disk2'), null);
    assert.equal(normalizeIscsiName('\u3381'), 'na', 'NFKC output is folded too (RFC 3722 table B.2)');
  });
});
