import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import fc from 'fast-check';
import { cachedReadsAvailable, cachedReadStats } from '../storage/cached-read.ts';
import { DirectoryProvider } from './directory-provider.ts';
import type { FileSource, OpenResult } from './files.ts';
import { normaliseRequestPath, ProviderChain, TftpError, VirtualProvider } from './files.ts';
import { ErrorCode } from './wire.ts';

const PEER = { address: '192.0.2.10', port: 2000 };

function readAll(source: FileSource): Promise<Buffer> {
  const into = Buffer.alloc(source.size);
  return new Promise((resolve, reject) =>
    source.read(0, source.size, into, (err, n) => {
      source.close();
      if (err !== null) reject(err);
      else resolve(into.subarray(0, n));
    }),
  );
}

async function contents(result: OpenResult): Promise<string> {
  assert.ok(!(result instanceof TftpError), `refused: ${result instanceof TftpError ? result.message : ''}`);
  return (await readAll(result)).toString();
}

function refused(result: OpenResult, code: number): void {
  assert.ok(result instanceof TftpError, 'expected a refusal');
  assert.equal(result.code, code);
  assert.ok(!result.message.includes('/'), `message leaks a path: ${result.message}`);
}

describe('normaliseRequestPath', () => {
  test('backslashes, leading slashes, dots', () => {
    assert.deepEqual(normaliseRequestPath('pxelinux.0'), ['pxelinux.0']);
    assert.deepEqual(normaliseRequestPath('/boot/x.efi'), ['boot', 'x.efi']);
    assert.deepEqual(normaliseRequestPath('\\Boot\\x64\\wdsnbp.com'), ['Boot', 'x64', 'wdsnbp.com']);
    assert.deepEqual(normaliseRequestPath('a//./b/../c'), ['a', 'c']);
    assert.deepEqual(normaliseRequestPath(''), []);
    assert.deepEqual(normaliseRequestPath('/'), []);
  });

  test('.. can never climb above the root', () => {
    for (const p of ['..', '../etc/passwd', '/../etc/passwd', '..\\..\\etc\\passwd', 'a/../../b', 'a\\..\\..\\b', './..']) {
      assert.equal(normaliseRequestPath(p), null, p);
    }
  });

  test('property: a result never holds "..", ".", "" or a separator', () => {
    const part = fc.constantFrom('..', '.', '', 'a', 'b', 'etc', '\\', '/', 'x..y');
    fc.assert(
      fc.property(fc.array(part, { maxLength: 12 }), (parts) => {
        const segments = normaliseRequestPath(parts.join(''));
        if (segments === null) return;
        for (const s of segments) {
          assert.ok(s !== '..' && s !== '.' && s !== '' && !s.includes('/') && !s.includes('\\'), JSON.stringify(segments));
        }
      }),
    );
  });
});

