// The server over loopback UDP with a raw client: the paths real clients rarely take.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { createSocket } from 'node:dgram';
import type { Socket } from 'node:dgram';
import { after, before, describe, test } from 'node:test';
import pino from 'pino';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { nativeUdpUnavailable } from '../lib/native-udp.ts';
import { DirectoryProvider } from './directory-provider.ts';
import { VirtualProvider } from './files.ts';
import { pumpStats } from './transfer-session.ts';
import type { TftpEvent, TftpServer, TftpServerOptions } from './server.ts';
import { startTftpServer } from './server.ts';
import type { ClientPacket, ServerPacket } from './wire.ts';
import { decodeServerPacket, ErrorCode } from './wire.ts';
import { encodeClientPacket } from './wire-client.ts';

const FILE = randomBytes(3000);

class RawClient {
  private readonly inbox: Array<{ packet: ServerPacket; port: number }> = [];
  private waiter: (() => void) | null = null;

  private constructor(readonly socket: Socket) {
    socket.on('message', (msg, rinfo) => {
      this.inbox.push({ packet: decodeServerPacket(msg), port: rinfo.port });
      this.waiter?.();
    });
  }

  static async open(): Promise<RawClient> {
    const socket = createSocket('udp4');
    await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
    return new RawClient(socket);
  }

  send(p: ClientPacket | Buffer, port: number): void {
    this.socket.send(Buffer.isBuffer(p) ? p : encodeClientPacket(p), port, '127.0.0.1');
  }

  async next(timeoutMs = 2000): Promise<{ packet: ServerPacket; port: number }> {
    const deadline = Date.now() + timeoutMs;
    while (this.inbox.length === 0) {
      const left = deadline - Date.now();
      if (left <= 0) throw new Error('no packet');
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, left);
        this.waiter = () => {
          clearTimeout(t);
          resolve();
        };
      });
      this.waiter = null;
    }
    const first = this.inbox.shift();
    assert.ok(first);
    return first;
  }

  /** True when nothing arrives within ms. */
  async quiet(ms: number): Promise<boolean> {
    try {
      await this.next(ms);
      return false;
    } catch {
      return true;
    }
  }

  close(): void {
    this.socket.close();
  }
}

const rrq = (filename: string, options: Record<string, string> = {}, mode = 'octet'): ClientPacket => ({
  kind: 'rrq',
  filename,
  mode,
  options: Object.entries(options).map(([name, value]) => ({ name, value })),
});

