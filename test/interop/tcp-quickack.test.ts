// iPXE sends an iSCSI PDU's header and its data segment as two TCP segments and keeps only one
// unacknowledged segment in flight, so after the header it waits for our ACK; Linux would send
// that ACK after its delayed-ACK timer (40 ms, seen in captures of sanboots against tgtd and
// diskless alike). The server asks for the ACK at once (TCP_QUICKACK) when a read ends right
// after a header: checked here under strace on the real server, with a client that sends a login
// header alone, then its data; a PDU sent whole must not cost the system call.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { spawnServer } from '../helpers/server-child.ts';
import { needTools } from '../helpers/tools.ts';

/** A Login Request BHS (RFC 7143 11.12) of a discovery session, and its text. */
function loginPdu(isid: number): { header: Buffer; data: Buffer } {
  const text = Buffer.from('InitiatorName=iqn.2026-12.test:quickack\0SessionType=Discovery\0AuthMethod=None\0');
  const padded = Buffer.alloc((text.length + 3) & ~3);
  text.copy(padded);
  const header = Buffer.alloc(48);
  header[0] = 0x43; // immediate, Login Request
  header[1] = 0x81; // T=1, CSG=0 (security), NSG=1 (operational)
  header.writeUIntBE(text.length, 5, 3);
  header.writeUIntBE(0x400000000000 + isid, 8, 6);
  header.writeUInt32BE(1, 16); // ITT
  return { header, data: padded };
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

function readResponse(socket: net.Socket): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    let got = Buffer.alloc(0);
    const timer = setTimeout(() => reject(new Error('no login response')), 5000);
    const onData = (chunk: Buffer): void => {
      got = Buffer.concat([got, chunk]);
      if (got.length < 48) return;
      const length = 48 + ((got.readUIntBE(5, 3) + 3) & ~3);
      if (got.length < length) return;
      clearTimeout(timer);
      socket.off('data', onData);
      resolve(got.subarray(0, length));
    };
    socket.on('data', onData);
  });
}

test('a read that ends after a PDU header is acknowledged at once (TCP_QUICKACK), a whole PDU is not', { timeout: 60_000 }, async (t) => {
  if (!needTools(t, { strace: 'strace' })) return;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'diskless-quickack-'));
  const server = await spawnServer({ dataDir: dir, listen: '127.0.0.1', logLevel: 'warn', iscsi: { port: 0 }, http: { port: 0 } });
  const traceFile = path.join(dir, 'trace.txt');
  const strace = spawn('strace', ['-f', '-e', 'trace=setsockopt', '-o', traceFile, '-p', String(server.pid)], { stdio: ['ignore', 'ignore', 'pipe'] });
  let straceErr = '';
  strace.stderr.on('data', (d: Buffer) => (straceErr += d.toString()));
  const straceExit = new Promise<void>((resolve) => strace.once('exit', () => resolve()));
  const quickAcks = (): number => (fs.existsSync(traceFile) ? fs.readFileSync(traceFile, 'utf8').split('\n').filter((l) => /setsockopt\(\d+, SOL_TCP, TCP_QUICKACK, \[1\]/.test(l)).length : 0);
  try {
    for (let i = 0; i < 100 && !/attached/.test(straceErr); i++) await sleep(50);
    assert.match(straceErr, /attached/, `strace could not attach: ${straceErr}`);

    // Whole: header and data in one write, one read on the server.
    const whole = net.connect(server.iscsiPort, '127.0.0.1');
    whole.setNoDelay(true);
    await new Promise<void>((resolve) => whole.once('connect', () => resolve()));
    const first = loginPdu(1);
    whole.write(Buffer.concat([first.header, first.data]));
    const wholeResponse = await readResponse(whole);
    assert.equal(wholeResponse[0], 0x23, 'a Login Response');
    assert.equal(wholeResponse[36], 0, 'login succeeded (status class 0)');
    await sleep(200);
    assert.equal(quickAcks(), 0, 'a PDU that arrived whole asks for no early ACK');
    whole.destroy();

    // Split as iPXE splits it: the header alone, then (after a pause) the data.
    const split = net.connect(server.iscsiPort, '127.0.0.1');
    split.setNoDelay(true);
    await new Promise<void>((resolve) => split.once('connect', () => resolve()));
    const second = loginPdu(2);
    const response = readResponse(split);
    split.write(second.header);
    for (let i = 0; i < 40 && quickAcks() === 0; i++) await sleep(50);
    assert.equal(quickAcks(), 1, 'the header alone was acknowledged at once');
    split.write(second.data);
    assert.equal((await response)[36], 0, 'and the login completes');
    split.destroy();
  } finally {
    strace.kill('SIGINT');
    await straceExit;
    await server.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
