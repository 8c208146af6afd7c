// The framer under arbitrary chunking (pg-protocol style: split the byte stream anywhere), with
// and without digests, digest switches between PDUs, digest mismatches, the length cap and fuzz.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { padTo4 } from '../lib/bytes.ts';
import { crc32c, writeDigest } from '../lib/crc32c.ts';
import { DecodeError } from '../lib/errors.ts';
import { PduFramer } from './framer.ts';
import type { Frame, PduFramerOptions } from './framer.ts';
import { initiatorPduArb } from './pdu/arbitraries.ts';
import { decodeInitiatorPdu } from './pdu/index.ts';
import { encodeInitiatorHeader, initiatorPduAhs, initiatorPduData } from './pdu/initiator-encode.ts';
import { BHS_LENGTH } from './pdu/types.ts';
import type { InitiatorPdu } from './pdu/types.ts';

const CAP = 16 * 1024 * 1024;

/** One PDU as it goes on the wire, with the digests RFC 7143 section 13.1 describes. */
function wire(pdu: InitiatorPdu, headerDigest: boolean, dataDigest: boolean): Buffer {
  const header = Buffer.alloc(BHS_LENGTH);
  encodeInitiatorHeader(pdu, header);
  const ahs = initiatorPduAhs(pdu);
  const data = initiatorPduData(pdu);
  const parts = [header, ahs];
  if (headerDigest) {
    const d = Buffer.alloc(4);
    writeDigest(d, 0, crc32c(ahs, crc32c(header)));
    parts.push(d);
  }
  if (data.length > 0) {
    const padded = Buffer.concat([data, Buffer.alloc(padTo4(data.length))]);
    parts.push(padded);
    if (dataDigest) {
      const d = Buffer.alloc(4);
      writeDigest(d, 0, crc32c(padded));
      parts.push(d);
    }
  }
  return Buffer.concat(parts);
}

/** A frame in comparable form (hex), independent of which buffers it aliases. */
function show(f: Frame): string {
  return `${f.header.toString('hex')}|${f.ahs.toString('hex')}|${f.data.toString('hex')}|${f.headerDigestOk}|${f.dataDigestOk}`;
}

function expected(pdus: readonly InitiatorPdu[]): string[] {
  return pdus.map((p) => {
    const header = Buffer.alloc(BHS_LENGTH);
    encodeInitiatorHeader(p, header);
    return `${header.toString('hex')}|${initiatorPduAhs(p).toString('hex')}|${initiatorPduData(p).toString('hex')}|true|true`;
  });
}

/** Split bytes at the given cut points (taken modulo the length, sorted, deduplicated). */
function split(bytes: Buffer, cuts: readonly number[]): Buffer[] {
  const points = [...new Set(cuts.map((c) => (bytes.length === 0 ? 0 : c % bytes.length)))].sort((a, b) => a - b);
  const chunks: Buffer[] = [];
  let prev = 0;
  for (const p of points) {
    if (p > prev) chunks.push(bytes.subarray(prev, p));
    prev = Math.max(prev, p);
  }
  if (prev < bytes.length) chunks.push(bytes.subarray(prev));
  return chunks;
}

function frameAll(chunks: readonly Buffer[], opts: PduFramerOptions): Frame[] {
  const framer = new PduFramer(opts);
  const frames: Frame[] = [];
  for (const c of chunks) framer.push(c, (f) => frames.push(f));
  return frames;
}

const nopOut = (data: Buffer, itt = 1): InitiatorPdu => ({
  kind: 'nop-out', immediate: true, lun: 0n, initiatorTaskTag: itt, targetTransferTag: 0xffffffff, cmdSn: itt,
  expStatSn: 0, data,
});

const streamArb = fc.record({
  pdus: fc.array(initiatorPduArb, { minLength: 1, maxLength: 6 }),
  headerDigest: fc.boolean(),
  dataDigest: fc.boolean(),
  cuts: fc.array(fc.nat(), { maxLength: 20 }),
});