describe('TFTP server', () => {
  let server: TftpServer;
  const events: TftpEvent[] = [];
  const clients: RawClient[] = [];
  const client = async (): Promise<RawClient> => {
    const c = await RawClient.open();
    clients.push(c);
    return c;
  };
  const start = (extra: Partial<TftpServerOptions> = {}): Promise<TftpServer> =>
    startTftpServer({
      address: '127.0.0.1',
      port: 0,
      provider: new VirtualProvider(new Map([['file.bin', FILE]])),
      log: pino({ level: 'silent' }),
      onEvent: (e) => events.push(e),
      transfer: { initialTimeoutMs: 50, maxTimeoutMs: 100, maxRetries: 2 },
      ...extra,
    });

  before(async () => {
    server = await start();
  });
  after(async () => {
    for (const c of clients) c.close();
    await server.close();
  });

  /** A blksize 1024, windowsize 2 download from `srv`; the file's bytes and the client's port. */
  const windowedDownload = async (srv: TftpServer): Promise<{ bytes: Buffer; port: number }> => {
    const c = await client();
    c.send(rrq('file.bin', { blksize: '1024', windowsize: '2', tsize: '0' }), srv.port);
    const oack = await c.next();
    assert.notEqual(oack.port, srv.port, 'a new TID answers');
    assert.deepEqual(oack.packet, { kind: 'oack', options: [{ name: 'blksize', value: '1024' }, { name: 'windowsize', value: '2' }, { name: 'tsize', value: '3000' }] });
    c.send({ kind: 'ack', block: 0 }, oack.port);
    const got: Buffer[] = [];
    for (;;) {
      const d = await c.next();
      assert.equal(d.packet.kind, 'data');
      if (d.packet.kind !== 'data') break;
      assert.equal(d.port, oack.port, 'every DATA from the same TID');
      got.push(d.packet.data);
      if (d.packet.block % 2 === 0 || d.packet.data.length < 1024) c.send({ kind: 'ack', block: d.packet.block }, d.port);
      if (d.packet.data.length < 1024) break;
    }
    return { bytes: Buffer.concat(got), port: c.socket.address().port };
  };

  test('a windowed download from a fresh TID, with events', async () => {
    const { bytes, port } = await windowedDownload(server);
    assert.deepEqual(bytes, FILE);
    await new Promise((r) => setTimeout(r, 20));
    const mine = events.filter((e) => e.peer.port === port);
    assert.deepEqual(mine.map((e) => e.kind), ['tftp-start', 'tftp-done']);
    assert.equal(mine[1]?.bytes, 3000);
  });

  test("the same download over Node's dgram transfer sockets (the path without the native helper)", async () => {
    const viaNode = await start({ transferSockets: 'node' });
    try {
      assert.deepEqual((await windowedDownload(viaNode)).bytes, FILE);
    } finally {
      await viaNode.close();
    }
  });

  test('malformed datagrams are dropped and the server keeps serving', async () => {
    const c = await client();
    const before = server.stats.malformed;
    for (const junk of [Buffer.alloc(0), Buffer.from([1]), Buffer.from([0, 1, 0x41]), Buffer.from([0, 9, 1, 2]), randomBytes(1400)]) c.send(junk, server.port);
    c.send(rrq('file.bin'), server.port);
    const d = await c.next();
    assert.equal(d.packet.kind, 'data');
    assert.ok(server.stats.malformed >= before + 4);
    c.send({ kind: 'error', code: 0, message: 'done here' }, d.port);
  });

  test('WRQ is refused: ERROR 2, read-only server', async () => {
    const c = await client();
    c.send({ kind: 'wrq', filename: 'file.bin', mode: 'octet', options: [] }, server.port);
    assert.deepEqual((await c.next()).packet, { kind: 'error', code: ErrorCode.AccessViolation, message: 'Server is read-only' });
  });

  test('netascii is refused, and a missing file is plain "File not found"', async () => {
    const c = await client();
    c.send(rrq('file.bin', {}, 'netascii'), server.port);
    assert.deepEqual((await c.next()).packet, { kind: 'error', code: ErrorCode.IllegalOperation, message: 'Only octet mode is supported' });
    c.send(rrq('nothing-here'), server.port);
    assert.deepEqual((await c.next()).packet, { kind: 'error', code: ErrorCode.FileNotFound, message: 'File not found' });
    c.send(rrq('../../etc/passwd'), server.port);
    assert.deepEqual((await c.next()).packet, { kind: 'error', code: ErrorCode.AccessViolation, message: 'Access violation' });
  });

  test('UEFI size probe: OACK with tsize, ERROR 8, a quiet end', async () => {
    const c = await client();
    const probesBefore = server.stats.probes;
    c.send(rrq('file.bin', { tsize: '0', blksize: '1468', windowsize: '4' }), server.port);
    const oack = await c.next();
    assert.deepEqual(oack.packet, { kind: 'oack', options: [{ name: 'tsize', value: '3000' }, { name: 'blksize', value: '1468' }, { name: 'windowsize', value: '4' }] });
    c.send({ kind: 'error', code: ErrorCode.OptionNegotiation, message: 'User aborted the transfer' }, oack.port);
    assert.ok(await c.quiet(150), 'nothing more is sent');
    assert.equal(server.stats.probes, probesBefore + 1);
    const e = events.filter((x) => x.peer.port === c.socket.address().port).at(-1);
    assert.equal(e?.kind, 'tftp-done');
    assert.equal(e?.probe, true);
  });

  test('a stranger on the TID gets ERROR 5 and the transfer goes on', async () => {
    const c = await client();
    const stranger = await client();
    c.send(rrq('file.bin'), server.port);
    const d1 = await c.next();
    stranger.send({ kind: 'ack', block: 1 }, d1.port);
    assert.deepEqual((await stranger.next()).packet, { kind: 'error', code: ErrorCode.UnknownTid, message: 'Unknown transfer ID' });
    c.send({ kind: 'ack', block: 1 }, d1.port);
    const d2 = await c.next();
    assert.equal(d2.packet.kind === 'data' ? d2.packet.block : -1, 2);
    c.send({ kind: 'error', code: 0, message: 'enough' }, d2.port);
  });

  test('a repeated RRQ does not start a second transfer', async () => {
    const c = await client();
    const started = server.stats.started;
    c.send(rrq('file.bin', { tsize: '0' }), server.port);
    c.send(rrq('file.bin', { tsize: '0' }), server.port);
    const first = await c.next();
    assert.equal(first.packet.kind, 'oack');
    c.send({ kind: 'error', code: 8, message: 'probe' }, first.port);
    await new Promise((r) => setTimeout(r, 30));
    assert.equal(server.stats.started, started + 1);
  });

  test('unanswered DATA is retransmitted with backoff, then the transfer gives up', async () => {
    const c = await client();
    c.send(rrq('file.bin'), server.port);
    const times: number[] = [];
    const t0 = Date.now();
    for (let i = 0; i < 3; i++) {
      const d = await c.next(1000);
      assert.equal(d.packet.kind === 'data' ? d.packet.block : -1, 1);
      times.push(Date.now() - t0);
    }
    assert.ok(await c.quiet(300), 'no more after maxRetries');
    assert.ok((times[2] ?? 0) - (times[1] ?? 0) >= 60, `backoff: ${times.join(',')}`);
    const e = events.filter((x) => x.peer.port === c.socket.address().port).at(-1);
    assert.equal(e?.kind, 'tftp-error');
  });

  test('a limit on concurrent transfers, and close() ends live ones', async () => {
    const small = await start({ maxTransfers: 1 });
    const a = await client();
    const b = await client();
    a.send(rrq('file.bin'), small.port);
    const d = await a.next();
    assert.equal(d.packet.kind, 'data');
    b.send(rrq('file.bin'), small.port);
    assert.deepEqual((await b.next()).packet, { kind: 'error', code: 0, message: 'Server busy, try again' });
    await small.close();
    assert.deepEqual((await a.next()).packet, { kind: 'error', code: 0, message: 'Server shutting down' });
    assert.equal(small.stats.active, 0);
  });
});

