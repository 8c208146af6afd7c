// Every decoder either returns a value or throws DecodeError, never RangeError/TypeError, and
// generated messages survive the round trip. Time-boxed like undici's fuzzing.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import type { Arbitrary } from 'fast-check';
import { DecodeError } from '../../lib/errors.ts';
import type { DhcpMessage } from './packet.ts';
import { decodeDhcpMessage, encodeDhcpMessage } from './packet.ts';
import { decodeEncapsulated, decodeUserClass, readClientArch, readIpOption, readParameterRequestList, readStringOption, readU16Option } from './options.ts';
import { describeDhcpMessage } from './describe.ts';
import { classifyPxeClient } from '../pxe.ts';

const budget = { numRuns: 3000, interruptAfterTimeLimit: 4000 };

function onlyDecodeErrors(run: () => unknown): boolean {
  try {
    run();
    return true;
  } catch (err) {
    if (err instanceof DecodeError) return true;
    throw err;
  }
}

const bytes = (max: number): Arbitrary<Buffer> => fc.uint8Array({ maxLength: max }).map((a) => Buffer.from(a));
const header = Buffer.concat([Buffer.from([1, 1, 6, 0]), Buffer.alloc(232), Buffer.from([0x63, 0x82, 0x53, 0x63])]);

test('decodeDhcpMessage on random bytes and random option areas throws only DecodeError', () => {
  fc.assert(fc.property(bytes(600), (b) => onlyDecodeErrors(() => decodeDhcpMessage(b))), budget);
  fc.assert(
    fc.property(bytes(400), fc.nat({ max: 255 }), (options, hlen) => {
      const h = Buffer.from(header);
      h[2] = hlen;
      return onlyDecodeErrors(() => {
        const m = decodeDhcpMessage(Buffer.concat([h, options]));
        // whatever decodes must also classify, describe and re-encode without crashing
        classifyPxeClient(m);
        describeDhcpMessage(m);
        encodeDhcpMessage(m);
      });
    }),
    budget,
  );
});

test('option readers and encapsulated/user-class decoders throw only DecodeError', () => {
  fc.assert(
    fc.property(fc.nat({ max: 255 }), bytes(300), (code, data) => {
      const options = [{ code, data }];
      return [
        () => decodeEncapsulated(data, 'x'), () => decodeUserClass(data), () => readClientArch(options), () => readIpOption(options, code),
        () => readU16Option(options, code), () => readStringOption(options, code), () => readParameterRequestList(options),
      ].every(onlyDecodeErrors);
    }),
    budget,
  );
});

const ip = fc.tuple(fc.nat({ max: 255 }), fc.nat({ max: 255 }), fc.nat({ max: 255 }), fc.nat({ max: 255 })).map((p) => p.join('.'));
const text = (max: number): Arbitrary<string> => fc.string({ maxLength: max, unit: fc.integer({ min: 1, max: 255 }).map((c) => String.fromCharCode(c)) });
const optionCode = fc.integer({ min: 1, max: 254 }).filter((c) => c !== 52);
const optionsArb = fc.uniqueArray(fc.record({ code: optionCode, data: bytes(600) }, { noNullPrototype: true }), { selector: (o) => o.code, maxLength: 8 });

const messageArb: Arbitrary<DhcpMessage> = fc.record({
  op: fc.constantFrom(1, 2), htype: fc.nat({ max: 255 }), hlen: fc.nat({ max: 16 }), hops: fc.nat({ max: 255 }), xid: fc.nat({ max: 0xffffffff }),
  secs: fc.nat({ max: 0xffff }), flags: fc.nat({ max: 0xffff }), ciaddr: ip, yiaddr: ip, siaddr: ip, giaddr: ip,
  chaddr: fc.uint8Array({ minLength: 16, maxLength: 16 }).map((a) => Buffer.from(a)), sname: text(64), file: text(128),
  options: optionsArb, padding: fc.nat({ max: 64 }).map((n) => Buffer.alloc(n)),
}, { noNullPrototype: true });

test('round trip: decode(encode(m)) deep-equals m', () => {
  fc.assert(fc.property(messageArb, (m) => {
    assert.deepEqual(decodeDhcpMessage(encodeDhcpMessage(m)), m);
  }), budget);
});

test('round trip with a size limit: overloaded messages keep every option and stay within the limit', () => {
  fc.assert(fc.property(messageArb, fc.integer({ min: 300, max: 1472 }), (m, maxLength) => {
    let bytes: Buffer;
    try {
      bytes = encodeDhcpMessage(m, { maxLength });
    } catch (err) {
      if (err instanceof Error && err.name === 'DhcpEncodeError') return;
      throw err;
    }
    const back = decodeDhcpMessage(bytes);
    assert.deepEqual(back.options, m.options);
    if (bytes.length > maxLength) assert.fail(`${bytes.length} > ${maxLength}`);
  }), budget);
});
