// Session-level behaviour: reinstatement, many sessions at once, target NOP-In pings, the
// sessions view through the real CLI.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { RawInitiator } from '../helpers/initiator.ts';
import { startTestServer, TEST_IQN, type TestServer } from '../helpers/server.ts';
import { run } from '../helpers/tools.ts';

const KEYS: Array<[string, string]> = [
  ['TargetName', TEST_IQN],
  ['SessionType', 'Normal'],
  ['MaxRecvDataSegmentLength', '65536'],
];

function read10(lba: number, blocks: number): Buffer {
  const cdb = Buffer.alloc(10);
  cdb[0] = 0x28;
  cdb.writeUInt32BE(lba, 2);
  cdb.writeUInt16BE(blocks, 7);
  return cdb;
}

describe('sessions', () => {
  let s: TestServer;
  before(async () => {
    s = await startTestServer({ iscsi: { nopIntervalMs: 300, nopTimeoutMs: 600 } });
  });
  after(async () => s.stop());

  test('a new login with the same initiator and ISID reinstates the session (the old one is closed)', async () => {
    const isid = Buffer.from([0x80, 0x12, 0x34, 0x56, 0x78, 0x9a]);
    const first = await RawInitiator.connect(s.iscsiPort);
    assert.equal((await first.login(KEYS, isid)).statusClass, 0);
    const firstTsih = s.server.iscsi.sessions().find((x) => x.isid === isid.toString('hex'))?.tsih;
    const second = await RawInitiator.connect(s.iscsiPort);
    const response = await second.login(KEYS, isid);
    assert.equal(response.statusClass, 0);
    assert.notEqual(response.tsih, 0);
    assert.ok(await first.waitClosed(2000), 'the reinstated session must be closed');
    const live = s.server.iscsi.sessions().filter((x) => x.isid === isid.toString('hex'));
    assert.equal(live.length, 1);
    assert.notEqual(live[0]?.tsih, firstTsih);
    second.close();
  });

  test('fifty sessions read at once and each gets the right data', async () => {
    const initiators = await Promise.all(Array.from({ length: 50 }, () => RawInitiator.connect(s.iscsiPort)));
    await Promise.all(initiators.map((ini, i) => ini.login(KEYS, Buffer.from([0x80, 0, 0, 1, 0, i]))));
    const disk = (await import('node:fs')).readFileSync(`${s.dir}/disk0.img`);
    await Promise.all(
      initiators.map(async (ini, i) => {
        const lba = i * 64;
        const pdus = await ini.command(read10(lba, 16), 16 * 512);
        const data = Buffer.concat(pdus.filter((p) => p.kind === 'data-in').map((p) => p.data));
        assert.ok(data.equals(disk.subarray(lba * 512, (lba + 16) * 512)), `session ${i} read the wrong bytes`);
      }),
    );
    assert.ok(s.server.iscsi.sessions().length >= 50);
    for (const ini of initiators) ini.close();
  });

  test('an initiator that answers NOP-In pings stays connected', async () => {
    const ini = await RawInitiator.connect(s.iscsiPort);
    ini.answerPings = true;
    assert.equal((await ini.login(KEYS, Buffer.from([0x80, 0, 0, 4, 0, 1]))).statusClass, 0);
    await new Promise((r) => setTimeout(r, 1500));
    assert.equal(ini.closed, false);
    const pdus = await ini.command(read10(0, 1), 512);
    assert.equal(pdus.at(-1)?.kind, 'data-in');
    ini.close();
  });

  test('an initiator that answered pings before and then goes silent is dropped', async () => {
    const ini = await RawInitiator.connect(s.iscsiPort);
    ini.answerPings = true;
    assert.equal((await ini.login(KEYS, Buffer.from([0x80, 0, 0, 2, 0, 1]))).statusClass, 0);
    await new Promise((r) => setTimeout(r, 700)); // one ping answered
    ini.answerPings = false;
    const ping = await ini.next(2000);
    assert.ok(ping?.kind === 'nop-in', `expected a NOP-In ping, got ${ping?.kind}`);
    assert.equal(ping.initiatorTaskTag, 0xffffffff);
    assert.notEqual(ping.targetTransferTag, 0xffffffff, 'a ping asks for an answer with its TTT');
    assert.ok(await ini.waitClosed(3000), 'an initiator that stops answering is disconnected');
  });

  test('an initiator that never answers pings (iPXE ignores them) is kept', async () => {
    const ini = await RawInitiator.connect(s.iscsiPort);
    assert.equal((await ini.login(KEYS, Buffer.from([0x80, 0, 0, 5, 0, 1]))).statusClass, 0);
    const ping = await ini.next(2000);
    assert.ok(ping?.kind === 'nop-in');
    await new Promise((r) => setTimeout(r, 1500));
    assert.equal(ini.closed, false, 'silence from an initiator that never answered proves nothing');
    const pdus = await ini.command(read10(0, 1), 512);
    assert.equal(pdus.filter((p) => p.kind === 'data-in').length, 1);
    ini.close();
  });

  test('diskless sessions (the real CLI) lists live sessions with bytes read', async () => {
    const ini = await RawInitiator.connect(s.iscsiPort);
    ini.answerPings = true;
    await ini.login(KEYS, Buffer.from([0x80, 0, 0, 3, 0, 1]));
    await ini.command(read10(0, 8), 4096);
    const r = await run(process.execPath, ['bin/diskless.js', 'sessions', '--server', `http://127.0.0.1:${s.httpPort}`]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, new RegExp(`target:${TEST_IQN.replace(/\./g, '\\.')} type:normal`));
    assert.match(r.stdout, /initiator:iqn\.2026-11\.org\.diskless\.test:initiator isid:800000030001/);
    assert.match(r.stdout, /state:active hd:none dd:none/);
    assert.match(r.stdout, /read:4096 written:0/);
    const json = await run(process.execPath, ['bin/diskless.js', 'sessions', '--json', '--server', `http://127.0.0.1:${s.httpPort}`]);
    assert.equal(json.code, 0, json.stderr);
    const rows = JSON.parse(json.stdout) as Array<{ isid: string; bytesRead: number }>;
    assert.equal(rows.find((x) => x.isid === '800000030001')?.bytesRead, 4096);
    ini.close();
  });
});