// Lock-step reads of a file on disk: the native socket's pump answers the steady state's ACKs
// (transfer-session.ts); the state machine must still see every loss, duplicate and the end.
describe('TFTP server, lock-step reads of a file on disk (the native pump)', { skip: nativeUdpUnavailable() ?? undefined }, () => {
  const BLOCK = 512;
  const DISK_FILE = randomBytes(BLOCK * 39 + 100); // 40 blocks, the last short
  const dir = mkdtempSync(join(tmpdir(), 'diskless-tftp-pump-'));
  writeFileSync(join(dir, 'disk.bin'), DISK_FILE);
  let server: TftpServer;
  const events: TftpEvent[] = [];
  const clients: RawClient[] = [];
  before(async () => {
    server = await startTftpServer({
      address: '127.0.0.1',
      port: 0,
      provider: new DirectoryProvider([dir]),
      log: pino({ level: 'silent' }),
      onEvent: (e) => events.push(e),
      transfer: { initialTimeoutMs: 100, maxTimeoutMs: 200, maxRetries: 3 },
    });
  });
  after(async () => {
    for (const c of clients) c.close();
    await server.close();
    rmSync(dir, { recursive: true, force: true });
  });

  /** The next DATA from the server; `seen` counts how often each block arrived. */
  const nextData = async (c: RawClient, seen: Map<number, number>): Promise<{ block: number; data: Buffer; port: number; times: number }> => {
    const d = await c.next(3000);
    if (d.packet.kind !== 'data') assert.fail(`expected DATA, got ${d.packet.kind}`);
    const { block, data } = d.packet;
    const times = (seen.get(block) ?? 0) + 1;
    seen.set(block, times);
    return { block, data, port: d.port, times };
  };

  /**
   * Downloads disk.bin lock-step (blksize 512, no options: DATA 1 answers the RRQ); `onData`
   * decides what to do with each DATA: 'ack' it, 'drop' it (as lost), or 'ack-twice'.
   */
  const download = async (onData: (block: number, seen: number) => 'ack' | 'drop' | 'ack-twice'): Promise<{ bytes: Buffer; blocksSeen: Map<number, number>; port: number }> => {
    const c = await RawClient.open();
    clients.push(c);
    c.send(rrq('disk.bin'), server.port);
    const got = new Map<number, Buffer>();
    const blocksSeen = new Map<number, number>();
    for (;;) {
      const { block, data, port, times } = await nextData(c, blocksSeen);
      const what = onData(block, times);
      if (what === 'drop') continue;
      got.set(block, data);
      c.send({ kind: 'ack', block }, port);
      if (what === 'ack-twice') c.send({ kind: 'ack', block }, port);
      if (data.length < BLOCK) break;
    }
    assert.ok(await c.quiet(150), 'nothing after the last ACK');
    const bytes = Buffer.concat([...got.keys()].sort((a, b) => a - b).map((k) => got.get(k) ?? Buffer.alloc(0)));
    return { bytes, blocksSeen, port: c.socket.address().port };
  };

  test('every block after the first is answered by the pump, byte for byte', async () => {
    const before = { ...pumpStats };
    const { bytes, blocksSeen } = await download(() => 'ack');
    assert.deepEqual(bytes, DISK_FILE);
    assert.ok([...blocksSeen.values()].every((n) => n === 1), 'each block once');
    assert.equal(pumpStats.transfers - before.transfers, 1);
    assert.equal(pumpStats.blocks - before.blocks, 39, 'blocks 2..40 from the pump');
  });

  test('a lost DATA is sent again by the timer, and the pump carries on after it', async () => {
    const before = { ...pumpStats };
    const { bytes, blocksSeen, port } = await download((block, seen) => (block === 10 && seen === 1 ? 'drop' : 'ack'));
    assert.deepEqual(bytes, DISK_FILE);
    assert.equal(blocksSeen.get(10), 2, 'block 10 twice: once lost, once again after the timeout');
    assert.ok(pumpStats.blocks - before.blocks >= 30, 'the blocks after 10 came from the pump again');
    const done = events.filter((e) => e.peer.port === port).at(-1);
    assert.deepEqual([done?.kind, done?.bytes], ['tftp-done', DISK_FILE.length]);
  });

  /**
   * A windowed download (RFC 7440, blksize 512, windowsize 4) as atftp does it: the last block
   * of each window is ACKed; a gap (a block lost) is answered with an ACK of the last block in
   * order, which rolls the window back. `lose(block, seen)` says which DATA to treat as lost.
   */
  const windowed = async (lose: (block: number, seen: number) => boolean): Promise<{ bytes: Buffer; blocksSeen: Map<number, number> }> => {
    const c = await RawClient.open();
    clients.push(c);
    c.send(rrq('disk.bin', { blksize: String(BLOCK), windowsize: '4' }), server.port);
    const oack = await c.next();
    assert.equal(oack.packet.kind, 'oack');
    c.send({ kind: 'ack', block: 0 }, oack.port);
    const got: Buffer[] = [];
    const blocksSeen = new Map<number, number>();
    let expected = 1;
    let inWindow = 0;
    for (;;) {
      const { block, data, port, times } = await nextData(c, blocksSeen);
      if (lose(block, times)) continue;
      if (block !== expected) {
        // A gap: say where we are, the server sends the window again from there.
        if (block > expected) c.send({ kind: 'ack', block: expected - 1 }, port);
        inWindow = 0;
        continue;
      }
      got.push(data);
      expected++;
      inWindow++;
      const last = data.length < BLOCK;
      if (inWindow === 4 || last) {
        c.send({ kind: 'ack', block }, port);
        inWindow = 0;
      }
      if (last) break;
    }
    assert.ok(await c.quiet(150), 'nothing after the last ACK');
    return { bytes: Buffer.concat(got), blocksSeen };
  };

  test('windowsize 4: after the first window every window comes from the pump', async () => {
    const before = { ...pumpStats };
    const { bytes, blocksSeen } = await windowed(() => false);
    assert.deepEqual(bytes, DISK_FILE);
    assert.ok([...blocksSeen.values()].every((n) => n === 1), 'each block once');
    assert.equal(pumpStats.blocks - before.blocks, 36, 'blocks 5..40 from the pump');
  });

  test('windowsize 4: a block lost inside a window is sent again from the rollback ACK (RFC 7440 section 4)', async () => {
    const { bytes, blocksSeen } = await windowed((block, seen) => block === 10 && seen === 1);
    assert.deepEqual(bytes, DISK_FILE);
    assert.equal(blocksSeen.get(10), 2);
  });

  test('a duplicated ACK is not answered twice (RFC 1123 4.2.3.1, the Sorcerer\'s Apprentice)', async () => {
    const { bytes, blocksSeen } = await download((block) => (block === 5 ? 'ack-twice' : 'ack'));
    assert.deepEqual(bytes, DISK_FILE);
    assert.equal(blocksSeen.get(6), 1, 'block 6 once');
    assert.ok([...blocksSeen.values()].every((n) => n === 1), 'each block once');
  });
});
