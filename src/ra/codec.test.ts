// Router Solicitation / Router Advertisement codec: byte-exact vectors (RFC 4861 sections 4.1,
// 4.2, 4.6.1) and properties of the solicitation decoder.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { DecodeError } from '../lib/errors.ts';
import {
  decodeRouterAdvertisement,
  decodeRouterSolicitation,
  disklessRouterAdvertisement,
  encodeRouterAdvertisement,
  formatLinkLayer,
  parseMac,
} from './codec.ts';

const hex = (s: string): Buffer => Buffer.from(s.replace(/\s+/g, ''), 'hex');
const MAC = hex('525400123456');

describe('router advertisement encoding (RFC 4861 section 4.2)', () => {
  test("diskless's advertisement without a link-layer option: 16 bytes, lifetime 0, M=O=0, hop limit 64", () => {
    assert.deepEqual(
      encodeRouterAdvertisement(disklessRouterAdvertisement(null)),
      // type 134, code 0, checksum 0 (kernel), cur hop limit 64, flags 0, lifetime 0, reachable 0, retrans 0
      hex('86 00 0000  40 00 0000  00000000  00000000'),
    );
  });

  test('with the source link-layer address option (section 4.6.1: type 1, one 8-octet unit)', () => {
    assert.deepEqual(encodeRouterAdvertisement(disklessRouterAdvertisement(MAC)), hex('86 00 0000 40 00 0000 00000000 00000000  01 01 525400123456'));
  });

  test('every field in its place: M and O flags, lifetime, timers', () => {
    const bytes = encodeRouterAdvertisement({ curHopLimit: 255, managed: true, other: true, routerLifetime: 1800, reachableTime: 30000, retransTimer: 1000, sourceLinkLayer: null });
    assert.deepEqual(bytes, hex('86 00 0000 ff c0 0708 00007530 000003e8'));
    const m = encodeRouterAdvertisement({ curHopLimit: 0, managed: true, other: false, routerLifetime: 0, reachableTime: 0, retransTimer: 0, sourceLinkLayer: null });
    assert.equal(m[5], 0x80);
  });

  test('a longer link-layer address is padded to whole 8-octet units', () => {
    const bytes = encodeRouterAdvertisement({ ...disklessRouterAdvertisement(Buffer.alloc(8, 0xaa)) });
    assert.equal(bytes.length, 16 + 16);
    assert.deepEqual(bytes.subarray(16), hex('01 02 aaaaaaaaaaaaaaaa 000000000000'));
  });

  test('out-of-range fields are refused', () => {
    assert.throws(() => encodeRouterAdvertisement({ ...disklessRouterAdvertisement(null), curHopLimit: 256 }), RangeError);
    assert.throws(() => encodeRouterAdvertisement({ ...disklessRouterAdvertisement(null), routerLifetime: -1 }), RangeError);
    assert.throws(() => encodeRouterAdvertisement({ ...disklessRouterAdvertisement(null), reachableTime: 1.5 }), RangeError);
  });

  test('decodes back to what was encoded', () => {
    const ra = decodeRouterAdvertisement(encodeRouterAdvertisement(disklessRouterAdvertisement(MAC)));
    assert.equal(ra.curHopLimit, 64);
    assert.equal(ra.managed, false);
    assert.equal(ra.other, false);
    assert.equal(ra.routerLifetime, 0);
    assert.equal(ra.reachableTime, 0);
    assert.equal(ra.retransTimer, 0);
    assert.deepEqual(ra.sourceLinkLayer, MAC);
    assert.deepEqual(ra.options, [{ type: 1, value: MAC }]);
  });
});