test('framer: any chunking of a PDU stream, with or without digests, yields the same frames', () => {
  fc.assert(
    fc.property(streamArb, ({ pdus, headerDigest, dataDigest, cuts }) => {
      const bytes = Buffer.concat(pdus.map((p) => wire(p, headerDigest, dataDigest)));
      const frames = frameAll(split(bytes, cuts), { headerDigest, dataDigest, maxDataSegmentLength: CAP });
      assert.deepEqual(frames.map(show), expected(pdus));
      frames.forEach((f, i) => assert.deepEqual(decodeInitiatorPdu(f.header, f.ahs, f.data), pdus[i]));
    }),
    { numRuns: 3000 },
  );
});

test('framer: one byte at a time', () => {
  fc.assert(
    fc.property(streamArb, ({ pdus, headerDigest, dataDigest }) => {
      const bytes = Buffer.concat(pdus.map((p) => wire(p, headerDigest, dataDigest)));
      const chunks = Array.from({ length: bytes.length }, (_, i) => bytes.subarray(i, i + 1));
      assert.deepEqual(frameAll(chunks, { headerDigest, dataDigest, maxDataSegmentLength: CAP }).map(show), expected(pdus));
    }),
    { numRuns: 100 },
  );
});

test('framer: a PDU inside one chunk is handed out as views of that chunk (zero copy)', () => {
  const pdus = [nopOut(Buffer.from('hello world'), 1), nopOut(Buffer.alloc(0), 2)];
  const chunk = Buffer.concat(pdus.map((p) => wire(p, true, true)));
  const frames = frameAll([chunk], { headerDigest: true, dataDigest: true, maxDataSegmentLength: CAP });
  assert.equal(frames.length, 2);
  for (const f of frames) {
    assert.equal(f.header.buffer, chunk.buffer);
    if (f.data.length > 0) assert.equal(f.data.buffer, chunk.buffer);
  }
  assert.equal(frames[0]?.data.byteOffset, chunk.byteOffset + BHS_LENGTH + 4);
});

test('framer: waitingForData is true exactly while a header has arrived and none of its data', () => {
  const withData = wire(nopOut(Buffer.alloc(100, 1)), false, false);
  const empty = wire(nopOut(Buffer.alloc(0), 2), false, false);
  const framer = new PduFramer({ headerDigest: false, dataDigest: false, maxDataSegmentLength: CAP });
  const seen: boolean[] = [];
  const feed = (chunk: Buffer): void => {
    framer.push(chunk, () => {});
    seen.push(framer.waitingForData);
  };
  feed(withData.subarray(0, 20)); // part of the header
  feed(withData.subarray(20, BHS_LENGTH)); // the header alone: iPXE now waits for our ACK
  feed(withData.subarray(BHS_LENGTH, BHS_LENGTH + 1)); // one byte of data
  feed(withData.subarray(BHS_LENGTH + 1)); // the rest
  feed(empty); // a PDU without data
  assert.deepEqual(seen, [false, true, false, false, false]);
});

test('framer: a data segment straddling chunks is copied once into a buffer of exactly its size', () => {
  const data = Buffer.alloc(64 * 1024 + 3, 7);
  const bytes = wire(nopOut(data), false, false);
  const chunks = split(bytes, [10, 20_000, 40_000, 60_000]);
  const frames = frameAll(chunks, { headerDigest: false, dataDigest: false, maxDataSegmentLength: CAP });
  assert.equal(frames.length, 1);
  const f = frames[0];
  assert.ok(f);
  assert.ok(f.data.equals(data));
  assert.equal(f.data.buffer.byteLength, data.length);
  assert.ok(chunks.every((c) => c.buffer !== f.data.buffer));
});