describe('boot timeline', () => {
  let s: TestServer;
  before(async () => {
    s = await startTestServer();
  });
  after(async () => s.stop());

  test('an iSCSI login and the first read of LBA 0 are recorded, and the CLI shows them', async () => {
    const ini = await RawInitiator.connect(s.iscsiPort);
    await ini.login(KEYS, Buffer.from([0x80, 0, 0, 9, 0, 1]));
    await ini.command(read10(0, 1), 512);
    await ini.command(read10(0, 1), 512);
    const kinds = s.server.events.list().map((e) => `${e.kind} ${e.ip}`);
    assert.deepEqual(kinds, ['iscsi-login 127.0.0.1', 'iscsi-first-read 127.0.0.1'], 'the first read is recorded once');
    const r = await run(process.execPath, ['bin/diskless.js', 'events', '--server', `http://127.0.0.1:${s.httpPort}`]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /- 127\.0\.0\.1 iscsi-login ok initiator=iqn\.2026-11\.org\.diskless\.test:initiator target=iqn\.2026-11\.org\.diskless\.test:disk0\n/);
    const live = await (await fetch(`http://127.0.0.1:${s.httpPort}/metrics`)).text();
    assert.match(live, /\ndiskless_iscsi_sessions\{target="iqn\.2026-11\.org\.diskless\.test:disk0"\} 1\n/);
    assert.match(live, /\ndiskless_iscsi_read_bytes_total\{target="iqn\.2026-11\.org\.diskless\.test:disk0"\} 1024\n/);
    ini.close();
    await ini.waitClosed();
    await new Promise((r) => setTimeout(r, 100));
    assert.equal(s.server.events.list().at(-1)?.kind, 'iscsi-logout');
    const after = await (await fetch(`http://127.0.0.1:${s.httpPort}/metrics`)).text();
    assert.match(after, /\ndiskless_iscsi_sessions\{target="iqn\.2026-11\.org\.diskless\.test:disk0"\} 0\n/, 'the session ended');
    assert.match(after, /\ndiskless_iscsi_read_bytes_total\{target="iqn\.2026-11\.org\.diskless\.test:disk0"\} 1024\n/, 'counters survive the session');
  });

  test('a failed login is recorded with the reason', async () => {
    const ini = await RawInitiator.connect(s.iscsiPort);
    await ini.login([['TargetName', 'iqn.2026-11.org.diskless.test:missing'], ['SessionType', 'Normal']]);
    const failed = s.server.events.list().filter((e) => e.kind === 'iscsi-login-failed');
    assert.equal(failed.length, 1);
    assert.equal(failed[0]?.detail.target, 'iqn.2026-11.org.diskless.test:missing');
    assert.match(failed[0]?.outcome ?? '', /no target iqn\.2026-11\.org\.diskless\.test:missing/);
    ini.close();
  });
});

describe('CLI', () => {
  test('every command has --help', async () => {
    for (const args of [['--help'], ['serve', '--help'], ['sessions', '--help'], ['events', '--help'], ['disk', '--help'], ['disk', 'create', '--help']]) {
      const r = await run(process.execPath, ['bin/diskless.js', ...args]);
      assert.equal(r.code, 0, `${args.join(' ')}: ${r.stderr}`);
      assert.match(r.stdout, /Usage: diskless/);
    }
  });

  test('a bad flag value is explained, with what to do', async () => {
    const r = await run(process.execPath, ['bin/diskless.js', 'serve', '--disk', 'x.img', '--chap', 'nocolon']);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /--chap takes USER:SECRET/);
    const sessions = await run(process.execPath, ['bin/diskless.js', 'sessions', '--server', 'http://127.0.0.1:9']);
    assert.notEqual(sessions.code, 0);
    assert.match(sessions.stderr, /is 'diskless serve' running\?/);
  });
});
