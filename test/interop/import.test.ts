// `diskless import` through the real binary against a running server: seed 001's ietd.conf (its
// path pointed at a real image) and a dnsmasq host with an iSCSI root path become a disk, a
// target and a machine whose iPXE script sanboots that target; a second run keeps everything;
// a refusal stops the import and says what was applied.
import { after, before, describe, test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { patternedImage, startTestServer, type TestServer } from '../helpers/server.ts';
import { needTools, run } from '../helpers/tools.ts';

const IQN = 'iqn.2007-01.org.exacnet:foobar.1';
const MAC = '52:54:00:1a:00:01';
const vector = (name: string): string => readFileSync(new URL(`../vectors/import/${name}`, import.meta.url), 'utf8');

describe('diskless import', () => {
  let s: TestServer;
  let dir: string;
  let base: string;
  before(async () => {
    s = await startTestServer();
    base = `http://127.0.0.1:${s.httpPort}`;
    dir = mkdtempSync(join(tmpdir(), 'diskless-import-'));
  });
  after(async () => {
    await s.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  const cli = (...args: string[]) => run(process.execPath, ['bin/diskless.js', 'import', ...args, '--server', base, '--data-dir', s.dir]);
  const get = async <T>(path: string): Promise<T> => (await (await fetch(`${base}${path}`)).json()) as T;

  /** The disk and target API arrived with this feature's server side; without it there is nothing to test. */
  async function apiReady(t: TestContext): Promise<boolean> {
    const answer = await fetch(`${base}/api/targets`);
    if (answer.status !== 404) return true;
    const reason = 'the server has no /api/targets yet';
    if (process.env.CI === 'true') throw new Error(reason);
    t.skip(reason);
    return false;
  }

  function writeSetup(): { ietd: string; dnsmasq: string } {
    const image = join(dir, 'foobar');
    patternedImage(image, 4 * 1024 * 1024, 7);
    const ietd = join(dir, 'ietd.conf');
    writeFileSync(ietd, vector('seed-001-ietd.conf').replace('/media/stuff/iscsi/foobar', image));
    const dnsmasq = join(dir, 'dnsmasq.conf');
    writeFileSync(dnsmasq, [...vector('seed-001-ipxe-dnsmasq.conf').split('\n').slice(0, 4), `dhcp-host=${MAC},pc1`, `dhcp-option=17,"iscsi:192.168.3.3::::${IQN}"`, ''].join('\n'));
    return { ietd, dnsmasq };
  }

  test('an ietd.conf and a dnsmasq host become a target and a machine that sanboots it', async (t) => {
    if (!(await apiReady(t))) return;
    const { ietd, dnsmasq } = writeSetup();

    const dry = await cli(ietd, dnsmasq, '--dry-run');
    assert.equal(dry.code, 0, dry.stderr);
    assert.match(dry.stdout, new RegExp(`target {2}${IQN.replace(/\./g, '\\.')} \\(foobar\\): LUN 0 = foobar`));
    assert.match(dry.stdout, /machine pc1 {2}52:54:00:1a:00:01: sanboot iqn\.2007-01\.org\.exacnet:foobar\.1 LUN 0/);
    assert.match(dry.stdout, /Notes \(4\):\n/);
    assert.match(dry.stdout, /dnsmasq\.conf:4: dhcp-userclass tag iPXE-booted no longer needed/);
    assert.match(dry.stdout, /Dry run: nothing was changed\./);
    assert.deepEqual(await get<unknown[]>('/api/machines'), [], 'a dry run changes nothing');

    const first = await cli(ietd, dnsmasq);
    assert.equal(first.code, 0, first.stderr);
    assert.match(first.stdout, /disk foobar: added\n {2}target iqn\.2007-01\.org\.exacnet:foobar\.1: added\n {2}machine pc1 \(52:54:00:1a:00:01\): added\nDone: 3 added, 0 already there and kept, 0 skipped\./);

    const targets = await get<Array<{ iqn: string; alias: string | null; luns: Array<{ lun: number; disk: string }> }>>('/api/targets');
    const target = targets.find((x) => x.iqn === IQN);
    assert.deepEqual(target?.luns.map((l) => [l.lun, l.disk]), [[0, 'foobar']]);
    assert.equal(target?.alias, 'foobar');
    const machines = await get<Array<{ mac: string; name: string; boot: unknown }>>('/api/machines');
    assert.deepEqual(machines.map((m) => [m.mac, m.name, m.boot]), [[MAC, 'pc1', { kind: 'sanboot', disks: [{ target: IQN, lun: 0 }] }]]);

    const script = await (await fetch(`${base}/boot.ipxe?mac=${MAC}`)).text();
    assert.match(script, new RegExp(`\\nsanboot iscsi:[^\\s:]+::${s.iscsiPort}:0:${IQN.replace(/\./g, '\\.')} \\|\\| goto failed\\n`), script);

    const again = await cli(ietd, dnsmasq, '--json');
    assert.equal(again.code, 0, again.stderr);
    const outcomes = (JSON.parse(again.stdout) as { outcomes: Array<{ kind: string; result: string }> }).outcomes;
    assert.deepEqual(outcomes.map((o) => [o.kind, o.result]), [['disk', 'kept'], ['target', 'kept'], ['machine', 'kept']], 'a second import keeps what is there');
  });

  test('the imported target serves the image on LUN 0 (iscsi-ls, after the import above; it shows the size less one block)', async (t) => {
    if (!(await apiReady(t)) || !needTools(t, { 'iscsi-ls': 'libiscsi-bin' })) return;
    const listed = await run('iscsi-ls', ['-s', `iscsi://127.0.0.1:${s.iscsiPort}`]);
    assert.equal(listed.code, 0, listed.stderr);
    const section = listed.stdout.split(/(?=Target:)/).find((part) => part.startsWith(`Target:${IQN}`)) ?? '';
    assert.match(section, /Lun:0\s+Type:DIRECT_ACCESS \(Size:[34]M\)/, listed.stdout);
  });

  test('a refusal stops the import and says what was applied and what to do', async (t) => {
    if (!(await apiReady(t))) return;
    const ietd = join(dir, 'broken-ietd.conf');
    const image = join(dir, 'ok.img');
    patternedImage(image, 1024 * 1024, 3);
    writeFileSync(ietd, `Target iqn.2026-01.org.example:broken\nLun 0 Path=${image}\nLun 1 Path=${join(dir, 'missing.img')}\n`);
    const result = await cli(ietd);
    assert.equal(result.code, 1);
    assert.match(result.stdout, /disk ok\.img: added/);
    assert.match(result.stderr, /import stopped at disk missing\.img: .*\nBefore it: 1 added, 0 kept or skipped \(listed above\)\. Fix the cause, then run the same import again/);
    const targets = await get<Array<{ iqn: string }>>('/api/targets');
    assert.equal(targets.some((x) => x.iqn === 'iqn.2026-01.org.example:broken'), false, 'targets wait for their disks');
  });

  test('a file no parser recognises is refused before anything is applied', async () => {
    const odd = join(dir, 'notes.txt');
    writeFileSync(odd, 'hello\n');
    const result = await cli(odd);
    assert.equal(result.code, 1);
    assert.match(result.stderr, /notes\.txt: cannot tell which kind of file this is; pass --format ietd\|tgt\|dnsmasq\|pxelinux/);
  });
});
