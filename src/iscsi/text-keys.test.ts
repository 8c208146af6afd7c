// The key=value text codec (RFC 7143 section 6.1) and the binary/number value encodings.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { DecodeError } from '../lib/errors.ts';
import { decodeBinaryValue, decodeNumber, decodeTextKeys, encodeBase64, encodeHex, encodeTextKeys } from './text-keys.ts';

const raw = (s: string): Buffer => Buffer.from(s, 'utf8');
const isDecodeError = (code: string) => (err: unknown) => err instanceof DecodeError && err.code === code;

test('decodeTextKeys: an iPXE security-phase login, in order', () => {
  const data = raw('InitiatorName=iqn.2010-04.org.ipxe:pc1\0TargetName=iqn.2024-01.dev.diskless:pc1\0SessionType=Normal\0AuthMethod=CHAP,None\0');
  assert.deepEqual(decodeTextKeys(data), [
    ['InitiatorName', 'iqn.2010-04.org.ipxe:pc1'],
    ['TargetName', 'iqn.2024-01.dev.diskless:pc1'],
    ['SessionType', 'Normal'],
    ['AuthMethod', 'CHAP,None'],
  ]);
});

test('decodeTextKeys: duplicates kept, empty values allowed, value may contain "="', () => {
  assert.deepEqual(decodeTextKeys(raw('A=1\0A=2\0B=\0C=x=y\0')), [['A', '1'], ['A', '2'], ['B', ''], ['C', 'x=y']]);
});

test('decodeTextKeys: tolerates a missing final NUL and NUL padding; empty input is no pairs', () => {
  assert.deepEqual(decodeTextKeys(raw('SendTargets=All')), [['SendTargets', 'All']]);
  assert.deepEqual(decodeTextKeys(raw('SendTargets=All\0\0\0\0')), [['SendTargets', 'All']]);
  assert.deepEqual(decodeTextKeys(Buffer.alloc(0)), []);
});

test('decodeTextKeys: malformed pairs are DecodeErrors with distinct codes', () => {
  assert.throws(() => decodeTextKeys(raw('NoEquals\0')), isDecodeError('ISCSI_TEXT_NO_EQUALS'));
  assert.throws(() => decodeTextKeys(raw('A=1\0NoEquals')), isDecodeError('ISCSI_TEXT_NO_EQUALS'));
  assert.throws(() => decodeTextKeys(raw('=value\0')), isDecodeError('ISCSI_TEXT_EMPTY_KEY'));
  assert.throws(() => decodeTextKeys(raw(`${'K'.repeat(64)}=1\0`)), isDecodeError('ISCSI_TEXT_KEY_TOO_LONG'));
  assert.deepEqual(decodeTextKeys(raw(`${'K'.repeat(63)}=1\0`)), [['K'.repeat(63), '1']]);
  assert.throws(() => decodeTextKeys(raw(`TargetName=${'a'.repeat(256)}\0`)), isDecodeError('ISCSI_TEXT_VALUE_TOO_LONG'));
  assert.equal(decodeTextKeys(raw(`TargetName=${'a'.repeat(255)}\0`)).length, 1);
});

test('decodeTextKeys: CHAP_C and CHAP_R may carry values up to 8192 bytes', () => {
  const long = `0x${'ab'.repeat(4095)}`; // 8192 bytes
  assert.deepEqual(decodeTextKeys(raw(`CHAP_C=${long}\0CHAP_R=${long}\0`)), [['CHAP_C', long], ['CHAP_R', long]]);
  assert.throws(() => decodeTextKeys(raw(`CHAP_R=${long}a\0`)), isDecodeError('ISCSI_TEXT_VALUE_TOO_LONG'));
  assert.throws(() => decodeTextKeys(raw(`CHAP_N=${'n'.repeat(256)}\0`)), isDecodeError('ISCSI_TEXT_VALUE_TOO_LONG'));
});

test('encodeTextKeys: every pair ends with NUL', () => {
  assert.equal(
    encodeTextKeys([['HeaderDigest', 'None'], ['MaxRecvDataSegmentLength', '262144']]).toString('latin1'),
    'HeaderDigest=None\0MaxRecvDataSegmentLength=262144\0',
  );
  assert.equal(encodeTextKeys([]).length, 0);
  assert.equal(encodeTextKeys([['TargetAlias', 'Grüße']]).toString('utf8'), 'TargetAlias=Grüße\0');
  assert.throws(() => encodeTextKeys([['A=B', 'x']]), { code: 'ISCSI_TEXT_BAD_PAIR' });
  assert.throws(() => encodeTextKeys([['A', 'x\0y']]), { code: 'ISCSI_TEXT_BAD_PAIR' });
  assert.throws(() => encodeTextKeys([['', 'x']]), { code: 'ISCSI_TEXT_BAD_PAIR' });
});

