// Which solicitations are answered, to whom and when (RFC 4861 sections 6.1.1, 6.2.6).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ALL_NODES, HOST_INTERVAL_MS, MIN_DELAY_BETWEEN_RAS_MS, RaResponder } from './responder.ts';

const hex = (s: string): Buffer => Buffer.from(s.replace(/\s+/g, ''), 'hex');
const RS_WITH_LLA = hex('85 00 0000 00000000 01 01 525400123456');
const RS_BARE = hex('85 00 0000 00000000');
const HOST = 'fe80::5054:ff:fe12:3456';

test('a solicitation from a link-local address is answered at once, by unicast to it', () => {
  const r = new RaResponder();
  const v = r.onSolicitation({ source: HOST, hopLimit: 255, bytes: RS_WITH_LLA }, 1000);
  assert.equal(v.kind, 'answer');
  assert.equal(v.kind === 'answer' && v.to, HOST);
});

test('hop limit other than 255 means not from this link: dropped as invalid (section 6.1.1)', () => {
  const r = new RaResponder();
  for (const hopLimit of [254, 64, 1, -1]) {
    const v = r.onSolicitation({ source: HOST, hopLimit, bytes: RS_WITH_LLA }, 0);
    assert.equal(v.kind, 'malformed', `hop limit ${hopLimit}`);
  }
});

test('undecodable bytes are reported, not thrown', () => {
  const r = new RaResponder();
  const v = r.onSolicitation({ source: HOST, hopLimit: 255, bytes: hex('85 00 0000 00000000 01 00 0000') }, 0);
  assert.equal(v.kind, 'malformed');
  assert.match(v.kind === 'malformed' ? v.reason : '', /length 0/);
});

test('the unspecified source with a link-layer option is invalid (section 6.1.1)', () => {
  const v = new RaResponder().onSolicitation({ source: '::', hopLimit: 255, bytes: RS_WITH_LLA }, 0);
  assert.equal(v.kind, 'malformed');
});

test('one answer per host per second; other hosts are not held up', () => {
  const r = new RaResponder();
  assert.equal(r.onSolicitation({ source: HOST, hopLimit: 255, bytes: RS_WITH_LLA }, 10_000).kind, 'answer');
  // iPXE resends its solicitation 1/8 s later: no second answer
  const again = r.onSolicitation({ source: HOST, hopLimit: 255, bytes: RS_WITH_LLA }, 10_125);
  assert.equal(again.kind, 'drop');
  assert.equal(r.onSolicitation({ source: 'fe80::1', hopLimit: 255, bytes: RS_WITH_LLA }, 10_125).kind, 'answer');
  // a boot script's `dhcp` a little later is answered again
  assert.equal(r.onSolicitation({ source: HOST, hopLimit: 255, bytes: RS_WITH_LLA }, 10_000 + HOST_INTERVAL_MS).kind, 'answer');
});

test('at most maxAnswersPerSecond unicast answers per second in all', () => {
  const r = new RaResponder({ maxAnswersPerSecond: 3 });
  const kinds = [1, 2, 3, 4, 5].map((i) => r.onSolicitation({ source: `fe80::${i}`, hopLimit: 255, bytes: RS_BARE }, 500).kind);
  assert.deepEqual(kinds, ['answer', 'answer', 'answer', 'drop', 'drop']);
  assert.equal(r.onSolicitation({ source: 'fe80::6', hopLimit: 255, bytes: RS_BARE }, 1500).kind, 'answer');
});

test('the per-host memory stays bounded under a flood of spoofed sources', () => {
  const r = new RaResponder();
  for (let i = 0; i < 20_000; i++) r.onSolicitation({ source: `fe80::${i.toString(16)}`, hopLimit: 255, bytes: RS_BARE }, i);
  assert.ok(r.rememberedHosts <= 1000, `${r.rememberedHosts} hosts remembered`);
});

test('from the unspecified address: multicast to all-nodes, at most one per MIN_DELAY_BETWEEN_RAS (section 6.2.6)', () => {
  const r = new RaResponder();
  const first = r.onSolicitation({ source: '::', hopLimit: 255, bytes: RS_BARE }, 5000);
  assert.deepEqual(first.kind === 'answer' && first.to, ALL_NODES);
  r.multicastSent(5000);
  const soon = r.onSolicitation({ source: '::', hopLimit: 255, bytes: RS_BARE }, 6000);
  assert.equal(soon.kind, 'later');
  assert.equal(soon.kind === 'later' && soon.atMs, 5000 + MIN_DELAY_BETWEEN_RAS_MS);
  // one pending multicast answers everyone who asks meanwhile
  assert.equal(r.onSolicitation({ source: '::', hopLimit: 255, bytes: RS_BARE }, 6500).kind, 'drop');
  r.multicastSent(8000);
  assert.equal(r.onSolicitation({ source: '::', hopLimit: 255, bytes: RS_BARE }, 11_000).kind, 'answer');
});
