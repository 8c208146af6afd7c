// The responder's socket side with a stand-in for the native addon: what is sent, from where,
// and that failures are log lines, never exceptions.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { Writable } from 'node:stream';
import pino from 'pino';
import { decodeRouterAdvertisement } from './codec.ts';
import type { Icmpv6Handle, Icmpv6Native, PacketCallback } from './native.ts';
import { routerAdvertisementsWanted, startRouterAdvertiser } from './server.ts';

const hex = (s: string): Buffer => Buffer.from(s.replace(/\s+/g, ''), 'hex');
const RS = hex('85 00 0000 00000000 01 01 525400123456');
const HOST = 'fe80::5054:ff:fe12:3456';
const OURS = { address: 'fe80::1', mac: hex('0200000000aa') };

interface Sent {
  bytes: Buffer;
  to: string;
  from: string | null;
}

function fakeNative(opts: { openError?: Error; sendError?: Error } = {}) {
  const sent: Sent[] = [];
  const opened: Array<{ ifname: string; types: readonly number[]; groups: readonly string[] }> = [];
  let callback: PacketCallback | null = null;
  let closes = 0;
  const handle = {} as Icmpv6Handle;
  const native: Icmpv6Native = {
    open(ifname, types, groups, onPacket) {
      if (opts.openError !== undefined) throw opts.openError;
      opened.push({ ifname, types, groups });
      callback = onPacket;
      return handle;
    },
    send(_h, bytes, to, from) {
      if (opts.sendError !== undefined) throw opts.sendError;
      sent.push({ bytes, to, from });
    },
    close() {
      closes += 1;
    },
  };
  const deliver = (bytes: Buffer, source: string, hopLimit = 255): void => callback?.(null, bytes, source, hopLimit);
  return { native, sent, opened, deliver, fail: (err: Error & { code?: string }) => callback?.(err), closes: () => closes };
}

function capture() {
  const lines: Array<{ level: number; msg: string }> = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const line of chunk.toString().split('\n').filter(Boolean)) lines.push(JSON.parse(line) as { level: number; msg: string });
      done();
    },
  });
  return { log: pino({ level: 'debug' }, stream), lines, warnings: () => lines.filter((l) => l.level === 40).map((l) => l.msg) };
}

const errno = (code: string, message: string): Error & { code: string } => Object.assign(new Error(message), { code });
const tick = (): Promise<void> => new Promise((r) => setImmediate(r));

