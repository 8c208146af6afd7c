// The overlay format, byte by byte: the header laid out as docs/OVERLAY.md documents it, the
// map entries with known-answer checks, round trips, and decoders that only throw DecodeError.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { crc32c } from '../../lib/crc32c.ts';
import { DecodeError } from '../../lib/errors.ts';
import { FingerprintKind, HEADER_BYTES, type MapEntry, type OverlayHeader, computeLayout, decodeEntry, decodeHeader, encodeEntry, encodeHeader, entryCheck } from './overlay-format.ts';

const header: OverlayHeader = {
  clusterBytes: 65536,
  blockBytes: 512,
  virtualSizeBytes: 10 * 1024 * 1024 * 1024 + 512,
  ...computeLayout(10 * 1024 * 1024 * 1024 + 512, 65536),
  generation: 3,
  overlayId: Buffer.from('00112233445566778899aabbccddeeff', 'hex'),
  createdAtMs: 1_700_000_000_123,
  baseSizeBytes: 10 * 1024 * 1024 * 1024 + 100,
  fingerprintKind: FingerprintKind.SampledSha256,
  sampleBytes: 65536,
  sampleCount: 64,
  baseFingerprint: Buffer.alloc(32, 0xab),
  imageDigest: Buffer.alloc(32, 0xcd),
};

const hex = (s: string): Buffer => Buffer.from(s.replace(/\s+/g, ''), 'hex');

test('layout: map after the 4 KiB header, data cluster-aligned after the map', () => {
  assert.deepEqual(computeLayout(10 * 1024 * 1024 * 1024 + 512, 65536), { clusterCount: 163841, mapOffset: 4096, mapBytes: 1314816, dataOffset: 1376256 });
  assert.deepEqual(computeLayout(4096, 4096), { clusterCount: 1, mapOffset: 4096, mapBytes: 4096, dataOffset: 8192 });
  assert.deepEqual(computeLayout(1024 * 1024, 262144), { clusterCount: 4, mapOffset: 4096, mapBytes: 4096, dataOffset: 262144 });
});

test('encodeHeader writes every field at its documented offset, little-endian, with a CRC32C', () => {
  const b = encodeHeader(header);
  assert.equal(b.length, HEADER_BYTES);
  const expected = Buffer.alloc(HEADER_BYTES);
  hex(`
    44 4c 53 4f 56 52 4c 59   01 00 00 00   00 10 00 00
    00 00 01 00   00 02 00 00   00 02 00 80 02 00 00 00
    01 80 02 00 00 00 00 00   00 10 00 00 00 00 00 00
    00 10 14 00 00 00 00 00   00 00 15 00 00 00 00 00
    03 00 00 00 00 00 00 00   00 11 22 33 44 55 66 77
    88 99 aa bb cc dd ee ff   7b 68 e5 cf 8b 01 00 00
    64 00 00 80 02 00 00 00   01 00 00 00   00 00 01 00
    40 00 00 00   00 00 00 00 00 00 00 00 00 00 00 00
  `).copy(expected, 0);
  Buffer.alloc(32, 0xab).copy(expected, 128);
  Buffer.alloc(32, 0xcd).copy(expected, 160);
  expected.writeUInt32LE(crc32c(expected.subarray(0, 4092)), 4092);
  assert.equal(b.toString('hex'), expected.toString('hex'));
});

test('decodeHeader(encodeHeader(h)) is h', () => {
  assert.deepEqual(decodeHeader(encodeHeader(header)), header);
});

