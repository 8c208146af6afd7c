import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { DecodeError } from '../lib/errors.ts';
import { CAPTURED } from './captured-vectors.ts';
import type { ClientPacket, ServerPacket } from './wire.ts';
import { decodeClientPacket, decodeServerPacket, encodeServerPacket, ErrorCode } from './wire.ts';
import { encodeClientPacket } from './wire-client.ts';

const hex = (s: string): Buffer => Buffer.from(s, 'hex');

describe('captured firmware packets', () => {
  test('iPXE RRQ decodes and re-encodes byte for byte', () => {
    const p = decodeClientPacket(hex(CAPTURED.ipxeRrq));
    assert.deepEqual(p, {
      kind: 'rrq',
      filename: 'k.bin',
      mode: 'octet',
      options: [
        { name: 'blksize', value: '1432' },
        { name: 'tsize', value: '0' },
      ],
    });
    assert.equal(encodeClientPacket(p).toString('hex'), CAPTURED.ipxeRrq);
  });

  test('OVMF size probe: RRQ with tsize, blksize and windowsize, then ERROR 8', () => {
    const rrq = decodeClientPacket(hex(CAPTURED.ovmfProbeRrq));
    assert.deepEqual(rrq, {
      kind: 'rrq',
      filename: 'k.bin',
      mode: 'octet',
      options: [
        { name: 'tsize', value: '0' },
        { name: 'blksize', value: '1468' },
        { name: 'windowsize', value: '4' },
      ],
    });
    assert.equal(encodeClientPacket(rrq).toString('hex'), CAPTURED.ovmfProbeRrq);
    const abort = decodeClientPacket(hex(CAPTURED.ovmfProbeAbort));
    assert.deepEqual(abort, { kind: 'error', code: ErrorCode.OptionNegotiation, message: 'User aborted the transfer' });
    assert.equal(encodeClientPacket(abort).toString('hex'), CAPTURED.ovmfProbeAbort);
  });

  test('ACKs and the real OVMF RRQ', () => {
    assert.deepEqual(decodeClientPacket(hex(CAPTURED.ipxeAck0)), { kind: 'ack', block: 0 });
    assert.deepEqual(decodeClientPacket(hex(CAPTURED.ipxeAck1)), { kind: 'ack', block: 1 });
    const rrq = decodeClientPacket(hex(CAPTURED.ovmfRrq));
    assert.equal(encodeClientPacket(rrq).toString('hex'), CAPTURED.ovmfRrq);
  });

  test("QEMU's OACK decodes and re-encodes with options in order", () => {
    const oack = decodeServerPacket(hex(CAPTURED.slirpOack));
    assert.deepEqual(oack, {
      kind: 'oack',
      options: [
        { name: 'tsize', value: '1024' },
        { name: 'blksize', value: '1428' },
      ],
    });
    assert.equal(encodeServerPacket(oack).toString('hex'), CAPTURED.slirpOack);
  });
});

describe('server packets, byte-exact', () => {
  test('OACK keeps the given order and spelling', () => {
    const b = encodeServerPacket({
      kind: 'oack',
      options: [
        { name: 'BLKSIZE', value: '1468' },
        { name: 'tsize', value: '123456' },
        { name: 'windowsize', value: '16' },
      ],
    });
    assert.equal(b.toString('latin1'), '\x00\x06BLKSIZE\x001468\x00tsize\x00123456\x00windowsize\x0016\x00');
  });

  test('DATA with block number 65535 and an empty payload', () => {
    assert.equal(encodeServerPacket({ kind: 'data', block: 65535, data: Buffer.alloc(0) }).toString('hex'), '0003ffff');
    assert.equal(encodeServerPacket({ kind: 'data', block: 1, data: Buffer.from([0xaa, 0xbb]) }).toString('hex'), '00030001aabb');
  });

  test('ERROR ends in NUL (RFC 1350 section 5)', () => {
    assert.equal(encodeServerPacket({ kind: 'error', code: 1, message: 'File not found' }).toString('hex'), '00050001' + Buffer.from('File not found').toString('hex') + '00');
  });
});

