import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { loginStatusCode } from './login-status.ts';
import type { KeyValue, SessionType, TargetNegotiationPolicy } from './negotiation.ts';
import {
  createNegotiation,
  DEFAULT_TARGET_POLICY,
  KEY_TABLE,
  negotiatedParams,
  negotiateKeys,
  parseBoolean,
  parseNumber,
} from './negotiation.ts';

const policy: TargetNegotiationPolicy = DEFAULT_TARGET_POLICY;

function answer(key: string, value: string, sessionType: SessionType = 'Normal', p: TargetNegotiationPolicy = policy): string | undefined {
  const r = negotiateKeys([[key, value]], createNegotiation(), p, sessionType);
  assert.equal(r.error, undefined);
  return r.responses.find(([k]) => k === key)?.[1];
}

describe('negotiation rules (RFC 7143 6.2, section 13)', () => {
  // [key, offered value, expected answer (undefined: no answer, declarative), session type]
  const table: Array<[string, string, string | undefined, SessionType?]> = [
    // list: first of the initiator's values that the target accepts
    ['HeaderDigest', 'None', 'None'],
    ['HeaderDigest', 'CRC32C', 'CRC32C'],
    ['HeaderDigest', 'None,CRC32C', 'None'],
    ['HeaderDigest', 'CRC32C,None', 'CRC32C'],
    ['DataDigest', 'CRC32C,None', 'CRC32C'],
    ['DataDigest', 'MD5,None', 'None'],
    ['DataDigest', 'MD5', 'Reject'],
    ['DataDigest', '', 'Reject'],
    ['HeaderDigest', 'CRC32C', 'CRC32C', 'Discovery'],
    ['TaskReporting', 'ResponseFence,RFC3720', 'RFC3720'],
    // min
    ['MaxConnections', '8', '1'],
    ['MaxConnections', '1', '1'],
    ['MaxConnections', '0', 'Reject'],
    ['MaxConnections', '65536', 'Reject'],
    ['MaxBurstLength', '262144', '262144'],
    ['MaxBurstLength', '16777215', '16777215'],
    ['MaxBurstLength', '511', 'Reject'],
    ['MaxBurstLength', '16777216', 'Reject'],
    ['MaxBurstLength', '0x40000', '262144'],
    ['MaxBurstLength', 'lots', 'Reject'],
    ['MaxBurstLength', '-1', 'Reject'],
    ['FirstBurstLength', '65536', '65536'],
    ['FirstBurstLength', '1048576', '262144'], // clamped to the (default) MaxBurstLength
    ['DefaultTime2Retain', '0', '0'],
    ['DefaultTime2Retain', '3600', '20'],
    ['DefaultTime2Retain', '3601', 'Reject'],
    ['MaxOutstandingR2T', '1', '1'],
    ['MaxOutstandingR2T', '100', '32'],
    ['MaxOutstandingR2T', '0', 'Reject'],
    ['ErrorRecoveryLevel', '0', '0'],
    ['ErrorRecoveryLevel', '2', '0'],
    ['ErrorRecoveryLevel', '3', 'Reject'],
    // max
    ['DefaultTime2Wait', '0', '2'],
    ['DefaultTime2Wait', '2', '2'],
    ['DefaultTime2Wait', '10', '10'],
    ['DefaultTime2Wait', '3601', 'Reject'],
    // or
    ['InitialR2T', 'Yes', 'Yes'],
    ['InitialR2T', 'No', 'No'],
    ['InitialR2T', 'yes', 'Reject'],
    ['DataPDUInOrder', 'No', 'Yes'],
    ['DataPDUInOrder', 'Yes', 'Yes'],
    ['DataSequenceInOrder', 'No', 'Yes'],
    // and
    ['ImmediateData', 'Yes', 'Yes'],
    ['ImmediateData', 'No', 'No'],
    ['ImmediateData', 'true', 'Reject'],
    ['OFMarker', 'Yes', 'No'],
    ['IFMarker', 'No', 'No'],
    ['OFMarkInt', '2048~8192', 'Irrelevant'],
    ['IFMarkInt', '1', 'Irrelevant'],
    // declarative: nothing back, except MaxRecvDataSegmentLength where the target declares its own
    ['InitiatorName', 'iqn.2010-04.org.ipxe:host', undefined],
    ['InitiatorAlias', 'host', undefined],
    ['TargetName', 'iqn.2024-01.example:disk', undefined],
    ['SessionType', 'Normal', undefined],
    ['InitiatorName', '', 'Reject'],
    ['InitiatorName', 'x'.repeat(224), 'Reject'],
    ['MaxRecvDataSegmentLength', '8192', '262144'],
    ['MaxRecvDataSegmentLength', '511', 'Reject'],
    ['MaxRecvDataSegmentLength', '16777216', 'Reject'],
    // keys only a target may send
    ['TargetPortalGroupTag', '1', 'Reject'],
    ['TargetAlias', 'x', 'Reject'],
    // unknown keys
    ['X-com.example.Foo', 'bar', 'NotUnderstood'],
    ['iSCSIProtocolLevel', '1', 'NotUnderstood'],
    ['SendTargets', 'All', 'Irrelevant'],
    // discovery: session keys that do not apply are Irrelevant
    ['MaxBurstLength', '262144', 'Irrelevant', 'Discovery'],
    ['ImmediateData', 'Yes', 'Irrelevant', 'Discovery'],
    ['InitialR2T', 'Yes', 'Irrelevant', 'Discovery'],
    ['MaxConnections', '1', 'Irrelevant', 'Discovery'],
    ['MaxRecvDataSegmentLength', '65536', '262144', 'Discovery'],
    ['ErrorRecoveryLevel', '1', '0', 'Discovery'],
  ];
  for (const [key, value, expected, sessionType] of table) {
    it(`${sessionType ?? 'Normal'}: ${key}=${value.slice(0, 40)} → ${expected ?? '(none)'}`, () => {
      assert.equal(answer(key, value, sessionType), expected);
    });
  }

  it('every table row has a consistent rule and type', () => {
    for (const d of KEY_TABLE) {
      if (d.type === 'number') assert.ok(d.min <= d.default && d.default <= d.max, d.key);
      if (d.type === 'boolean') assert.ok(d.rule === 'and' || d.rule === 'or', d.key);
    }
  });

  it('InitialR2T=Yes is kept when the target also wants it (OR)', () => {
    assert.equal(answer('InitialR2T', 'No', 'Normal', { ...policy, initialR2T: true }), 'Yes');
  });
  it('ImmediateData=Yes becomes No when the target refuses it (AND)', () => {
    assert.equal(answer('ImmediateData', 'Yes', 'Normal', { ...policy, immediateData: false }), 'No');
  });
  it('digest policy without CRC32C answers None or Reject', () => {
    const p = { ...policy, headerDigests: ['None'] };
    assert.equal(answer('HeaderDigest', 'CRC32C,None', 'Normal', p), 'None');
    assert.equal(answer('HeaderDigest', 'CRC32C', 'Normal', p), 'Reject');
  });
});