test('decodeHeader names what is wrong', () => {
  const good = encodeHeader(header);
  const withCrc = (mutate: (b: Buffer) => void): Buffer => {
    const b = Buffer.from(good);
    mutate(b);
    b.writeUInt32LE(crc32c(b.subarray(0, 4092)), 4092);
    return b;
  };
  const cases: [Buffer, string][] = [
    [good.subarray(0, 100), 'OVERLAY_HEADER_TRUNCATED'],
    [withCrc((b) => b.write('QCOW', 0)), 'OVERLAY_BAD_MAGIC'],
    [withCrc((b) => b.writeUInt32LE(2, 8)), 'OVERLAY_BAD_VERSION'],
    [Buffer.concat([good.subarray(0, 4092), Buffer.from([0, 0, 0, 0])]), 'OVERLAY_BAD_HEADER_CRC'],
    [withCrc((b) => b.writeUInt32LE(3000, 16)), 'OVERLAY_BAD_CLUSTER_SIZE'],
    [withCrc((b) => b.writeUInt32LE(100, 20)), 'OVERLAY_BAD_HEADER_FIELD'],
    [withCrc((b) => b.writeBigUInt64LE(8192n, 56)), 'OVERLAY_BAD_LAYOUT'],
    [withCrc((b) => b.writeBigUInt64LE(0n, 64)), 'OVERLAY_BAD_HEADER_FIELD'],
    [withCrc((b) => (b[300] = 1)), 'OVERLAY_BAD_HEADER_FIELD'],
    [withCrc((b) => (b[104] = 9)), 'OVERLAY_BAD_HEADER_FIELD'],
  ];
  for (const [bytes, code] of cases) assert.throws(() => decodeHeader(bytes), (err: unknown) => err instanceof DecodeError && err.code === code, code);
});

test('map entries: known bytes, and the check ties an entry to its cluster', () => {
  const b = Buffer.alloc(8);
  encodeEntry(b, 0, 5, { kind: 'data', slot: 7 });
  assert.equal(b.toString('hex'), '07000000' + '02' + '00' + '9ba6');
  encodeEntry(b, 0, 0, { kind: 'zero' });
  assert.equal(b.toString('hex'), '00000000' + '01' + '00' + '6aa8');
  encodeEntry(b, 0, 9, { kind: 'base' });
  assert.equal(b.toString('hex'), '0000000000000000');
  // Known answers for docs/OVERLAY.md, so another implementation can test its check function.
  assert.equal(entryCheck(0, 0, 1), 0xa86a);
  assert.equal(entryCheck(5, 7, 2), 0xa69b);
  assert.equal(entryCheck(2 ** 32 + 3, 0xfffffffc, 2), 0x3cbf);
  assert.equal(entryCheck(1_000_000, 123_456, 2), 0xf593);
  encodeEntry(b, 0, 5, { kind: 'data', slot: 7 });
  assert.deepEqual(decodeEntry(b, 0, 5), { kind: 'data', slot: 7 });
  assert.throws(() => decodeEntry(b, 0, 6), /check/); // the same entry at another cluster
});

test('decodeEntry(encodeEntry(e)) is e for any cluster and slot', () => {
  const entry: fc.Arbitrary<MapEntry> = fc.oneof(
    fc.constant<MapEntry>({ kind: 'base' }),
    fc.constant<MapEntry>({ kind: 'zero' }),
    fc.nat({ max: 0xfffffffc }).map((slot): MapEntry => ({ kind: 'data', slot })),
  );
  fc.assert(
    fc.property(fc.nat({ max: Number.MAX_SAFE_INTEGER }), entry, (cluster, e) => {
      const b = Buffer.alloc(8);
      encodeEntry(b, 0, cluster, e);
      assert.deepEqual(decodeEntry(b, 0, cluster), e);
    }),
    { numRuns: 2000 },
  );
});

test('decoders on random bytes throw only DecodeError', () => {
  const onlyDecodeErrors = (run: () => unknown): boolean => {
    try {
      run();
      return true;
    } catch (err) {
      if (err instanceof DecodeError) return true;
      throw err;
    }
  };
  const budget = { numRuns: 2000, interruptAfterTimeLimit: 3000 };
  fc.assert(fc.property(fc.uint8Array({ minLength: 8, maxLength: 8 }), fc.nat(), (bytes, cluster) => onlyDecodeErrors(() => decodeEntry(Buffer.from(bytes), 0, cluster))), budget);
  // Random header fields behind a valid magic, version and CRC, so the field checks are reached.
  fc.assert(
    fc.property(fc.uint8Array({ minLength: 180, maxLength: 180 }), (fields) => {
      const b = encodeHeader(header);
      Buffer.from(fields).copy(b, 12);
      b.writeUInt32LE(crc32c(b.subarray(0, 4092)), 4092);
      return onlyDecodeErrors(() => decodeHeader(b));
    }),
    budget,
  );
  fc.assert(fc.property(fc.uint8Array({ maxLength: 5000 }), (bytes) => onlyDecodeErrors(() => decodeHeader(Buffer.from(bytes)))), budget);
});
