import assert from 'node:assert/strict';
import { test } from 'node:test';
import { AdmissionControl, LIBUV_READS_PER_TURN, peekMessageType } from './admission.ts';
import { buildRequest } from './test-requests.ts';
import { encodeDhcpMessage } from './wire/packet.ts';
import { DhcpOption, MessageType } from './wire/option-codes.ts';

const discover = encodeDhcpMessage(buildRequest({ type: MessageType.Discover }));
const request = encodeDhcpMessage(buildRequest({ type: MessageType.Request, serverId: '10.0.0.1', requested: '10.0.0.5' }));

function turn(a: AdmissionControl, datagrams: readonly Buffer[]): boolean[] {
  const admitted = datagrams.map((d) => a.admit(d));
  a.endTurn();
  return admitted;
}

test('peekMessageType reads option 53 without decoding, and gives up on anything odd', () => {
  assert.equal(peekMessageType(discover), MessageType.Discover);
  assert.equal(peekMessageType(request), MessageType.Request);
  const padded = encodeDhcpMessage(buildRequest({ type: MessageType.Inform, extra: [] }));
  assert.equal(peekMessageType(padded), MessageType.Inform);
  assert.equal(peekMessageType(Buffer.alloc(100)), null, 'too short');
  assert.equal(peekMessageType(Buffer.concat([discover.subarray(0, 236), Buffer.alloc(4), discover.subarray(240)])), null, 'no cookie');
  assert.equal(peekMessageType(Buffer.concat([discover.subarray(0, 240), Buffer.from([0, 0, DhcpOption.MessageType, 1, 3])])), MessageType.Request, 'pads skipped');
  assert.equal(peekMessageType(Buffer.concat([discover.subarray(0, 240), Buffer.from([DhcpOption.MessageType, 2, 1, 1])])), null, 'wrong length');
  assert.equal(peekMessageType(Buffer.concat([discover.subarray(0, 240), Buffer.from([DhcpOption.MessageType, 1])])), null, 'truncated');
  assert.equal(peekMessageType(Buffer.concat([discover.subarray(0, 240), Buffer.from([12, 40, 1])])), null, 'overrun');
  assert.equal(peekMessageType(Buffer.concat([discover.subarray(0, 240), Buffer.from([DhcpOption.End, DhcpOption.MessageType, 1, 1])])), null, 'after End');
});

test('nothing is shed while every turn drains the socket', () => {
  const a = new AdmissionControl();
  for (let i = 0; i < 10; i++) assert.ok(turn(a, Array.from({ length: LIBUV_READS_PER_TURN - 1 }, () => discover)).every(Boolean));
  assert.equal(a.shed, 0);
  assert.equal(a.behind, false);
});

test('a full turn of nothing but DISCOVERs sheds nothing: no exchange in progress to protect', () => {
  const a = new AdmissionControl({ discoversPerTurn: 4 });
  for (let i = 0; i < 30; i++) assert.ok(turn(a, Array.from({ length: LIBUV_READS_PER_TURN }, () => discover)).every(Boolean));
  assert.equal(a.shed, 0);
  assert.equal(a.behind, false);
});

test('after a full turn, REQUESTs all pass and DISCOVERs beyond the budget are shed', () => {
  const a = new AdmissionControl({ discoversPerTurn: 4 });
  turn(a, [request, ...Array.from({ length: LIBUV_READS_PER_TURN - 1 }, () => discover)]);
  assert.equal(a.behind, true);
  const mixed = [request, discover, discover, request, discover, discover, discover, discover, request];
  assert.deepEqual(turn(a, mixed), [true, true, true, true, true, true, false, false, true]);
  assert.equal(a.shed, 2);
  // that turn was short: the backlog is gone, and so is the shedding
  assert.equal(a.behind, false);
  assert.ok(turn(a, Array.from({ length: 10 }, () => discover)).every(Boolean));
});

test('the DISCOVER budget halves with every turn the server stays behind, and resets once it catches up', () => {
  const a = new AdmissionControl();
  const full = (discovers: number): number => {
    const batch = [...Array.from({ length: discovers }, () => discover), ...Array.from({ length: LIBUV_READS_PER_TURN - discovers }, () => request)];
    return turn(a, batch).filter((ok, i) => ok && i < discovers).length;
  };
  assert.equal(full(20), 20, 'not behind yet');
  assert.deepEqual([full(20), full(20), full(20), full(20), full(20), full(20)], [16, 8, 4, 2, 1, 1]);
  turn(a, [request]);
  assert.equal(a.behind, false);
  assert.equal(full(20), 20);
  assert.equal(full(20), 16);
});

test('a datagram whose type cannot be peeked is never shed (it is decoded and judged in full)', () => {
  const a = new AdmissionControl({ discoversPerTurn: 0, backlogAt: 1 });
  turn(a, [request]);
  assert.deepEqual(turn(a, [Buffer.from('not dhcp'), discover, request]), [true, false, true]);
});

test('a full turn while the event loop has time to spare (a burst, not overload) sheds nothing', () => {
  const a = new AdmissionControl();
  const mixed = [...Array<Buffer>(16).fill(request), ...Array<Buffer>(16).fill(discover)];
  mixed.forEach((d) => a.admit(d));
  a.endTurn(false);
  assert.equal(a.behind, false);
  assert.ok(turn(a, Array<Buffer>(40).fill(discover)).every(Boolean), 'every DISCOVER answered');
  assert.equal(a.shed, 0);
  mixed.forEach((d) => a.admit(d));
  a.endTurn(true);
  assert.equal(a.behind, true, 'the same turn with a busy loop is overload');
});
