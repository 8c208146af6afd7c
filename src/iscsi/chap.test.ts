import { createHash } from 'node:crypto';
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import {
  CHAP_ALGORITHM_MD5,
  CHAP_CHALLENGE_LENGTH,
  chapResponse,
  createChallenge,
  decodeChapBinary,
  encodeChapBinary,
  parseChapId,
  parseChapResponse,
  parseInitiatorChallenge,
  selectChapAlgorithm,
  verifyChapResponse,
} from './chap.ts';
import { LoginError, loginStatusCode } from './login-status.ts';

const seq = (n: number, from = 0): Buffer => Buffer.from(Array.from({ length: n }, (_, i) => (from + i) & 0xff));

function authFailureCode(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    assert.ok(e instanceof LoginError, `expected LoginError, got ${String(e)}`);
    assert.equal(loginStatusCode(e.status), 0x0201);
    return e.code;
  }
  assert.fail('expected an authentication failure');
}

describe('chapResponse known answers', () => {
  // Computed in the shell, independently of node:crypto:
  //   printf '\x01secretsecret\x00\x01...\x0f' | md5sum  → 226dc576c33f04ff9c3a200ffe35f442
  //   printf '\xc8password123456\xde\xad\xbe\xef' | md5sum → 7191c46bbe99ba2332eb53f0edd2638d
  const vectors: Array<[number, string, Buffer, string]> = [
    [0x01, 'secretsecret', seq(16), '226dc576c33f04ff9c3a200ffe35f442'],
    [0xc8, 'password123456', Buffer.from('deadbeef', 'hex'), '7191c46bbe99ba2332eb53f0edd2638d'],
  ];
  for (const [id, secret, challenge, hex] of vectors) {
    it(`id ${id} secret ${secret}`, () => {
      assert.equal(chapResponse(id, secret, challenge).toString('hex'), hex);
    });
  }

  it('equals MD5 over a hand-assembled id || secret || challenge', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 255 }), fc.uint8Array({ minLength: 1, maxLength: 64 }), fc.uint8Array({ maxLength: 64 }), (id, secret, challenge) => {
        const buf = Buffer.concat([Buffer.of(id), Buffer.from(secret), Buffer.from(challenge)]);
        const expected = createHash('md5').update(buf).digest();
        assert.deepEqual(chapResponse(id, Buffer.from(secret), Buffer.from(challenge)), expected);
      }),
    );
  });
});

describe('verifyChapResponse', () => {
  const challenge = seq(16, 0x40);
  const good = chapResponse(9, 'topsecret123', challenge);
  const table: Array<[string, Buffer, boolean]> = [
    ['correct', good, true],
    ['one bit off', Buffer.from(good.map((b, i) => (i === 15 ? b ^ 1 : b))), false],
    ['short', good.subarray(0, 15), false],
    ['empty', Buffer.alloc(0), false],
  ];
  for (const [name, response, ok] of table) {
    it(name, () => assert.equal(verifyChapResponse(9, 'topsecret123', challenge, response), ok));
  }
  it('wrong id or secret fails', () => {
    assert.equal(verifyChapResponse(10, 'topsecret123', challenge, good), false);
    assert.equal(verifyChapResponse(9, 'topsecret124', challenge, good), false);
  });
});

describe('createChallenge', () => {
  it('takes id and challenge from the injected random source', () => {
    const c = createChallenge((n) => seq(n, 0x80));
    assert.equal(c.id, 0x80);
    assert.equal(c.challenge.length, CHAP_CHALLENGE_LENGTH);
    assert.deepEqual(c.challenge, seq(16, 0x81));
  });
});

describe('binary values (RFC 7143 6.1)', () => {
  const table: Array<[string, string | null]> = [
    ['0x00ff10', '00ff10'],
    ['0XABcd', 'abcd'],
    ['0xabc', '0abc'],
    ['0bAAEC', '000102'],
    ['0BAAE=', '0001'],
    ['0x', null],
    ['0xzz', null],
    ['abcd', null],
    ['0bAAE', null],
    ['0b!!!!', null],
  ];
  for (const [text, hex] of table) {
    it(text, () => assert.equal(decodeChapBinary(text)?.toString('hex') ?? null, hex));
  }
  it('encodes as 0x lower-case hex and round-trips', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 1, maxLength: 64 }), (bytes) => {
        const text = encodeChapBinary(Buffer.from(bytes));
        assert.match(text, /^0x[0-9a-f]+$/);
        assert.deepEqual(decodeChapBinary(text), Buffer.from(bytes));
      }),
    );
  });
});

describe('CHAP key parsing', () => {
  it('CHAP_A: picks MD5 from a list, refuses lists without 5', () => {
    assert.equal(selectChapAlgorithm('5'), CHAP_ALGORITHM_MD5);
    assert.equal(selectChapAlgorithm('7,5'), CHAP_ALGORITHM_MD5);
    assert.equal(authFailureCode(() => selectChapAlgorithm('7,6')), 'CHAP_ALGORITHM_UNSUPPORTED');
    assert.equal(authFailureCode(() => selectChapAlgorithm('55')), 'CHAP_ALGORITHM_UNSUPPORTED');
  });
  it('CHAP_I: decimal or hex in 0..255', () => {
    assert.equal(parseChapId('0'), 0);
    assert.equal(parseChapId('255'), 255);
    assert.equal(parseChapId('0x1f'), 31);
    for (const bad of ['256', '-1', '', 'x', '1.5', '0x100']) {
      assert.equal(authFailureCode(() => parseChapId(bad)), 'CHAP_I_INVALID', bad);
    }
  });
  it('CHAP_R: must be 16 bytes', () => {
    assert.equal(parseChapResponse(`0x${'ab'.repeat(16)}`).length, 16);
    assert.equal(parseChapResponse(`0b${Buffer.alloc(16, 7).toString('base64')}`).length, 16);
    assert.equal(authFailureCode(() => parseChapResponse(`0x${'ab'.repeat(15)}`)), 'CHAP_R_INVALID');
    assert.equal(authFailureCode(() => parseChapResponse('hello')), 'CHAP_R_INVALID');
    assert.equal(authFailureCode(() => parseChapResponse(`0x${'ab'.repeat(5000)}`)), 'CHAP_R_INVALID');
  });
  it('CHAP_C: refuses oversized, empty and reflected challenges', () => {
    const ours = seq(16);
    assert.deepEqual(parseInitiatorChallenge('0x0102', ours), Buffer.from('0102', 'hex'));
    assert.equal(parseInitiatorChallenge(`0x${'11'.repeat(1024)}`, ours).length, 1024);
    assert.equal(authFailureCode(() => parseInitiatorChallenge(`0x${'11'.repeat(1025)}`, ours)), 'CHAP_C_TOO_LONG');
    assert.equal(authFailureCode(() => parseInitiatorChallenge(`0b${Buffer.alloc(1025).toString('base64')}`, ours)), 'CHAP_C_TOO_LONG');
    assert.equal(authFailureCode(() => parseInitiatorChallenge('0x', ours)), 'CHAP_C_INVALID');
    assert.equal(authFailureCode(() => parseInitiatorChallenge(encodeChapBinary(ours), ours)), 'CHAP_C_REFLECTED');
    // The same bytes in base64 are still a reflection.
    assert.equal(authFailureCode(() => parseInitiatorChallenge(`0b${ours.toString('base64')}`, ours)), 'CHAP_C_REFLECTED');
  });
});