describe('decoder edge cases', () => {
  const rejects = (bytes: Buffer, code: string): void => {
    assert.throws(() => decodeClientPacket(bytes), (e: unknown) => e instanceof DecodeError && e.code === code);
  };

  test('truncations and bad opcodes are DecodeErrors with their own codes', () => {
    rejects(Buffer.alloc(0), 'TFTP_TRUNCATED');
    rejects(Buffer.from([0]), 'TFTP_TRUNCATED');
    rejects(Buffer.from([0, 4, 0]), 'TFTP_TRUNCATED');
    rejects(Buffer.from([0, 9, 0, 0]), 'TFTP_BAD_OPCODE');
    rejects(Buffer.from([0, 6, 0, 0]), 'TFTP_BAD_OPCODE'); // OACK never comes from a client
    rejects(Buffer.from('\x00\x01file', 'latin1'), 'TFTP_UNTERMINATED_STRING');
    rejects(Buffer.from('\x00\x01file\x00octet', 'latin1'), 'TFTP_UNTERMINATED_STRING');
    rejects(Buffer.from('\x00\x01f\x00octet\x00blksize\x00', 'latin1'), 'TFTP_OPTION_WITHOUT_VALUE');
    rejects(Buffer.from('\x00\x01f\x00octet\x00blksize\x00512', 'latin1'), 'TFTP_UNTERMINATED_STRING');
    rejects(Buffer.from('\x00\x01f\x00octet\x00\x00x\x00', 'latin1'), 'TFTP_EMPTY_OPTION_NAME');
  });

  test('NUL padding after the options is accepted (some PXE ROMs pad the RRQ)', () => {
    const p = decodeClientPacket(Buffer.from('\x00\x01f\x00octet\x00tsize\x000\x00\x00\x00\x00', 'latin1'));
    assert.deepEqual(p, { kind: 'rrq', filename: 'f', mode: 'octet', options: [{ name: 'tsize', value: '0' }] });
  });

  test('an ERROR without its NUL still decodes (the message is only logged)', () => {
    assert.deepEqual(decodeClientPacket(Buffer.from('\x00\x05\x00\x00abort', 'latin1')), { kind: 'error', code: 0, message: 'abort' });
  });

  test('an ACK with trailing bytes keeps its block number', () => {
    assert.deepEqual(decodeClientPacket(Buffer.from([0, 4, 0x12, 0x34, 0, 0])), { kind: 'ack', block: 0x1234 });
  });
});

// Plain prototypes, so deepEqual compares them with the decoder's object literals.
const rec = { noNullPrototype: true } as const;
const optionArb = fc.record({ name: fc.stringMatching(/^[a-z]{1,10}$/), value: fc.stringMatching(/^[0-9a-z]{0,6}$/) }, rec);
// Any text without NUL (the terminator), ASCII and beyond.
const text = fc.string({ maxLength: 40, unit: 'grapheme' }).filter((s) => !s.includes('\0'));
const clientPacketArb: fc.Arbitrary<ClientPacket> = fc.oneof(
  fc.record({ kind: fc.constantFrom('rrq' as const, 'wrq' as const), filename: text, mode: fc.constantFrom('octet', 'netascii', 'OCTET'), options: fc.array(optionArb, { maxLength: 5 }) }, rec),
  fc.record({ kind: fc.constant('ack' as const), block: fc.integer({ min: 0, max: 65535 }) }, rec),
  fc.record({ kind: fc.constant('data' as const), block: fc.integer({ min: 0, max: 65535 }), data: fc.uint8Array({ maxLength: 600 }).map((a) => Buffer.from(a)) }, rec),
  fc.record({ kind: fc.constant('error' as const), code: fc.integer({ min: 0, max: 65535 }), message: text }, rec),
);
const serverPacketArb: fc.Arbitrary<ServerPacket> = fc.oneof(
  fc.record({ kind: fc.constant('oack' as const), options: fc.array(optionArb, { maxLength: 5 }) }, rec),
  fc.record({ kind: fc.constant('data' as const), block: fc.integer({ min: 0, max: 65535 }), data: fc.uint8Array({ maxLength: 600 }).map((a) => Buffer.from(a)) }, rec),
  fc.record({ kind: fc.constant('error' as const), code: fc.integer({ min: 0, max: 65535 }), message: text }, rec),
);

describe('properties', () => {
  test('client packets round-trip', () => {
    fc.assert(fc.property(clientPacketArb, (p) => assert.deepEqual(decodeClientPacket(encodeClientPacket(p)), p)));
  });

  test('server packets round-trip', () => {
    fc.assert(fc.property(serverPacketArb, (p) => assert.deepEqual(decodeServerPacket(encodeServerPacket(p)), p)));
  });

  test('fuzz: random bytes give a packet or a DecodeError, nothing else', () => {
    const deadline = Date.now() + 3000;
    const bytesArb = fc.oneof(
      fc.uint8Array({ maxLength: 80 }),
      // Mostly-valid prefixes reach the string cursor and option parser.
      fc.tuple(fc.constantFrom(1, 2, 3, 4, 5, 6), fc.uint8Array({ maxLength: 60 }), fc.nat(8)).map(([op, rest, zeros]) => {
        const a = new Uint8Array([0, op, ...rest]);
        for (let i = 0; i < zeros && i < rest.length; i++) a[2 + ((i * 7) % rest.length)] = 0;
        return a;
      }),
    );
    fc.assert(
      fc.property(bytesArb, (a) => {
        for (const decode of [decodeClientPacket, decodeServerPacket]) {
          try {
            decode(Buffer.from(a));
          } catch (e) {
            assert.ok(e instanceof DecodeError, `not a DecodeError: ${String(e)}`);
          }
        }
      }),
      { numRuns: 200000, interruptAfterTimeLimit: Math.max(100, deadline - Date.now()) },
    );
  });
});
