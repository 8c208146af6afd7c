// The transfer state machine driven by hand and by a simulated client, on a fake clock.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { Step, TftpAction, Transfer, TransferConfig } from './transfer.ts';
import { blockSpan, DEFAULT_TRANSFER_CONFIG, onAck, onClientError, onPacket, onTimeout, startTransfer, wireBlock } from './transfer.ts';
import type { TftpOption } from './wire.ts';
import { decodeServerPacket, ErrorCode } from './wire.ts';

const CFG: TransferConfig = DEFAULT_TRANSFER_CONFIG;
const opts = (o: Record<string, string>): TftpOption[] => Object.entries(o).map(([name, value]) => ({ name, value }));

function ranges(actions: readonly TftpAction[]): Array<[number, number]> {
  return actions.flatMap((a) => (a.kind === 'send-data' ? [[a.first, a.last] as [number, number]] : []));
}
function timers(actions: readonly TftpAction[]): number[] {
  return actions.flatMap((a) => (a.kind === 'set-timer' ? [a.ms] : []));
}
function sent(actions: readonly TftpAction[]): Buffer[] {
  return actions.flatMap((a) => (a.kind === 'send' ? [a.packet] : []));
}
function final(actions: readonly TftpAction[]): TftpAction | undefined {
  return actions.find((a) => a.kind === 'done' || a.kind === 'failed');
}

/** Runs a well-behaved client: ACKs each window's last block (or each block, window 1). */
function runClean(step: Step, nowMs = 0): { s: Transfer; last: TftpAction[]; windows: number } {
  let [s, actions] = step;
  if (s.phase === 'oack') [s, actions] = onAck(s, 0, nowMs);
  let windows = 0;
  for (;;) {
    const r = ranges(actions);
    const range = r[0];
    if (range === undefined) return { s, last: actions, windows };
    windows++;
    [s, actions] = onAck(s, wireBlock(range[1]), nowMs);
  }
}

describe('start', () => {
  test('without options DATA 1 answers the RRQ at once (RFC 1350)', () => {
    const [s, actions] = startTransfer([], 1000, CFG, 0);
    assert.equal(s.phase, 'data');
    assert.deepEqual(actions, [
      { kind: 'send-data', first: 1, last: 1 },
      { kind: 'set-timer', ms: 1000 },
    ]);
  });

  test('with options the OACK goes out, and DATA waits for ACK 0 (RFC 2347)', () => {
    const [s, actions] = startTransfer(opts({ blksize: '1468', tsize: '0', windowsize: '16', foo: 'bar' }), 123456, CFG, 0);
    assert.equal(s.phase, 'oack');
    const [packet] = sent(actions);
    assert.ok(packet);
    assert.equal(packet.toString('latin1'), '\x00\x06blksize\x001468\x00tsize\x00123456\x00windowsize\x0016\x00');
    assert.deepEqual(decodeServerPacket(packet), { kind: 'oack', options: opts({ blksize: '1468', tsize: '123456', windowsize: '16' }) });
    assert.deepEqual(onAck(s, 1, 5)[1], [], 'only ACK 0 accepts an OACK');
    const [s2, a2] = onAck(s, 0, 5);
    assert.equal(s2.phase, 'data');
    assert.deepEqual(ranges(a2), [[1, 16]]);
  });

  test('only invalid options: no OACK, plain RFC 1350', () => {
    const [s] = startTransfer(opts({ blksize: '4', windowsize: 'x' }), 10, CFG, 0);
    assert.equal(s.oack, null);
    assert.equal(s.blockSize, 512);
  });
});

