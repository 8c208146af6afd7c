import assert from 'node:assert/strict';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { test } from 'node:test';
import { DecodeError } from '../../lib/errors.ts';
import { describeDhcpMessage } from './describe.ts';
import type { DhcpMessage } from './packet.ts';
import { clientMac, decodeDhcpMessage, DhcpEncodeError, encodeDhcpMessage, readMessageType } from './packet.ts';
import { DhcpOption, MessageType } from './option-codes.ts';
import { findOption } from './options.ts';

const VECTORS = new URL('../../../test/vectors/dhcp/', import.meta.url);

export function loadVector(name: string): Buffer {
  const text = readFileSync(new URL(`${name}.hex`, VECTORS), 'utf8');
  return Buffer.from(text.split('\n').filter((l) => !l.startsWith('#')).join(''), 'hex');
}

const names = readdirSync(VECTORS).filter((f) => f.endsWith('.hex')).map((f) => f.slice(0, -4)).sort();

test('there are captured vectors for iPXE, OVMF PXE and chainloaded iPXE', () => {
  for (const n of ['ipxe-bios-e1000-discover', 'ovmf-pxe-x64-discover', 'undionly-bios-discover', 'ipxe-efi-x64-request']) assert.ok(names.includes(n), n);
});

for (const name of names) {
  test(`vector ${name}: encode(decode(b)) is byte-exact and matches the golden pretty-print`, () => {
    const bytes = loadVector(name);
    const message = decodeDhcpMessage(bytes);
    assert.deepEqual(encodeDhcpMessage(message), bytes);
    const golden = new URL(`${name}.txt`, VECTORS);
    const text = describeDhcpMessage(message);
    if (process.env.UPDATE_VECTORS === '1') writeFileSync(golden, text);
    assert.equal(text, readFileSync(golden, 'utf8'));
  });
}

test('iPXE ROM DISCOVER decodes to the fields the capture shows', () => {
  const m = decodeDhcpMessage(loadVector('ipxe-bios-e1000-discover'));
  assert.equal(m.op, 1);
  assert.equal(m.xid, 0xbb31a02b);
  assert.equal(clientMac(m), '52:54:00:12:34:56');
  assert.equal(readMessageType(m), MessageType.Discover);
  assert.equal(findOption(m.options, DhcpOption.UserClass)?.toString(), 'iPXE');
  assert.equal(findOption(m.options, DhcpOption.VendorClassIdentifier)?.toString(), 'PXEClient:Arch:00000:UNDI:002001');
  assert.equal(m.flags, 0);
});

test('OVMF and undionly set the broadcast flag; the iPXE ROM does not', () => {
  assert.equal(decodeDhcpMessage(loadVector('ovmf-pxe-x64-discover')).flags, 0x8000);
  assert.equal(decodeDhcpMessage(loadVector('undionly-bios-discover')).flags, 0x8000);
});

const base: DhcpMessage = {
  op: 2, htype: 1, hlen: 6, hops: 0, xid: 0x12345678, secs: 0, flags: 0,
  ciaddr: '0.0.0.0', yiaddr: '10.0.0.5', siaddr: '10.0.0.1', giaddr: '0.0.0.0',
  chaddr: Buffer.concat([Buffer.from('525400aabbcc', 'hex'), Buffer.alloc(10)]), sname: '', file: 'undionly.kpxe',
  options: [{ code: DhcpOption.MessageType, data: Buffer.from([MessageType.Offer]) }],
};

test('a short message is padded to the BOOTP minimum of 300 bytes', () => {
  const bytes = encodeDhcpMessage(base);
  assert.equal(bytes.length, 300);
  const back = decodeDhcpMessage(bytes);
  assert.equal(back.file, 'undionly.kpxe');
  assert.deepEqual(back.options, base.options);
});

test('long options (RFC 3396) are split into 255-byte fragments and concatenated back', () => {
  const long = Buffer.alloc(600, 0x61);
  const bytes = encodeDhcpMessage({ ...base, options: [...base.options, { code: DhcpOption.RootPath, data: long }] });
  // three fragments: 255 + 255 + 90
  assert.equal(bytes.length, 240 + 3 + (2 + 255) * 2 + 2 + 90 + 1);
  assert.deepEqual(findOption(decodeDhcpMessage(bytes).options, DhcpOption.RootPath), long);
});

test('options that do not fit the limit overload into an empty sname (file holds the boot file)', () => {
  const options = [...base.options, ...[1, 2].map((i) => ({ code: 200 + i, data: Buffer.alloc(60, i) }))];
  const m = { ...base, options };
  const bytes = encodeDhcpMessage(m, { maxLength: 548 - 200 });
  assert.ok(bytes.length <= 348);
  assert.equal(bytes[240], DhcpOption.OptionOverload);
  assert.equal(bytes[242], 2); // sname only
  const back = decodeDhcpMessage(bytes);
  assert.equal(back.file, 'undionly.kpxe');
  assert.equal(back.sname, '');
  assert.deepEqual(back.options, options);
});

test('overload uses file then sname when both are empty, and long options span them', () => {
  const options = [...base.options, { code: 224, data: Buffer.alloc(300, 7) }];
  const m = { ...base, file: '', options };
  const bytes = encodeDhcpMessage(m, { maxLength: 240 + 150 });
  assert.equal(bytes[242], 3);
  assert.deepEqual(decodeDhcpMessage(bytes).options, options);
});

test('a reply that cannot fit even with overload is a DhcpEncodeError', () => {
  const options = [{ code: 224, data: Buffer.alloc(250, 7) }];
  assert.throws(() => encodeDhcpMessage({ ...base, file: 'x', sname: 'y', options }, { maxLength: 300 }), DhcpEncodeError);
});

test('truncated and cookie-less messages are DecodeErrors with their own codes', () => {
  const good = loadVector('ipxe-bios-e1000-discover');
  assert.throws(() => decodeDhcpMessage(good.subarray(0, 239)), (e: unknown) => e instanceof DecodeError && e.code === 'DHCP_TRUNCATED');
  const noCookie = Buffer.from(good);
  noCookie.writeUInt32BE(0, 236);
  assert.throws(() => decodeDhcpMessage(noCookie), (e: unknown) => e instanceof DecodeError && e.code === 'DHCP_NO_COOKIE');
  assert.throws(() => decodeDhcpMessage(good.subarray(0, 260)), (e: unknown) => e instanceof DecodeError && e.code === 'DHCP_OPTION_TRUNCATED');
  const badOverload = Buffer.concat([good.subarray(0, 240), Buffer.from([52, 1, 9, 255])]);
  assert.throws(() => decodeDhcpMessage(badOverload), (e: unknown) => e instanceof DecodeError && e.code === 'DHCP_BAD_OVERLOAD');
});

test('an empty option that does not fit the options field moves to file, not lost (found by the fuzz test, seed 1997171571)', () => {
  const options = [1, 2, 3, 5].map((code) => ({ code, data: Buffer.alloc(7) }));
  const m: DhcpMessage = { ...base, file: '', sname: '', options: [...options, { code: 4, data: Buffer.alloc(6) }, { code: 6, data: Buffer.alloc(9) }, { code: 7, data: Buffer.alloc(0) }, { code: 8, data: Buffer.alloc(1) }] };
  const back = decodeDhcpMessage(encodeDhcpMessage(m, { maxLength: 300 }));
  assert.deepEqual(back.options.map((o) => [o.code, o.data.length]), [[1, 7], [2, 7], [3, 7], [5, 7], [4, 6], [6, 9], [7, 0], [8, 1]]);
});
