import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DecodeError } from '../../lib/errors.ts';
import { DhcpOption, IpxeOption, PxeVendorOption } from './option-codes.ts';
import {
  decodeEncapsulated, decodeUserClass, encodeEncapsulated, encodeOptionTlv, encodeUserClass, ipToNumber, mergeFragments, numberToIp,
  readClientArch, readClientMachineId, readIpOption, readParameterRequestList, readStringOption, readU16Option, scanOptionArea,
} from './options.ts';

test('user class: the plain string iPXE sends and the RFC 3004 form read the same', () => {
  assert.deepEqual(decodeUserClass(Buffer.from('iPXE')), ['iPXE']);
  assert.deepEqual(decodeUserClass(Buffer.from('\x04iPXE')), ['iPXE']);
  assert.deepEqual(decodeUserClass(Buffer.from('\x04iPXE\x03foo')), ['iPXE', 'foo']);
  assert.deepEqual(decodeUserClass(Buffer.from('gPXE')), ['gPXE']);
  // a length byte that overruns: plain text after all
  assert.deepEqual(decodeUserClass(Buffer.from('\x09ab')), ['\x09ab']);
  assert.deepEqual(decodeUserClass(encodeUserClass(['iPXE', 'x'])), ['iPXE', 'x']);
});

test('scanOptionArea skips pads, stops at End and reports where', () => {
  const area = Buffer.from([0, 0, 53, 1, 1, 0, 255, 9, 9]);
  const scan = scanOptionArea(area, 'test');
  assert.deepEqual(scan.fragments.map((f) => [f.code, [...f.data]]), [[53, [1]]]);
  assert.equal(scan.endAt, 7);
  assert.equal(scanOptionArea(Buffer.from([53, 1, 1]), 't').endAt, null);
});

test('fragments of one code concatenate in order of appearance (RFC 3396 section 7)', () => {
  const merged = mergeFragments([
    { code: 17, data: Buffer.from('ab') }, { code: 3, data: Buffer.from([1, 2, 3, 4]) }, { code: 17, data: Buffer.from('cd') },
  ]);
  assert.deepEqual(merged.map((m) => [m.code, m.data.toString('latin1')]), [[17, 'abcd'], [3, '\x01\x02\x03\x04']]);
});

test('an empty option encodes as code and zero length', () => {
  assert.deepEqual(encodeOptionTlv({ code: 80, data: Buffer.alloc(0) }), Buffer.from([80, 0]));
});

test('PXE option 43 ends with End; iPXE 175 does not, and both decode back', () => {
  const pxe = encodeEncapsulated([{ code: PxeVendorOption.DiscoveryControl, data: Buffer.from([8]) }], { end: true });
  assert.deepEqual(pxe, Buffer.from([6, 1, 8, 255]));
  const ipxe = encodeEncapsulated([{ code: IpxeOption.NoPxeDhcp, data: Buffer.from([1]) }, { code: IpxeOption.Username, data: Buffer.from('u') }], { end: false });
  assert.deepEqual(ipxe, Buffer.from([176, 1, 1, 190, 1, 0x75]));
  assert.deepEqual(decodeEncapsulated(pxe, '43').map((o) => o.code), [6]);
  assert.deepEqual(decodeEncapsulated(ipxe, '175').map((o) => o.code), [176, 190]);
  assert.throws(() => decodeEncapsulated(Buffer.from([176, 5, 1]), '175'), DecodeError);
});

test('typed readers check lengths and throw DecodeError', () => {
  const options = [
    { code: DhcpOption.ServerIdentifier, data: Buffer.from([10, 0, 0, 1]) },
    { code: DhcpOption.MaxMessageSize, data: Buffer.from([5]) },
    { code: DhcpOption.ClientSystemArchitecture, data: Buffer.from([0, 7, 0, 0]) },
    { code: DhcpOption.VendorClassIdentifier, data: Buffer.from('PXEClient\0') },
    { code: DhcpOption.ParameterRequestList, data: Buffer.from([1, 3, 67]) },
    { code: DhcpOption.ClientMachineId, data: Buffer.alloc(5) },
  ];
  assert.equal(readIpOption(options, DhcpOption.ServerIdentifier), '10.0.0.1');
  assert.throws(() => readU16Option(options, DhcpOption.MaxMessageSize), (e: unknown) => e instanceof DecodeError && e.code === 'DHCP_OPTION_LENGTH');
  assert.equal(readClientArch(options), 7);
  assert.equal(readStringOption(options, DhcpOption.VendorClassIdentifier), 'PXEClient');
  assert.deepEqual(readParameterRequestList(options), [1, 3, 67]);
  assert.equal(readClientMachineId(options), null, 'a malformed 97 reads as absent');
  assert.throws(() => readClientArch([{ code: 93, data: Buffer.from([0]) }]), DecodeError);
});

test('IPv4 helpers round-trip', () => {
  assert.equal(ipToNumber('10.251.0.1'), 0x0afb0001);
  assert.equal(numberToIp(0xfffffffe), '255.255.255.254');
  assert.throws(() => ipToNumber('10.0.0.256'), RangeError);
});
