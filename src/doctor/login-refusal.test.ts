// The refusal reasons come from the real login machine (src/iscsi/login.ts), so a reworded
// message there fails here instead of silently turning a warning off.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chapResponse, decodeChapBinary, encodeChapBinary } from '../iscsi/chap.ts';
import { createLogin, step, type LoginConfig, type TargetLoginInfo } from '../iscsi/login.ts';
import type { KeyValue } from '../iscsi/negotiation.ts';
import { DEFAULT_TARGET_POLICY } from '../iscsi/negotiation.ts';
import { classifyLoginRefusal } from './login-refusal.ts';

const INITIATOR = 'iqn.2026-11.org.example:pc1';
const alice = { user: 'alice', secret: 'alice-secret-12' };
const TARGETS: Record<string, TargetLoginInfo> = {
  'iqn.t:chap': { name: 'iqn.t:chap', chap: alice, mutualChap: null, allowedInitiators: null },
  'iqn.t:reused': { name: 'iqn.t:reused', chap: alice, mutualChap: { user: 'tgt', secret: alice.secret }, allowedInitiators: null },
  'iqn.t:acl': { name: 'iqn.t:acl', chap: null, mutualChap: null, allowedInitiators: ['iqn.other'] },
  'iqn.t:open': { name: 'iqn.t:open', chap: null, mutualChap: null, allowedInitiators: null },
};
const config: LoginConfig = { portalGroupTag: 1, lookupTarget: (name) => TARGETS[name] ?? null, discoveryAuth: null, policy: DEFAULT_TARGET_POLICY };
const random = (n: number) => Buffer.alloc(n, 7);
const names = (target: string): KeyValue[] => [['InitiatorName', INITIATOR], ['TargetName', target], ['SessionType', 'Normal']];
const request = (keys: KeyValue[], csg = 0, nsg = 1) => ({ transit: true, continue: false, csg, nsg, versionMax: 0, versionMin: 0, isid: Buffer.from('400001370000', 'hex'), tsih: 0, cid: 0, keys });

/** Logs in with CHAP as far as the response; returns the failure reason, or null when accepted. */
function chapLogin(target: string, secret: string, mutual: boolean): string | null {
  let state = createLogin(config, random);
  const first = step(state, { ...request([...names(target), ['AuthMethod', 'CHAP,None']]), transit: false });
  state = first.state;
  const second = step(state, { ...request([['CHAP_A', '5']]), transit: false });
  state = second.state;
  const id = Number(second.response.keys.find(([k]) => k === 'CHAP_I')?.[1]);
  const challenge = decodeChapBinary(second.response.keys.find(([k]) => k === 'CHAP_C')?.[1] ?? '') ?? Buffer.alloc(0);
  const keys: KeyValue[] = [['CHAP_N', alice.user], ['CHAP_R', encodeChapBinary(chapResponse(id, secret, challenge))]];
  if (mutual) keys.push(['CHAP_I', '9'], ['CHAP_C', encodeChapBinary(Buffer.alloc(16, 3))]);
  const third = step(state, request(keys, 0, 1));
  return third.outcome === 'failed' ? (third.error?.message ?? 'failed') : null;
}

function firstStepFailure(target: string, keys: KeyValue[] = []): string {
  const result = step(createLogin(config, random), request([...names(target), ...keys], 0, 1));
  assert.equal(result.outcome, 'failed');
  return result.error?.message ?? '';
}

test('a missing target, an initiator not admitted', () => {
  assert.deepEqual(classifyLoginRefusal(firstStepFailure('iqn.t:nope', [['AuthMethod', 'None']])), { kind: 'no-such-target', target: 'iqn.t:nope' });
  assert.deepEqual(classifyLoginRefusal(firstStepFailure('iqn.t:acl', [['AuthMethod', 'None']])), { kind: 'initiator-not-allowed' });
});

test('CHAP: a wrong secret, none offered, CHAP for a target without it', () => {
  assert.deepEqual(classifyLoginRefusal(chapLogin('iqn.t:chap', 'wrong-secret-99', false) ?? ''), { kind: 'chap-wrong', what: 'secret' });
  assert.equal(chapLogin('iqn.t:chap', alice.secret, false), null, 'the right secret is accepted');
  assert.deepEqual(classifyLoginRefusal(firstStepFailure('iqn.t:chap', [['AuthMethod', 'None']])), { kind: 'chap-missing' });
  assert.deepEqual(classifyLoginRefusal(firstStepFailure('iqn.t:open', [['AuthMethod', 'CHAP']])), { kind: 'chap-unexpected' });
});

test('mutual CHAP: asked of a target without it, or with its secret reused', () => {
  assert.deepEqual(classifyLoginRefusal(chapLogin('iqn.t:chap', alice.secret, true) ?? ''), { kind: 'mutual-chap', why: 'not-configured' });
  assert.deepEqual(classifyLoginRefusal(chapLogin('iqn.t:reused', alice.secret, true) ?? ''), { kind: 'mutual-chap', why: 'secret-reused' });
});

test('anything else is "other", with the words kept', () => {
  assert.deepEqual(classifyLoginRefusal('session not admitted'), { kind: 'other', reason: 'session not admitted' });
});