const keyArb = fc.stringMatching(/^[A-Z][A-Za-z0-9.+@_-]{0,62}$/);
const valueArb = fc.string({ maxLength: 60 }).filter((s) => !s.includes('\0') && Buffer.byteLength(s) <= 255);

test('property: decodeTextKeys(encodeTextKeys(pairs)) = pairs', () => {
  fc.assert(
    fc.property(fc.array(fc.tuple(keyArb, valueArb), { maxLength: 12 }), (pairs) => {
      assert.deepEqual(decodeTextKeys(encodeTextKeys(pairs)), pairs);
    }),
    { numRuns: 2000 },
  );
});

test('fuzz: random bytes into decodeTextKeys raise only DecodeError', () => {
  const alphabet = fc.constantFrom(0x00, 0x3d, 0x41, 0x61, 0x31, 0xc3, 0xff);
  fc.assert(
    fc.property(fc.oneof(fc.uint8Array({ maxLength: 400 }), fc.array(alphabet, { maxLength: 400 })), (bytes) => {
      try {
        const pairs = decodeTextKeys(Buffer.from(bytes));
        for (const [k] of pairs) assert.ok(k.length > 0);
      } catch (err) {
        assert.ok(err instanceof DecodeError, `expected DecodeError, got ${String(err)}`);
      }
    }),
    { numRuns: 20_000 },
  );
});

test('decodeBinaryValue: hex and base64 constants (RFC 7143 section 6.1)', () => {
  assert.equal(decodeBinaryValue('0x00ff10').toString('hex'), '00ff10');
  assert.equal(decodeBinaryValue('0XABcd').toString('hex'), 'abcd');
  assert.equal(decodeBinaryValue('0xabc').toString('hex'), '0abc'); // odd digits: implicit leading 0
  assert.equal(decodeBinaryValue('0bAAEC').toString('hex'), '000102');
  assert.equal(decodeBinaryValue('0BAAE=').toString('hex'), '0001');
  assert.equal(decodeBinaryValue('0bAAE').toString('hex'), '0001'); // unpadded: tolerated
  for (const bad of ['', '0x', '0b', 'abcd', '0xzz', '0x12 ', '0bA', '0bAAE==', '0bAA=E', '0bAAAAA=', '12']) {
    assert.throws(() => decodeBinaryValue(bad), isDecodeError('ISCSI_TEXT_BAD_BINARY'), bad);
  }
});

test('encodeHex/encodeBase64 round trip through decodeBinaryValue', () => {
  assert.equal(encodeHex(Buffer.from([0xde, 0xad, 0x0b])), '0xdead0b');
  fc.assert(
    fc.property(fc.uint8Array({ minLength: 1, maxLength: 64 }), (a) => {
      const b = Buffer.from(a);
      assert.ok(decodeBinaryValue(encodeHex(b)).equals(b));
      assert.ok(decodeBinaryValue(encodeBase64(b)).equals(b));
    }),
    { numRuns: 1000 },
  );
});

test('decodeNumber: decimal, hex and base64 numerical values', () => {
  assert.equal(decodeNumber('262144'), 262144);
  assert.equal(decodeNumber('0'), 0);
  assert.equal(decodeNumber('0x40000'), 262144);
  assert.equal(decodeNumber('0bAAQAAA=='), 262144);
  assert.equal(decodeNumber('9007199254740991'), Number.MAX_SAFE_INTEGER);
  assert.throws(() => decodeNumber('9007199254740992'), isDecodeError('ISCSI_TEXT_NUMBER_TOO_LARGE'));
  for (const bad of ['', '-1', '1.5', ' 1', '0x', 'Yes', '123456789012345678901']) {
    assert.throws(() => decodeNumber(bad), (err: unknown) => err instanceof DecodeError, bad);
  }
});

test('fuzz: random strings into decodeBinaryValue/decodeNumber raise only DecodeError', () => {
  const s = fc.oneof(fc.string({ maxLength: 40 }), fc.string({ maxLength: 40 }).map((x) => `0x${x}`), fc.string({ maxLength: 40 }).map((x) => `0b${x}`));
  fc.assert(
    fc.property(s, (str) => {
      for (const fn of [decodeBinaryValue, decodeNumber]) {
        try {
          fn(str);
        } catch (err) {
          assert.ok(err instanceof DecodeError, `expected DecodeError, got ${String(err)}`);
        }
      }
    }),
    { numRuns: 10_000 },
  );
});