describe('block arithmetic', () => {
  test('a size that is a multiple of blksize ends with an empty DATA', () => {
    const [s0, a0] = startTransfer([], 1024, CFG, 0);
    assert.equal(s0.totalBlocks, 3);
    assert.deepEqual(blockSpan(s0, 3), { offset: 1024, length: 0 });
    assert.deepEqual(ranges(a0), [[1, 1]]);
    const [s1, a1] = onAck(s0, 1, 1);
    assert.deepEqual(ranges(a1), [[2, 2]]);
    const [s2, a2] = onAck(s1, 2, 2);
    assert.deepEqual(ranges(a2), [[3, 3]]);
    const [s3, a3] = onAck(s2, 3, 3);
    assert.equal(s3.phase, 'finished');
    assert.deepEqual(final(a3), { kind: 'done', outcome: 'complete', stats: { bytes: 1024, blocks: 3, blocksSent: 3, blocksResent: 0, timeouts: 0, blockSize: 512, windowSize: 1, ms: 3 } });
  });

  test('an empty file is one empty DATA', () => {
    const { s, last } = runClean(startTransfer([], 0, CFG, 0));
    assert.equal(s.totalBlocks, 1);
    assert.equal(final(last)?.kind, 'done');
  });

  test('a short last block', () => {
    const [s] = startTransfer(opts({ blksize: '1468' }), 3000, CFG, 0);
    assert.equal(s.totalBlocks, 3);
    assert.deepEqual(blockSpan(s, 3), { offset: 2936, length: 64 });
  });

  test('block numbers roll over past 65535 to 0 (a 32 MiB + file at blksize 512)', () => {
    const size = 65536 * 512 + 100;
    let [s, actions] = startTransfer([], size, CFG, 0);
    assert.equal(s.totalBlocks, 65537);
    const wires: number[] = [];
    for (;;) {
      const range = ranges(actions)[0];
      if (range === undefined) break;
      const w = wireBlock(range[0]);
      if (range[0] >= 65534) wires.push(w);
      [s, actions] = onAck(s, w, 0);
    }
    assert.deepEqual(wires, [65534, 65535, 0, 1]);
    assert.deepEqual(final(actions), { kind: 'done', outcome: 'complete', stats: { bytes: size, blocks: 65537, blocksSent: 65537, blocksResent: 0, timeouts: 0, blockSize: 512, windowSize: 1, ms: 0 } });
  });

  test('windows straddle the wrap and an ACK of wire block 0 means block 65536', () => {
    const size = 70000 * 512;
    const [s0] = startTransfer(opts({ windowsize: '16' }), size, CFG, 0);
    // Fast-forward: as if 65530 blocks were acknowledged.
    const s1: Transfer = { ...s0, phase: 'data', acked: 65530, sent: 65530 };
    const [s2, a2] = onTimeout(s1, 0);
    assert.deepEqual(ranges(a2), [[65531, 65546]]);
    const [s3, a3] = onAck(s2, 0, 0); // block 65536 arrived, 65537 lost
    assert.equal(s3.acked, 65536);
    assert.deepEqual(ranges(a3), [[65537, 65552]]);
    assert.deepEqual(onAck(s3, 65535, 0)[1], [], 'an ACK from before the wrap is old');
    const { last } = runClean([s3, a3]);
    assert.equal(final(last)?.kind, 'done');
  });
});

describe('windows (RFC 7440)', () => {
  test('a window of 16 with a lost packet rolls back to the gap', () => {
    const [s0] = startTransfer(opts({ windowsize: '16' }), 64 * 512 + 1, CFG, 0);
    let [s, a] = onAck(s0, 0, 0);
    assert.deepEqual(ranges(a), [[1, 16]]);
    // Block 5 was lost: the client ACKs 4, the last block it has in order.
    [s, a] = onAck(s, 4, 10);
    assert.deepEqual(ranges(a), [[5, 20]]);
    assert.equal(s.blocksResent, 12, 'blocks 5..16 went twice');
    // Late copies of the first window's blocks make the client ACK 4 again: ignored.
    assert.deepEqual(onAck(s, 4, 11)[1], []);
    [s, a] = onAck(s, 20, 20);
    assert.deepEqual(ranges(a), [[21, 36]]);
    const { last, windows } = runClean([s, a]);
    assert.equal(windows, 3); // 21..36, 37..52, 53..65
    assert.equal(final(last)?.kind, 'done');
  });

  test('the last window stops at the last block', () => {
    const [s0] = startTransfer(opts({ windowsize: '8', blksize: '100' }), 250, CFG, 0);
    assert.deepEqual(ranges(onAck(s0, 0, 0)[1]), [[1, 3]]);
  });
});

describe('duplicates and strays (RFC 1123 4.2.3.1)', () => {
  test('a duplicate ACK never triggers a resend (Sorcerer\'s Apprentice)', () => {
    const [s0] = startTransfer([], 5000, CFG, 0);
    const [s1, a1] = onAck(s0, 1, 0);
    assert.deepEqual(ranges(a1), [[2, 2]]);
    assert.deepEqual(onAck(s1, 1, 0), [s1, []]);
    assert.deepEqual(onAck(s1, 0, 0), [s1, []], 'older ACK');
    assert.deepEqual(onAck(s1, 7, 0), [s1, []], 'ACK of a block never sent');
  });

  test('a duplicate ACK 0 after the OACK is ignored too', () => {
    const [s0] = startTransfer(opts({ tsize: '0' }), 5000, CFG, 0);
    const [s1] = onAck(s0, 0, 0);
    assert.deepEqual(onAck(s1, 0, 0), [s1, []]);
  });

  test('after the end nothing happens', () => {
    const { s } = runClean(startTransfer([], 10, CFG, 0));
    assert.deepEqual(onAck(s, 1, 0), [s, []]);
    assert.deepEqual(onTimeout(s, 0), [s, []]);
    assert.deepEqual(onClientError(s, 0, 'x', 0), [s, []]);
  });
});

