// CRC32C known answers from RFC 3720 appendix B.4 (carried into RFC 7143 by reference), compared
// as the bytes that go on the wire (writeDigest: least significant byte first).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { crc32c, readDigest, writeDigest } from './crc32c.ts';

function wire(bytes: Buffer): string {
  const out = Buffer.alloc(4);
  writeDigest(out, 0, crc32c(bytes));
  return out.toString('hex');
}

const incrementing = Buffer.from(Array.from({ length: 32 }, (_, i) => i));
const decrementing = Buffer.from(Array.from({ length: 32 }, (_, i) => 31 - i));
// The 48-byte iSCSI Read (10) SCSI Command PDU of RFC 3720 B.4.
const iscsiRead = Buffer.from(
  '01c00000000000000000000000000000' + '14000000000004000000001400000018' + '28000000000000000200000000000000',
  'hex',
);

const vectors: ReadonlyArray<readonly [string, Buffer, string]> = [
  ['32 bytes of zeros', Buffer.alloc(32), 'aa36918a'],
  ['32 bytes of 0xff', Buffer.alloc(32, 0xff), '43aba862'],
  ['32 incrementing bytes 00..1f', incrementing, '4e79dd46'],
  ['32 decrementing bytes 1f..00', decrementing, '5cdb3f11'],
  ['the iSCSI read command', iscsiRead, '563a96d9'],
];

for (const [name, bytes, expected] of vectors) {
  test(`crc32c: RFC 3720 B.4 ${name} → ${expected} on the wire`, () => {
    assert.equal(wire(bytes), expected);
  });
}

test('crc32c: continuing from an initial value equals one pass', () => {
  const whole = crc32c(iscsiRead);
  const split = crc32c(iscsiRead.subarray(20), crc32c(iscsiRead.subarray(0, 20)));
  assert.equal(split, whole);
  assert.equal(crc32c(Buffer.alloc(0), whole), whole);
});

test('crc32c: readDigest inverts writeDigest', () => {
  const out = Buffer.alloc(8);
  writeDigest(out, 4, 0xdeadbeef);
  assert.equal(out.toString('hex'), '00000000efbeadde');
  assert.equal(readDigest(out, 4), 0xdeadbeef);
});