test('framer: placeData receives data segments in place under any chunking, digests included', () => {
  fc.assert(
    fc.property(streamArb, fc.boolean(), ({ pdus, headerDigest, dataDigest, cuts }, placeAll) => {
      const bytes = Buffer.concat(pdus.map((p) => wire(p, headerDigest, dataDigest)));
      const framer = new PduFramer({ headerDigest, dataDigest, maxDataSegmentLength: CAP });
      const placed: Buffer[] = [];
      let calls = 0;
      framer.placeData = (header, _ahs, length) => {
        calls++;
        assert.equal(header.readUIntBE(5, 3), length);
        // Every other segment, or all: the rest take the framer's own path.
        if (!placeAll && calls % 2 === 0) return null;
        const target = Buffer.alloc(length + 8, 0xee).subarray(4, 4 + length);
        placed.push(target);
        return target;
      };
      const frames: Frame[] = [];
      for (const c of split(bytes, cuts)) framer.push(c, (f) => frames.push(f));
      assert.deepEqual(frames.map(show), expected(pdus));
      const withData = frames.filter((f) => f.data.length > 0);
      assert.equal(calls, withData.length);
      for (const target of placed) assert.ok(withData.some((f) => f.data === target), 'the frame carries the placed buffer');
    }),
    { numRuns: 2000 },
  );
});

/**
 * Feeds `bytes` the way a socket with Node's `onread` does: each read copies at most `cap` bytes
 * (the next of `caps`, cycling) into the buffer readBuffer() offers, then calls received().
 * Returns every buffer offered.
 */
function readThrough(framer: PduFramer, bytes: Buffer, caps: readonly number[], onFrame: (f: Frame) => void): Buffer[] {
  const offered: Buffer[] = [];
  let off = 0;
  for (let i = 0; off < bytes.length; i++) {
    const buffer = framer.readBuffer();
    offered.push(buffer);
    const n = Math.min(buffer.length, bytes.length - off, Math.max(1, caps.length === 0 ? bytes.length : (caps[i % caps.length] ?? 1)));
    bytes.copy(buffer, 0, off, off + n);
    off += n;
    framer.received(n, onFrame);
  }
  return offered;
}

test('framer: reads into its own reused buffer (readBuffer/received) give the same frames, none aliasing that buffer', () => {
  fc.assert(
    fc.property(streamArb, fc.array(fc.integer({ min: 1, max: 300 }), { maxLength: 10 }), ({ pdus, headerDigest, dataDigest }, caps) => {
      const bytes = Buffer.concat(pdus.map((p) => wire(p, headerDigest, dataDigest)));
      const framer = new PduFramer({ headerDigest, dataDigest, maxDataSegmentLength: CAP });
      const frames: Frame[] = [];
      readThrough(framer, bytes, caps, (f) => frames.push(f));
      // Compared after every read has landed: a frame still pointing into the receive buffer
      // would show the bytes of later reads.
      assert.deepEqual(frames.map(show), expected(pdus));
    }),
    { numRuns: 2000 },
  );
});

test('framer: a large placed segment is read straight into its place, under any read sizes', () => {
  const data = Buffer.alloc(200 * 1024 + 3);
  for (let i = 0; i < data.length; i++) data[i] = (i * 7) & 0xff;
  const pdus = [nopOut(Buffer.from('small'), 1), nopOut(data, 2), nopOut(Buffer.alloc(0), 3), nopOut(data, 4)];
  fc.assert(
    fc.property(fc.boolean(), fc.array(fc.integer({ min: 1, max: 100_000 }), { maxLength: 6 }), (digests, caps) => {
      const bytes = Buffer.concat(pdus.map((p) => wire(p, digests, digests)));
      const framer = new PduFramer({ headerDigest: digests, dataDigest: digests, maxDataSegmentLength: CAP });
      const targets: Buffer[] = [];
      framer.placeData = (_header, _ahs, length) => {
        if (length < 1024) return null;
        const target = Buffer.alloc(length);
        targets.push(target);
        return target;
      };
      const frames: Frame[] = [];
      const offered = readThrough(framer, bytes, caps, (f) => frames.push(f));
      assert.deepEqual(frames.map(show), expected(pdus));
      assert.equal(targets.length, 2);
      for (const target of targets) {
        assert.ok(frames.some((f) => f.data === target), 'the frame carries the placed buffer');
        assert.ok(offered.some((b) => b.buffer === target.buffer), 'some read went straight into the placed buffer');
      }
    }),
    { numRuns: 200 },
  );
});