describe('router solicitation decoding (RFC 4861 sections 4.1, 6.1.1)', () => {
  test("iPXE's solicitation: header, reserved, source link-layer address", () => {
    // As iPXE's ndp_tx_router_solicitation sends it (checksum as on the wire: not checked here).
    const rs = decodeRouterSolicitation(hex('85 00 7a1b 00000000  01 01 525400123456'));
    assert.deepEqual(rs.sourceLinkLayer, MAC);
    assert.equal(formatLinkLayer(rs.sourceLinkLayer ?? Buffer.alloc(0)), '52:54:00:12:34:56');
    assert.deepEqual(rs.options, [{ type: 1, value: MAC }]);
  });

  test('no options (a host without an address yet), and the reserved field ignored', () => {
    const rs = decodeRouterSolicitation(hex('85 00 0000 deadbeef'));
    assert.equal(rs.sourceLinkLayer, null);
    assert.deepEqual(rs.options, []);
  });

  test('unknown options are kept and skipped (section 4.6: "silently ignore")', () => {
    const rs = decodeRouterSolicitation(hex('85 00 0000 00000000  fe 01 000000000000  01 01 525400123456'));
    assert.deepEqual(rs.options.map((o) => o.type), [254, 1]);
    assert.deepEqual(rs.sourceLinkLayer, MAC);
  });

  const invalid: Array<[string, string, string]> = [
    ['shorter than 8 bytes', '85 00 0000 000000', 'ND_SHORT'],
    ['empty', '', 'ND_SHORT'],
    ['a router advertisement', '86 00 0000 00000000', 'ND_WRONG_TYPE'],
    ['code not 0', '85 01 0000 00000000', 'ND_BAD_CODE'],
    ['an option of length 0', '85 00 0000 00000000 01 00 525400123456', 'ND_OPTION_ZERO_LENGTH'],
    ['an option running past the end', '85 00 0000 00000000 01 02 525400123456', 'ND_OPTION_TRUNCATED'],
    ['one stray byte after the header', '85 00 0000 00000000 01', 'ND_OPTION_TRUNCATED'],
  ];
  for (const [name, bytes, code] of invalid) {
    test(`invalid: ${name}`, () => {
      assert.throws(() => decodeRouterSolicitation(hex(bytes)), (err: unknown) => err instanceof DecodeError && err.code === code);
    });
  }
});

describe('properties', () => {
  const budget = { numRuns: 2000, interruptAfterTimeLimit: 3000 };

  test('on any bytes the solicitation decoder returns or throws DecodeError, nothing else', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 120 }), fc.boolean(), (raw, asRs) => {
        const bytes = Buffer.from(raw);
        if (asRs && bytes.length >= 2) {
          bytes[0] = 133;
          bytes[1] = 0;
        }
        try {
          const rs = decodeRouterSolicitation(bytes);
          // What decodes accounts for every byte after the header.
          assert.equal(rs.options.reduce((n, o) => n + o.value.length + 2, 8), bytes.length);
          return true;
        } catch (err) {
          if (err instanceof DecodeError) return true;
          throw err;
        }
      }),
      budget,
    );
  });

  test('well-formed solicitations decode to exactly their options', () => {
    const option = fc.record({ type: fc.integer({ min: 0, max: 255 }), units: fc.integer({ min: 1, max: 4 }) }).chain(({ type, units }) =>
      fc.uint8Array({ minLength: units * 8 - 2, maxLength: units * 8 - 2 }).map((v) => ({ type, value: Buffer.from(v) })),
    );
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 4, maxLength: 4 }), fc.array(option, { maxLength: 6 }), (reserved, options) => {
        const bytes = Buffer.concat([hex('85 00 1234'), Buffer.from(reserved), ...options.map((o) => Buffer.concat([Buffer.from([o.type, (o.value.length + 2) / 8]), o.value]))]);
        const rs = decodeRouterSolicitation(bytes);
        assert.deepEqual(rs.options, options);
        assert.deepEqual(rs.sourceLinkLayer, options.find((o) => o.type === 1)?.value ?? null);
      }),
      budget,
    );
  });

  test('advertisements survive encode → decode', () => {
    fc.assert(
      fc.property(
        fc.record({
          curHopLimit: fc.integer({ min: 0, max: 255 }),
          managed: fc.boolean(),
          other: fc.boolean(),
          routerLifetime: fc.integer({ min: 0, max: 0xffff }),
          reachableTime: fc.integer({ min: 0, max: 0xffffffff }),
          retransTimer: fc.integer({ min: 0, max: 0xffffffff }),
          sourceLinkLayer: fc.option(fc.uint8Array({ minLength: 6, maxLength: 6 }).map((b) => Buffer.from(b)), { nil: null }),
        }),
        (ra) => {
          const { options: _options, ...decoded } = decodeRouterAdvertisement(encodeRouterAdvertisement(ra));
          assert.deepEqual(decoded, { ...ra }); // fast-check's records have no prototype
        },
      ),
      budget,
    );
  });
});

test('parseMac: six hex pairs, and not the all-zero address of interfaces without one', () => {
  assert.deepEqual(parseMac('52:54:00:12:34:56'), MAC);
  assert.deepEqual(parseMac('52:54:00:AB:CD:EF'), hex('525400abcdef'));
  assert.equal(parseMac('00:00:00:00:00:00'), null);
  assert.equal(parseMac('52:54:00:12:34'), null);
  assert.equal(parseMac('nonsense'), null);
});