describe('startRouterAdvertiser', () => {
  test('opens a socket for router solicitations on the interface, in all-routers', () => {
    const fake = fakeNative();
    const ra = startRouterAdvertiser({ interface: 'br0', log: pino({ level: 'silent' }), native: fake.native, linkAddress: () => OURS });
    assert.ok(ra !== null);
    assert.deepEqual(fake.opened, [{ ifname: 'br0', types: [133], groups: ['ff02::2'] }]);
    ra.close();
    ra.close();
    assert.equal(fake.closes(), 1);
  });

  test('answers a solicitation with a lifetime-0 advertisement from our link-local address to the host', async () => {
    const fake = fakeNative();
    const { log, lines } = capture();
    const ra = startRouterAdvertiser({ interface: 'br0', log, native: fake.native, linkAddress: () => OURS });
    fake.deliver(RS, HOST);
    assert.equal(fake.sent.length, 1);
    const [sent] = fake.sent;
    assert.equal(sent?.to, HOST);
    assert.equal(sent?.from, 'fe80::1');
    assert.deepEqual(sent?.bytes, hex('86 00 0000 40 00 0000 00000000 00000000 01 01 0200000000aa'));
    const decoded = decodeRouterAdvertisement(sent?.bytes ?? Buffer.alloc(0));
    assert.equal(decoded.routerLifetime, 0);
    assert.deepEqual(ra?.stats, { solicitations: 1, advertisements: 1, dropped: 0, malformed: 0, errors: 0 });
    await tick();
    assert.ok(lines.some((l) => l.level === 30 && l.msg.includes(`router solicitation from ${HOST} (52:54:00:12:34:56)`)), JSON.stringify(lines));
    ra?.close();
  });

  test('bad input never throws: malformed bytes, wrong hop limit, errors from the socket', async () => {
    const fake = fakeNative();
    const { log, warnings } = capture();
    const ra = startRouterAdvertiser({ interface: 'br0', log, native: fake.native, linkAddress: () => OURS });
    fake.deliver(hex('85 00 0000'), HOST);
    fake.deliver(hex('85 00 0000 00000000 01 00'), HOST);
    fake.deliver(RS, HOST, 64);
    // not solicitations (the kernel's filter passes only 133): ignored, not counted
    fake.deliver(hex('87 00 0000 00000000'), HOST);
    fake.deliver(Buffer.alloc(0), HOST);
    fake.fail(errno('ENETDOWN', 'recvmsg: Network is down'));
    assert.equal(fake.sent.length, 0);
    assert.equal(ra?.stats.malformed, 3);
    await tick();
    // malformed packets: one warning per 10 s, the rest at debug
    assert.equal(warnings().filter((w) => w.startsWith('invalid router solicitation')).length, 1);
    ra?.close();
  });

  test('no link-local address yet, or a failed send: a warning, nothing thrown', async () => {
    const none = fakeNative();
    const a = capture();
    const ra = startRouterAdvertiser({ interface: 'br0', log: a.log, native: none.native, linkAddress: () => null });
    none.deliver(RS, HOST);
    assert.equal(none.sent.length, 0);
    await tick();
    assert.match(a.warnings().join('\n'), /no link-local IPv6 address on br0/);
    ra?.close();

    const failing = fakeNative({ sendError: errno('EADDRNOTAVAIL', 'sendmsg: Cannot assign requested address') });
    const b = capture();
    const rb = startRouterAdvertiser({ interface: 'br0', log: b.log, native: failing.native, linkAddress: () => OURS });
    failing.deliver(RS, HOST);
    assert.equal(rb?.stats.errors, 1);
    await tick();
    assert.match(b.warnings().join('\n'), /not sent: sendmsg: Cannot assign requested address \(is fe80::1 still tentative/);
    rb?.close();
  });

  test('a socket that cannot be opened is one warning saying what is lost, and null', async () => {
    for (const [code, why] of [['EPERM', /needs root or CAP_NET_RAW/], ['EAFNOSUPPORT', /IPv6 is not available/], ['ENODEV', /no interface br0/]] as const) {
      const fake = fakeNative({ openError: errno(code, `socket: ${code}`) });
      const { log, warnings } = capture();
      assert.equal(startRouterAdvertiser({ interface: 'br0', log, native: fake.native }), null);
      await tick();
      assert.equal(warnings().length, 1);
      assert.match(warnings()[0] ?? '', why);
      assert.match(warnings()[0] ?? '', /iPXE will wait about 10 s for IPv6 at each boot/);
    }
  });

  test('a solicitation from the unspecified address is answered to all-nodes; a second within 3 s waits', async () => {
    let nowMs = 100_000;
    const fake = fakeNative();
    const ra = startRouterAdvertiser({ interface: 'br0', log: pino({ level: 'silent' }), native: fake.native, linkAddress: () => OURS, now: () => nowMs, limits: { multicastIntervalMs: 30 } });
    fake.deliver(hex('85 00 0000 00000000'), '::');
    assert.deepEqual(fake.sent.map((s) => s.to), ['ff02::1']);
    nowMs += 10;
    fake.deliver(hex('85 00 0000 00000000'), '::');
    assert.equal(fake.sent.length, 1);
    await new Promise((r) => setTimeout(r, 60));
    assert.deepEqual(fake.sent.map((s) => s.to), ['ff02::1', 'ff02::1']);
    ra?.close();
  });
});

test('routerAdvertisementsWanted: on by default in full mode with an interface; the option switches it', () => {
  assert.deepEqual(routerAdvertisementsWanted({ mode: 'full', interface: 'br0' }), { on: true, interface: 'br0' });
  assert.deepEqual(routerAdvertisementsWanted({ mode: 'full', interface: 'br0', routerAdvertisements: false }), { on: false, why: null });
  assert.deepEqual(routerAdvertisementsWanted({ mode: 'proxy', interface: 'eth0' }), { on: false, why: null });
  assert.deepEqual(routerAdvertisementsWanted({ mode: 'proxy', interface: 'eth0', routerAdvertisements: true }), { on: true, interface: 'eth0' });
  assert.deepEqual(routerAdvertisementsWanted({ mode: 'full' }), { on: false, why: null });
  assert.equal(routerAdvertisementsWanted({ mode: 'off' }).on, false);
  const noIface = routerAdvertisementsWanted({ mode: 'proxy', routerAdvertisements: true });
  assert.match(noIface.on ? '' : (noIface.why ?? ''), /needs dhcp.interface/);
});