describe('DirectoryProvider', () => {
  let base: string;
  let user: string;
  let system: string;

  before(() => {
    base = mkdtempSync(join(tmpdir(), 'diskless-tftp-files-'));
    user = join(base, 'user');
    system = join(base, 'system');
    mkdirSync(join(user, 'pxelinux.cfg'), { recursive: true });
    mkdirSync(join(system, 'sub'), { recursive: true });
    writeFileSync(join(base, 'secret.txt'), 'secret');
    writeFileSync(join(user, 'undionly.kpxe'), 'user build');
    writeFileSync(join(user, 'pxelinux.cfg', 'default'), 'DEFAULT linux');
    writeFileSync(join(system, 'undionly.kpxe'), 'system build');
    writeFileSync(join(system, 'ipxe.efi'), 'efi');
    writeFileSync(join(system, 'sub', 'real.bin'), 'real');
    symlinkSync('../secret.txt', join(user, 'escape'));
    symlinkSync(base, join(user, 'up'));
    symlinkSync('pxelinux.cfg/default', join(user, 'inside-link'));
    symlinkSync('sub/real.bin', join(system, 'alias.bin'));
    symlinkSync('../secret.txt', join(system, 'trusted-escape'));
  });
  after(() => rmSync(base, { recursive: true, force: true }));

  test('roots are tried in order: the user folder overrides the system one', async () => {
    const p = new DirectoryProvider([user, system]);
    assert.equal(await contents(await p.open('undionly.kpxe', PEER)), 'user build');
    assert.equal(await contents(await p.open('ipxe.efi', PEER)), 'efi');
    assert.equal(await contents(await p.open('/pxelinux.cfg/default', PEER)), 'DEFAULT linux');
    assert.equal(await contents(await p.open('\\pxelinux.cfg\\default', PEER)), 'DEFAULT linux');
  });

  test('a cached boot file is read on the event loop, byte for byte, a chunk past its end short', async (t) => {
    if (!cachedReadsAvailable()) {
      t.skip('the native helper (native/file-io.c) is not built: every read takes the thread pool');
      return;
    }
    const bytes = Buffer.from(Array.from({ length: 100_000 }, (_, i) => (i * 7) & 0xff));
    writeFileSync(join(system, 'big.bin'), bytes);
    const opened = await new DirectoryProvider([system]).open('big.bin', PEER);
    assert.ok(!(opened instanceof TftpError));
    try {
      const before = cachedReadStats.cached;
      const into = Buffer.alloc(65536);
      const read = (offset: number, length: number): Promise<number> =>
        new Promise((resolve, reject) => opened.read(offset, length, into, (err, n) => (err !== null ? reject(err) : resolve(n))));
      assert.equal(await read(0, 65536), 65536);
      assert.deepEqual(into, bytes.subarray(0, 65536));
      assert.equal(cachedReadStats.cached, before + 1, 'served from the page cache');
      assert.equal(await read(65536, 65536), 100_000 - 65536, 'the last chunk is short (the pool reads past the end)');
      assert.deepEqual(into.subarray(0, 100_000 - 65536), bytes.subarray(65536));
    } finally {
      opened.close();
    }
  });

  test('missing files and directories are "File not found"', async () => {
    const p = new DirectoryProvider([user, system]);
    refused(await p.open('nope', PEER), ErrorCode.FileNotFound);
    refused(await p.open('pxelinux.cfg', PEER), ErrorCode.FileNotFound);
    refused(await p.open('', PEER), ErrorCode.FileNotFound);
    refused(await p.open('/etc/passwd', PEER), ErrorCode.FileNotFound);
    refused(await new DirectoryProvider([join(base, 'no-such-root')]).open('x', PEER), ErrorCode.FileNotFound);
  });

  test('.. escapes are refused, whatever the spelling', async () => {
    const p = new DirectoryProvider([user]);
    for (const path of ['../secret.txt', '/../secret.txt', '..\\secret.txt', '..\\..\\etc\\passwd', 'pxelinux.cfg/../../secret.txt']) {
      refused(await p.open(path, PEER), ErrorCode.AccessViolation);
    }
  });

  test('symlinks out of a jailed root are refused; inside ones work', async () => {
    const p = new DirectoryProvider([user]);
    refused(await p.open('escape', PEER), ErrorCode.AccessViolation);
    refused(await p.open('up/secret.txt', PEER), ErrorCode.AccessViolation);
    assert.equal(await contents(await p.open('inside-link', PEER)), 'DEFAULT linux');
  });

  test("a 'follow' root trusts its own links (Debian's /usr/lib/ipxe/ipxe.efi -> /boot/ipxe.efi)", async () => {
    const p = new DirectoryProvider([{ path: system, symlinks: 'follow' }]);
    assert.equal(await contents(await p.open('trusted-escape', PEER)), 'secret');
    assert.equal(await contents(await p.open('alias.bin', PEER)), 'real');
    refused(await p.open('../secret.txt', PEER), ErrorCode.AccessViolation);
  });
});

describe('VirtualProvider and ProviderChain', () => {
  test('a map of generated files, looked up by normalised path', async () => {
    const v = new VirtualProvider(new Map([['pxelinux.cfg/01-52-54-00-12-34-56', 'DEFAULT disk']]));
    assert.equal(await contents(await v.open('/pxelinux.cfg/01-52-54-00-12-34-56', PEER)), 'DEFAULT disk');
    assert.equal(await contents(await v.open('pxelinux.cfg\\01-52-54-00-12-34-56', PEER)), 'DEFAULT disk');
    refused(await v.open('pxelinux.cfg/default', PEER), ErrorCode.FileNotFound);
    refused(await v.open('../x', PEER), ErrorCode.AccessViolation);
  });

  test('a function sees the peer', async () => {
    const v = new VirtualProvider((path, peer) => (path === 'whoami' ? `${peer.address}` : null));
    assert.equal(await contents(await v.open('whoami', PEER)), '192.0.2.10');
  });

  test('the chain falls through on not-found only', async () => {
    const v = new VirtualProvider(new Map([['a', 'virtual a']]));
    const deny = { open: () => TftpError.accessViolation() };
    const b = new VirtualProvider(new Map([['a', 'b a'], ['b', 'b b']]));
    const chain = new ProviderChain([v, b]);
    assert.equal(await contents(await chain.open('a', PEER)), 'virtual a');
    assert.equal(await contents(await chain.open('b', PEER)), 'b b');
    refused(await chain.open('c', PEER), ErrorCode.FileNotFound);
    refused(await new ProviderChain([deny, b]).open('b', PEER), ErrorCode.AccessViolation);
  });
});