test('framer: the receive buffer grows while reads fill it', () => {
  const pdus = Array.from({ length: 200 }, (_, i) => nopOut(Buffer.alloc(4096, i), i + 1));
  const bytes = Buffer.concat(pdus.map((p) => wire(p, false, false)));
  const framer = new PduFramer({ headerDigest: false, dataDigest: false, maxDataSegmentLength: CAP });
  const frames: Frame[] = [];
  const offered = readThrough(framer, bytes, [], (f) => frames.push(f));
  assert.deepEqual(frames.map(show), expected(pdus));
  const sizes = offered.map((b) => b.length);
  assert.ok((sizes.at(-1) ?? 0) > (sizes[0] ?? 0), `grew: ${sizes.join(',')}`);
  assert.ok(sizes.every((n) => n <= 256 * 1024));
});

test('framer: a placement of the wrong length is ignored', () => {
  const data = Buffer.from('twelve bytes');
  const framer = new PduFramer({ headerDigest: false, dataDigest: false, maxDataSegmentLength: CAP });
  framer.placeData = () => Buffer.alloc(4);
  const frames: Frame[] = [];
  framer.push(wire(nopOut(data), false, false), (f) => frames.push(f));
  assert.ok(frames[0]?.data.equals(data));
});

test('framer: digests switched on from onFrame apply to the next PDU in the same chunk', () => {
  // Login request without digests, then full-feature PDUs with both digests (RFC 7143 section 13.1).
  const first = nopOut(Buffer.from('login'), 1);
  const rest = [nopOut(Buffer.from('abc'), 2), nopOut(Buffer.alloc(0), 3), nopOut(Buffer.from('12345678'), 4)];
  const bytes = Buffer.concat([wire(first, false, false), ...rest.map((p) => wire(p, true, true))]);
  fc.assert(
    fc.property(fc.array(fc.nat(), { maxLength: 8 }), (cuts) => {
      const framer = new PduFramer({ headerDigest: false, dataDigest: false, maxDataSegmentLength: CAP });
      const frames: Frame[] = [];
      for (const c of split(bytes, cuts)) {
        framer.push(c, (f) => {
          frames.push(f);
          if (frames.length === 1) framer.setDigests(true, true);
        });
      }
      assert.deepEqual(frames.map(show), expected([first, ...rest]));
    }),
    { numRuns: 300 },
  );
});

test('framer: setDigests between pushes applies from the next PDU, not the one in progress', () => {
  const a = wire(nopOut(Buffer.from('abcd'), 1), false, false);
  const b = wire(nopOut(Buffer.from('efgh'), 2), true, true);
  const framer = new PduFramer({ headerDigest: false, dataDigest: false, maxDataSegmentLength: CAP });
  const frames: Frame[] = [];
  framer.push(a.subarray(0, 10), (f) => frames.push(f));
  framer.setDigests(true, true);
  framer.push(Buffer.concat([a.subarray(10), b]), (f) => frames.push(f));
  assert.deepEqual(frames.map(show), expected([nopOut(Buffer.from('abcd'), 1), nopOut(Buffer.from('efgh'), 2)]));
});

test('framer: no data digest follows an empty data segment even with DataDigest on', () => {
  const bytes = Buffer.concat([wire(nopOut(Buffer.alloc(0), 1), true, true), wire(nopOut(Buffer.from('x'), 2), true, true)]);
  assert.equal(bytes.length, 48 + 4 + (48 + 4 + 4 + 4));
  const frames = frameAll([bytes], { headerDigest: true, dataDigest: true, maxDataSegmentLength: CAP });
  assert.deepEqual(frames.map(show), expected([nopOut(Buffer.alloc(0), 1), nopOut(Buffer.from('x'), 2)]));
});