describe('retransmission', () => {
  test('exponential backoff, capped, then give up after maxRetries', () => {
    let [s, a] = startTransfer([], 5000, CFG, 0);
    const delays = [timers(a)[0]];
    let t = 0;
    for (let i = 0; i < CFG.maxRetries; i++) {
      t += delays.at(-1) ?? 0;
      [s, a] = onTimeout(s, t);
      assert.deepEqual(ranges(a), [[1, 1]], 'the unacknowledged window goes again');
      delays.push(timers(a)[0] ?? -1);
    }
    assert.deepEqual(delays, [1000, 2000, 4000, 8000, 8000, 8000]);
    t += 8000;
    [s, a] = onTimeout(s, t);
    const end = final(a);
    assert.equal(end?.kind, 'failed');
    assert.equal(end?.kind === 'failed' ? end.reason : '', 'timeout');
    assert.equal(s.phase, 'finished');
    assert.deepEqual(ranges(a), []);
  });

  test('the OACK is what goes again before ACK 0', () => {
    const [s0, a0] = startTransfer(opts({ tsize: '0' }), 5000, CFG, 0);
    const [, a1] = onTimeout(s0, 1000);
    assert.deepEqual(sent(a1), sent(a0));
    assert.deepEqual(timers(a1), [2000]);
  });

  test('progress resets the backoff', () => {
    let [s] = startTransfer([], 5000, CFG, 0);
    [s] = onTimeout(s, 1000);
    [s] = onTimeout(s, 3000);
    const [s1, a1] = onAck(s, 1, 3500);
    assert.equal(s1.retries, 0);
    assert.deepEqual(timers(a1), [1000]);
  });

  test("the client's RFC 2349 timeout is the base, and backoff never goes below it", () => {
    const [s3, a3] = startTransfer(opts({ timeout: '3' }), 5000, CFG, 0);
    assert.deepEqual(timers(a3), [3000]);
    assert.deepEqual(timers(onTimeout(onAck(s3, 0, 0)[0], 3000)[1]), [6000]);
    const [s20, a20] = startTransfer(opts({ timeout: '20' }), 5000, CFG, 0);
    assert.deepEqual(timers(a20), [20000]);
    assert.deepEqual(timers(onTimeout(onAck(s20, 0, 0)[0], 20000)[1]), [20000]);
  });
});

describe('client errors', () => {
  test('UEFI size probe: OACK, then ERROR 8 ends quietly as a probe', () => {
    const [s0] = startTransfer(opts({ tsize: '0', blksize: '1468', windowsize: '4' }), 1024, CFG, 0);
    const [s1, a1] = onClientError(s0, ErrorCode.OptionNegotiation, 'User aborted the transfer', 3);
    assert.equal(s1.phase, 'finished');
    assert.deepEqual(a1, [{ kind: 'done', outcome: 'size-probe', stats: { bytes: 0, blocks: 0, blocksSent: 0, blocksResent: 0, timeouts: 0, blockSize: 1468, windowSize: 4, ms: 3 } }]);
    assert.equal(final(onClientError(s0, ErrorCode.NotDefined, '', 3)[1])?.kind, 'done', 'ERROR 0 probes too');
  });

  test('other errors end the transfer as a failure, and nothing is sent back', () => {
    const [s0] = startTransfer(opts({ tsize: '0' }), 1024, CFG, 0);
    assert.deepEqual(onClientError(s0, ErrorCode.DiskFull, 'disk full', 0)[1], [
      { kind: 'failed', reason: 'client-error', code: 3, message: 'disk full', stats: { bytes: 0, blocks: 0, blocksSent: 0, blocksResent: 0, timeouts: 0, blockSize: 512, windowSize: 1, ms: 0 } },
    ]);
    const [s1] = onAck(s0, 0, 0);
    const [, a2] = onPacket(s1, { kind: 'error', code: 0, message: 'cancelled' }, 0);
    assert.deepEqual(a2.map((a) => a.kind), ['failed']);
  });

  test('DATA or WRQ during a read is an illegal operation (ERROR 4)', () => {
    const [s0] = startTransfer([], 1024, CFG, 0);
    const [s1, a1] = onPacket(s0, { kind: 'data', block: 1, data: Buffer.alloc(1) }, 0);
    assert.equal(s1.phase, 'finished');
    assert.deepEqual(decodeServerPacket(sent(a1)[0] ?? Buffer.alloc(0)), { kind: 'error', code: 4, message: 'Illegal TFTP operation' });
    assert.equal(final(a1)?.kind, 'failed');
    assert.deepEqual(onPacket(s0, { kind: 'rrq', filename: 'x', mode: 'octet', options: [] }, 0)[1], [], 'a repeated RRQ is ignored');
  });
});