describe('negotiateKeys: sequences and state', () => {
  it('iPXE operational offer', () => {
    const offered: KeyValue[] = [
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
    const r = negotiateKeys(offered, createNegotiation(), policy, 'Normal');
    assert.equal(r.error, undefined);
    assert.deepEqual(r.responses, [
      ['HeaderDigest', 'None'],
      ['DataDigest', 'None'],
      ['InitialR2T', 'Yes'],
      ['ImmediateData', 'No'],
      ['MaxRecvDataSegmentLength', '262144'],
      ['MaxBurstLength', '262144'],
      ['FirstBurstLength', '65536'],
      ['MaxOutstandingR2T', '1'],
      ['ErrorRecoveryLevel', '0'],
    ]);
    assert.deepEqual(negotiatedParams(r.state), {
      headerDigest: false,
      dataDigest: false,
      maxRecvDataSegmentLengthInitiator: 8192,
      maxRecvDataSegmentLengthTarget: 262144,
      maxBurstLength: 262144,
      firstBurstLength: 65536,
      initialR2T: true,
      immediateData: false,
      maxOutstandingR2T: 1,
      dataPduInOrder: true,
      dataSequenceInOrder: true,
      errorRecoveryLevel: 0,
      defaultTime2Wait: 2,
      defaultTime2Retain: 20,
      maxConnections: 1,
    });
  });

  it('RFC defaults when nothing is negotiated', () => {
    const p = negotiatedParams(createNegotiation());
    assert.equal(p.maxRecvDataSegmentLengthInitiator, 8192);
    assert.equal(p.maxRecvDataSegmentLengthTarget, 8192);
    assert.equal(p.maxBurstLength, 262144);
    assert.equal(p.firstBurstLength, 65536);
    assert.equal(p.initialR2T, true);
    assert.equal(p.immediateData, true);
    assert.equal(p.headerDigest, false);
    assert.equal(p.defaultTime2Wait, 2);
    assert.equal(p.defaultTime2Retain, 20);
  });

  it('libiscsi digest offer CRC32C,None turns digests on', () => {
    const r = negotiateKeys([['HeaderDigest', 'CRC32C,None'], ['DataDigest', 'None,CRC32C']], createNegotiation(), policy, 'Normal');
    assert.deepEqual(r.responses, [['HeaderDigest', 'CRC32C'], ['DataDigest', 'None']]);
    const p = negotiatedParams(r.state);
    assert.equal(p.headerDigest, true);
    assert.equal(p.dataDigest, false);
  });

  it('FirstBurstLength is bounded by a MaxBurstLength offered later in the same request', () => {
    const r = negotiateKeys([['FirstBurstLength', '131072'], ['MaxBurstLength', '65536']], createNegotiation(), policy, 'Normal');
    assert.deepEqual(r.responses, [['FirstBurstLength', '65536'], ['MaxBurstLength', '65536']]);
  });

  it('FirstBurstLength is clamped in the result when MaxBurstLength comes in a later request', () => {
    const a = negotiateKeys([['FirstBurstLength', '131072']], createNegotiation(), policy, 'Normal');
    assert.deepEqual(a.responses, [['FirstBurstLength', '131072']]);
    const b = negotiateKeys([['MaxBurstLength', '65536']], a.state, policy, 'Normal');
    const p = negotiatedParams(b.state);
    assert.equal(p.maxBurstLength, 65536);
    assert.equal(p.firstBurstLength, 65536);
  });

  it('a key negotiated twice is an initiator error (RFC 7143 6.1)', () => {
    const same = negotiateKeys([['MaxBurstLength', '65536'], ['MaxBurstLength', '65536']], createNegotiation(), policy, 'Normal');
    assert.equal(same.error && loginStatusCode(same.error), 0x0200);
    assert.equal(same.errorCode, 'NEGOTIATION_KEY_REPEATED');
    const a = negotiateKeys([['ImmediateData', 'Yes']], createNegotiation(), policy, 'Normal');
    const b = negotiateKeys([['ImmediateData', 'No']], a.state, policy, 'Normal');
    assert.equal(b.error && loginStatusCode(b.error), 0x0200);
    assert.equal(b.state, a.state);
  });

  it('names may be repeated with the same value (libiscsi resends them each stage)', () => {
    const a = negotiateKeys([['InitiatorName', 'iqn.x'], ['SessionType', 'Normal']], createNegotiation(), policy, 'Normal');
    const b = negotiateKeys([['InitiatorName', 'iqn.x'], ['SessionType', 'Normal']], a.state, policy, 'Normal');
    assert.equal(b.error, undefined);
    assert.deepEqual(b.responses, []);
    const c = negotiateKeys([['InitiatorName', 'iqn.y']], a.state, policy, 'Normal');
    assert.equal(c.error && loginStatusCode(c.error), 0x0200);
  });

  it('target declarations are added once', () => {
    const declare = { targetPortalGroupTag: 7, targetAlias: 'disk0', maxRecvDataSegmentLength: true };
    const a = negotiateKeys([], createNegotiation(), policy, 'Normal', { declare });
    assert.deepEqual(a.responses, [
      ['TargetPortalGroupTag', '7'],
      ['TargetAlias', 'disk0'],
      ['MaxRecvDataSegmentLength', '262144'],
    ]);
    const b = negotiateKeys([['MaxRecvDataSegmentLength', '65536']], a.state, policy, 'Normal', { declare });
    assert.deepEqual(b.responses, []);
    assert.equal(negotiatedParams(b.state).maxRecvDataSegmentLengthInitiator, 65536);
    assert.equal(negotiatedParams(b.state).maxRecvDataSegmentLengthTarget, 262144);
  });

  it('leading-only keys are refused on a non-leading connection', () => {
    const r = negotiateKeys([['MaxBurstLength', '65536'], ['HeaderDigest', 'None']], createNegotiation(), policy, 'Normal', { leading: false });
    assert.deepEqual(r.responses, [['MaxBurstLength', 'Reject'], ['HeaderDigest', 'None']]);
  });

  it('login-only keys are refused in full-feature text negotiation', () => {
    const r = negotiateKeys([['MaxBurstLength', '65536'], ['MaxRecvDataSegmentLength', '65536']], createNegotiation(), policy, 'Normal', {
      phase: 'full-feature',
    });
    assert.deepEqual(r.responses, [['MaxBurstLength', 'Reject'], ['MaxRecvDataSegmentLength', '262144']]);
  });

  it('malformed key names are a protocol error, not echoed back', () => {
    for (const key of ['', 'a=b', 'x\0y', 'k'.repeat(64), 'ключ']) {
      const r = negotiateKeys([[key, 'v']], createNegotiation(), policy, 'Normal');
      assert.equal(r.error && loginStatusCode(r.error), 0x0200, JSON.stringify(key));
    }
  });

  it('parsers', () => {
    assert.equal(parseNumber('0'), 0);
    assert.equal(parseNumber('0x10'), 16);
    assert.equal(parseNumber(''), null);
    assert.equal(parseNumber('1e3'), null);
    assert.equal(parseNumber(' 1'), null);
    assert.equal(parseBoolean('Yes'), true);
    assert.equal(parseBoolean('No'), false);
    assert.equal(parseBoolean('YES'), null);
  });
});

describe('negotiateKeys property', () => {
  const knownKey = fc.constantFrom(...KEY_TABLE.map((d) => d.key));
  const anyKey = fc.oneof(knownKey, fc.string({ maxLength: 70 }), fc.constantFrom('__proto__', 'constructor', 'toString'));
  const anyValue = fc.oneof(
    fc.string({ maxLength: 300 }),
    fc.constantFrom('Yes', 'No', 'None', 'CRC32C', 'CRC32C,None', '0', '512', '16777215', '0xffffffffffffffffff', 'Reject'),
    fc.nat().map(String),
  );
  const pairs = fc.array(fc.tuple(anyKey, anyValue), { maxLength: 30 });

  it('never throws; answers only offered keys or declarations; results stay in range', () => {
    fc.assert(
      fc.property(pairs, pairs, fc.constantFrom<SessionType>('Normal', 'Discovery'), fc.boolean(), (first, second, sessionType, leading) => {
        const a = negotiateKeys(first, createNegotiation(), policy, sessionType, { leading, declare: { maxRecvDataSegmentLength: true } });
        const b = negotiateKeys(second, a.state, policy, sessionType, { leading });
        for (const r of [a, b]) {
          if (r.error !== undefined) assert.equal(r.error.statusClass, 2);
          for (const [k, v] of r.responses) {
            assert.ok(!k.includes('=') && !k.includes('\0'));
            assert.ok(!v.includes('\0'));
          }
        }
        const p = negotiatedParams(b.state);
        assert.ok(p.firstBurstLength <= p.maxBurstLength);
        assert.ok(p.maxBurstLength >= 512 && p.maxBurstLength <= policy.maxBurstLength);
        assert.ok(p.maxRecvDataSegmentLengthInitiator >= 512 && p.maxRecvDataSegmentLengthInitiator < 2 ** 24);
        assert.equal(p.errorRecoveryLevel, 0);
        assert.equal(p.maxConnections, 1);
        assert.ok(p.maxOutstandingR2T >= 1 && p.maxOutstandingR2T <= policy.maxOutstandingR2T);
      }),
      { numRuns: 500 },
    );
  });
});