test('framer: digest mismatches are reported per PDU, and framing continues', () => {
  const pdu = nopOut(Buffer.from('hello'), 1); // 5 bytes of data + 3 of padding
  const good = wire(pdu, true, true);
  const cases: ReadonlyArray<readonly [string, number, boolean, boolean]> = [
    ['header byte', 20, false, true],
    ['header digest', 48, false, true],
    ['data byte', 52, true, false],
    ['padding byte', 52 + 6, true, false],
    ['data digest', 52 + 8 + 1, true, false],
  ];
  for (const [name, offset, headerOk, dataOk] of cases) {
    const bad = Buffer.from(good);
    bad[offset] = (bad[offset] ?? 0) ^ 0x01;
    const frames = frameAll(split(Buffer.concat([bad, good]), [offset]), { headerDigest: true, dataDigest: true, maxDataSegmentLength: CAP });
    assert.equal(frames.length, 2, name);
    assert.equal(frames[0]?.headerDigestOk, headerOk, name);
    assert.equal(frames[0]?.dataDigestOk, dataOk, name);
    assert.equal(frames[1]?.headerDigestOk, true, name);
    assert.equal(frames[1]?.dataDigestOk, true, name);
  }
});

test('framer: RFC 3720 B.4 read command with its header digest 56 3a 96 d9 passes', () => {
  const bytes = Buffer.from(
    '01c00000000000000000000000000000' + '14000000000004000000001400000018' + '28000000000000000200000000000000' + '563a96d9',
    'hex',
  );
  const frames = frameAll([bytes], { headerDigest: true, dataDigest: true, maxDataSegmentLength: CAP });
  assert.equal(frames.length, 1);
  assert.equal(frames[0]?.headerDigestOk, true);
});

test('framer: DataSegmentLength over the cap throws ISCSI_DATA_TOO_LONG, then stays failed', () => {
  const framer = new PduFramer({ headerDigest: false, dataDigest: false, maxDataSegmentLength: 1024 });
  const ok = wire(nopOut(Buffer.alloc(1024), 1), false, false);
  const tooLong = wire(nopOut(Buffer.alloc(1025), 2), false, false);
  const frames: Frame[] = [];
  assert.throws(() => framer.push(Buffer.concat([ok, tooLong]), (f) => frames.push(f)), (err: unknown) => err instanceof DecodeError && err.code === 'ISCSI_DATA_TOO_LONG');
  assert.equal(frames.length, 1);
  assert.throws(() => framer.push(ok, (f) => frames.push(f)), { code: 'ISCSI_DATA_TOO_LONG' });
  assert.equal(frames.length, 1);
});

test('fuzz: random bytes in random chunks into the framer raise only DecodeError', () => {
  fc.assert(
    fc.property(
      fc.uint8Array({ maxLength: 600 }),
      fc.array(fc.nat(), { maxLength: 10 }),
      fc.boolean(),
      fc.boolean(),
      (bytes, cuts, headerDigest, dataDigest) => {
        const framer = new PduFramer({ headerDigest, dataDigest, maxDataSegmentLength: 256 });
        try {
          for (const c of split(Buffer.from(bytes), cuts)) {
            framer.push(c, (f) => {
              assert.equal(f.header.length, BHS_LENGTH);
              try {
                decodeInitiatorPdu(f.header, f.ahs, f.data);
              } catch (err) {
                assert.ok(err instanceof DecodeError);
              }
            });
          }
        } catch (err) {
          assert.ok(err instanceof DecodeError, `expected DecodeError, got ${String(err)}`);
        }
      },
    ),
    { numRuns: 20_000 },
  );
});
