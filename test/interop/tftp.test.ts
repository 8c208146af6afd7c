// Real TFTP clients against the diskless TFTP server on 127.0.0.1: curl, atftp (RFC 7440
// windows) and tftp-hpa download files identical by sha256 at blksize 512 (50 MiB, so the block
// number rolls over past 65535, and ends in an empty DATA), 1468 and 65464; `..`, absolute,
// backslash and symlink paths cannot leave the root; atftp survives a link that drops 5%.
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { createSocket } from 'node:dgram';
import type { Socket } from 'node:dgram';
import { createReadStream, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { TestContext } from 'node:test';
import pino from 'pino';
import { DirectoryProvider } from '../../src/tftp/directory-provider.ts';
import type { TftpEvent, TftpServer } from '../../src/tftp/server.ts';
import { startTftpServer } from '../../src/tftp/server.ts';
import { needTools, run } from '../helpers/tools.ts';

const BIG_BYTES = 50 * 1024 * 1024; // 102400 blocks at 512: wraps once, and ends in an empty DATA
const SECRET = 'TOP-SECRET-OUTSIDE-THE-ROOT';
const TOOLS = { curl: { curl: 'curl' }, atftp: { atftp: 'atftp' }, tftpHpa: { tftp: 'tftp-hpa' } } as const;

function sha256File(path: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const h = createHash('sha256');
    createReadStream(path)
      .on('data', (c) => h.update(c))
      .on('end', () => resolve(h.digest('hex')))
      .on('error', reject);
  });
}

type Client = 'curl' | 'atftp' | 'tftp-hpa';

/** The command line that downloads `remote` to `out`; tftp-hpa cannot negotiate options. */
function download(client: Client, port: number, remote: string, out: string, blockSize: number | null): [string, string[]] {
  switch (client) {
    case 'curl':
      return ['curl', ['-s', '--path-as-is', '-o', out, ...(blockSize === null ? [] : ['--tftp-blksize', String(blockSize)]), `tftp://127.0.0.1:${port}/${encodeURIComponent(remote).replaceAll('%2F', '/')}`]];
    case 'atftp':
      return ['atftp', [...(blockSize === null ? [] : ['--option', `blksize ${blockSize}`, '--option', 'windowsize 16']), '-g', '-r', remote, '-l', out, '127.0.0.1', String(port)]];
    case 'tftp-hpa':
      return ['tftp', ['127.0.0.1', String(port), '-m', 'binary', '-c', 'get', remote, out]];
  }
}

const toolsOf = (client: Client): Record<string, string> => (client === 'curl' ? TOOLS.curl : client === 'atftp' ? TOOLS.atftp : TOOLS.tftpHpa);

