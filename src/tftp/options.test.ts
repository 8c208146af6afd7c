import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { negotiateOptions } from './options.ts';
import type { NegotiationLimits } from './options.ts';
import type { TftpOption } from './wire.ts';

const LIMITS: NegotiationLimits = { maxBlockSize: 65464, maxWindowSize: 64, maxWindowBytes: 128 * 1024 };
const opts = (...pairs: Array<[string, string]>): TftpOption[] => pairs.map(([name, value]) => ({ name, value }));
const negotiate = (options: TftpOption[], size = 1000, limits = LIMITS) => negotiateOptions(options, size, limits);

describe('blksize (RFC 2348)', () => {
  test('8 and 65464 are the bounds; above clamps, below is ignored', () => {
    assert.equal(negotiate(opts(['blksize', '8'])).blockSize, 8);
    assert.equal(negotiate(opts(['blksize', '65464'])).blockSize, 65464);
    assert.deepEqual(negotiate(opts(['blksize', '65465'])).accepted, opts(['blksize', '65464']));
    assert.deepEqual(negotiate(opts(['blksize', '4294967296'])).accepted, opts(['blksize', '65464']));
    const small = negotiate(opts(['blksize', '7']));
    assert.equal(small.blockSize, 512);
    assert.deepEqual(small.accepted, []);
  });

  test("the server's own limit answers a larger request", () => {
    assert.deepEqual(negotiate(opts(['blksize', '65464']), 1, { ...LIMITS, maxBlockSize: 1468 }).accepted, opts(['blksize', '1468']));
  });

  test('values that are not plain decimal are ignored (RFC 2347)', () => {
    for (const v of ['', 'abc', '-1', '+512', ' 512', '0x200', '512.0', '1e3', '99999999999999999999']) {
      assert.deepEqual(negotiate(opts(['blksize', v])).accepted, [], `blksize "${v}"`);
    }
  });
});

describe('tsize and timeout (RFC 2349)', () => {
  test('tsize 0 in an RRQ is answered with the real size', () => {
    assert.deepEqual(negotiate(opts(['tsize', '0']), 52428800).accepted, opts(['tsize', '52428800']));
    assert.deepEqual(negotiate(opts(['tsize', '0']), 0).accepted, opts(['tsize', '0']));
    assert.deepEqual(negotiate(opts(['tsize', 'x'])).accepted, []);
  });

  test('timeout 1..255 seconds is echoed, anything else left out', () => {
    assert.deepEqual(negotiate(opts(['timeout', '1'])), { blockSize: 512, windowSize: 1, timeoutMs: 1000, accepted: opts(['timeout', '1']) });
    assert.equal(negotiate(opts(['timeout', '255'])).timeoutMs, 255000);
    assert.deepEqual(negotiate(opts(['timeout', '0'])).accepted, []);
    assert.deepEqual(negotiate(opts(['timeout', '256'])).accepted, []);
  });
});

describe('windowsize (RFC 7440)', () => {
  test('1..65535, answered no larger than the server allows', () => {
    assert.equal(negotiate(opts(['windowsize', '16'])).windowSize, 16);
    assert.deepEqual(negotiate(opts(['windowsize', '0'])).accepted, []);
    assert.deepEqual(negotiate(opts(['windowsize', '65536'])).accepted, []);
    assert.deepEqual(negotiate(opts(['windowsize', '65535'])).accepted, opts(['windowsize', '64']));
  });

  test('a window is capped in bytes too, whichever option comes first', () => {
    assert.deepEqual(negotiate(opts(['windowsize', '16'], ['blksize', '65464'])).accepted, opts(['windowsize', '2'], ['blksize', '65464']));
    assert.deepEqual(negotiate(opts(['blksize', '1468'], ['windowsize', '16'])).accepted, opts(['blksize', '1468'], ['windowsize', '16']));
    assert.equal(negotiate(opts(['blksize', '65464'], ['windowsize', '1'])).windowSize, 1);
  });
});

describe('RFC 2347 generalities', () => {
  test('names are case-insensitive and echoed as spelled, in request order', () => {
    const n = negotiate(opts(['TSize', '0'], ['BLKSIZE', '1468'], ['WindowSize', '4']), 77);
    assert.deepEqual(n.accepted, opts(['TSize', '77'], ['BLKSIZE', '1468'], ['WindowSize', '4']));
  });

  test('the first valid occurrence of an option wins; unknown options are ignored', () => {
    const n = negotiate(opts(['blksize', 'junk'], ['blksize', '1024'], ['blksize', '2048'], ['multicast', ''], ['utimeout', '5000']));
    assert.deepEqual(n.accepted, opts(['blksize', '1024']));
  });

  test('property: whatever is asked, answers stay in range and come from the request', () => {
    const name = fc.constantFrom<string>('blksize', 'tsize', 'timeout', 'windowsize', 'BlkSize', 'other');
    const value = fc.oneof(fc.nat({ max: 70000 }).map(String), fc.string({ maxLength: 6 }));
    fc.assert(
      fc.property(fc.array(fc.tuple(name, value), { maxLength: 8 }), fc.nat(), (pairs, size) => {
        const n = negotiate(opts(...pairs), size);
        assert.ok(n.blockSize >= 8 && n.blockSize <= 65464);
        assert.ok(n.windowSize >= 1 && n.windowSize <= 64 && n.windowSize * n.blockSize <= Math.max(128 * 1024, n.blockSize));
        const requested = new Set(pairs.map(([k]) => k));
        for (const o of n.accepted) assert.ok(requested.has(o.name));
        assert.equal(new Set(n.accepted.map((o) => o.name.toLowerCase())).size, n.accepted.length);
      }),
    );
  });
});