describe('TFTP interop', () => {
  let dir: string;
  let root: string;
  let server: TftpServer;
  let bigSha: string;
  const events: TftpEvent[] = [];

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'diskless-tftp-interop-'));
    root = join(dir, 'root');
    mkdirSync(join(root, 'sub'), { recursive: true });
    const big = randomBytes(BIG_BYTES);
    writeFileSync(join(root, 'big.bin'), big);
    bigSha = createHash('sha256').update(big).digest('hex');
    writeFileSync(join(root, 'sub', 'small.txt'), 'hello from the root\n');
    writeFileSync(join(dir, 'secret.txt'), SECRET);
    symlinkSync('../secret.txt', join(root, 'escape'));
    server = await startTftpServer({ address: '127.0.0.1', port: 0, provider: new DirectoryProvider([root]), log: pino({ level: 'silent' }), onEvent: (e) => events.push(e) });
  });
  after(async () => {
    await server?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const matrix: Array<[Client, number | null]> = [
    ['curl', 512],
    ['curl', 1468],
    ['curl', 65464],
    ['atftp', 512],
    ['atftp', 1468],
    ['atftp', 65464],
    ['tftp-hpa', null],
  ];
  for (const [client, blockSize] of matrix) {
    const label = blockSize === null ? '512 (no options)' : `${blockSize}${client === 'atftp' ? ', windowsize 16' : ''}`;
    test(`${client} downloads 50 MiB intact at blksize ${label}`, async (t: TestContext) => {
      if (!needTools(t, toolsOf(client))) return;
      const out = join(dir, `${client}-${blockSize ?? 'default'}.out`);
      const [cmd, args] = download(client, server.port, 'big.bin', out, blockSize);
      const t0 = performance.now();
      const r = await run(cmd, args, { timeoutMs: 180000 });
      const seconds = (performance.now() - t0) / 1000;
      assert.equal(r.code, 0, `${cmd} failed: ${r.stderr}`);
      assert.equal(await sha256File(out), bigSha);
      const done = events.filter((e) => e.kind === 'tftp-done' && e.path === 'big.bin').at(-1);
      t.diagnostic(`${client} blksize ${label}: ${(BIG_BYTES / 1048576 / seconds).toFixed(1)} MiB/s (server side ${done ? ((done.bytes / 1048576) / (done.ms / 1000)).toFixed(1) : '?'} MiB/s)`);
      rmSync(out);
    });
  }

  const escapes: Array<[string, string]> = [
    ['..', '../secret.txt'],
    ['.. after a folder', 'sub/../../secret.txt'],
    ['backslash ..', '..\\secret.txt'],
    ['backslash .. twice', 'sub\\..\\..\\secret.txt'],
    ['absolute', '/etc/passwd'],
    ['symlink out of the root', 'escape'],
  ];
  for (const client of ['curl', 'atftp', 'tftp-hpa'] as const) {
    test(`${client}: paths cannot escape the root`, async (t: TestContext) => {
      if (!needTools(t, toolsOf(client))) return;
      for (const [what, remote] of escapes) {
        const out = join(dir, `escape-${client}.out`);
        rmSync(out, { force: true });
        const before = events.length;
        const [cmd, args] = download(client, server.port, remote, out, null);
        const r = await run(cmd, args, { timeoutMs: 30000 });
        const got = existsSync(out) ? readFileSync(out, 'utf8') : '';
        assert.ok(!got.includes(SECRET) && !got.includes('root:'), `${what}: served ${JSON.stringify(got.slice(0, 40))}`);
        const refusal = events.slice(before).find((e) => e.kind === 'tftp-error');
        assert.ok(refusal, `${what}: no refusal recorded (exit ${r.code})`);
        assert.ok(refusal.code === 1 || refusal.code === 2, `${what}: code ${refusal.code}`);
      }
      // The root itself still serves.
      const out = join(dir, `ok-${client}.out`);
      const [cmd, args] = download(client, server.port, '/sub/small.txt', out, null);
      assert.equal((await run(cmd, args)).code, 0);
      assert.equal(readFileSync(out, 'utf8'), 'hello from the root\n');
    });
  }

  test('atftp with windowsize 16 over a link that drops 5% of datagrams', async (t: TestContext) => {
    if (!needTools(t, TOOLS.atftp)) return;
    const lossyRoot = join(dir, 'lossy');
    mkdirSync(lossyRoot);
    const data = randomBytes(2 * 1024 * 1024 + 333);
    writeFileSync(join(lossyRoot, 'file.bin'), data);
    const lossyEvents: TftpEvent[] = [];
    const lossy = await startTftpServer({
      address: '127.0.0.1',
      port: 0,
      provider: new DirectoryProvider([lossyRoot]),
      log: pino({ level: 'silent' }),
      onEvent: (e) => lossyEvents.push(e),
      transfer: { initialTimeoutMs: 100, maxTimeoutMs: 400, maxRetries: 8 },
    });
    const proxy = await LossyProxy.start(lossy.port, 0.05, 0x5eed);
    try {
      const out = join(dir, 'lossy.out');
      const r = await run('atftp', ['--option', 'blksize 1468', '--option', 'windowsize 16', '--tftp-timeout', '1', '-g', '-r', 'file.bin', '-l', out, '127.0.0.1', String(proxy.port)], { timeoutMs: 120000 });
      assert.equal(r.code, 0, r.stderr.slice(-500));
      assert.equal(await sha256File(out), createHash('sha256').update(data).digest('hex'));
      const done = lossyEvents.find((e) => e.kind === 'tftp-done');
      t.diagnostic(`dropped ${proxy.dropped} of ${proxy.forwarded + proxy.dropped} datagrams; transfer took ${Math.round(done?.ms ?? 0)} ms`);
      assert.ok(proxy.dropped > 0, 'the link really lost packets');
    } finally {
      proxy.close();
      await lossy.close();
    }
  });
});

/** Deterministic PRNG (mulberry32), so a failure replays with the same losses. */
function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * A UDP relay for one transfer that drops a fraction of datagrams both ways. The client talks to
 * `front`; `back` talks to the server's request port, then to the TID the server answers from.
 */
class LossyProxy {
  dropped = 0;
  forwarded = 0;
  private client: { address: string; port: number } | null = null;
  private serverTid: number | null = null;

  private constructor(
    private readonly front: Socket,
    private readonly back: Socket,
    private readonly serverPort: number,
    private readonly lossRate: number,
    private readonly random: () => number,
  ) {
    front.on('message', (msg, rinfo) => {
      this.client = { address: rinfo.address, port: rinfo.port };
      this.relay(this.back, msg, this.serverTid ?? this.serverPort);
    });
    back.on('message', (msg, rinfo) => {
      if (rinfo.port !== this.serverPort) this.serverTid = rinfo.port;
      if (this.client !== null) this.relay(this.front, msg, this.client.port, this.client.address);
    });
  }

  static async start(serverPort: number, lossRate: number, seed: number): Promise<LossyProxy> {
    const bind = async (): Promise<Socket> => {
      const s = createSocket('udp4');
      await new Promise<void>((resolve) => s.bind(0, '127.0.0.1', resolve));
      return s;
    };
    return new LossyProxy(await bind(), await bind(), serverPort, lossRate, mulberry32(seed));
  }

  get port(): number {
    return this.front.address().port;
  }

  private relay(via: Socket, msg: Buffer, port: number, address = '127.0.0.1'): void {
    if (this.random() < this.lossRate) {
      this.dropped++;
      return;
    }
    this.forwarded++;
    via.send(msg, port, address);
  }

  close(): void {
    this.front.close();
    this.back.close();
  }
}
