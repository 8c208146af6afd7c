// A packet capture of one machine's boot traffic, for real on loopback: the machine's DHCP
// DISCOVER goes to the server's DHCP port (and another MAC's beside it), tftp-hpa fetches a boot
// file, iscsi-inq logs in and asks INQUIRY; POST /api/machines/:ref/capture started the capture
// with the token, DELETE stops it, GET downloads it (the token again). The file is read back
// field by field, and by tshark (Debian's, when installed: else the test says why it skips that
// part): it must show the machine's DHCP, its TFTP and its iSCSI login, and nothing of the
// other MAC. iSCSI comes through tcpdump (the test runs as root, as .ci/run does). The
// console's buttons start, stop and download a capture (chromium).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { CaptureStatus } from '../../src/capture/machine-capture.ts';
import { readPcap } from '../../src/capture/test-pcap-reader.ts';
import { peekDhcp } from '../../src/capture/dhcp-peek.ts';
import { buildRequest, PXE_BIOS_VENDOR } from '../../src/dhcp/test-requests.ts';
import { MessageType } from '../../src/dhcp/wire/option-codes.ts';
import { encodeDhcpMessage } from '../../src/dhcp/wire/packet.ts';
import { startLoggedServer, type LoggedServer } from '../helpers/logged-server.ts';
import { patternedImage } from '../helpers/server.ts';
import { hasTool, needTools, run, freeUdpPort } from '../helpers/tools.ts';
import { launchBrowser, needBrowser } from '../helpers/browser.ts';

const MAC = '52:54:00:ca:fe:01';
const OTHER = '52:54:00:ca:fe:02';
const TARGET = 'iqn.2026-11.org.diskless.cap:disk';
const BOOT_FILE = 'boot-test.bin';


const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('packet capture of one machine', () => {
  let s: LoggedServer;
  let token = '';
  let dhcpPort = 0;
  /** Made before the server: the server's capture taps only its own sockets. */
  let client: UdpSocket;

  const api = (method: string, path: string, options: { body?: unknown; auth?: boolean } = {}) =>
    fetch(`http://127.0.0.1:${s.server.httpPort}${path}`, {
      method,
      headers: { ...(options.auth !== false ? { authorization: `Bearer ${token}` } : {}), ...(options.body !== undefined ? { 'content-type': 'application/json' } : {}) },
      ...(options.body !== undefined ? { body: JSON.stringify(options.body) } : {}),
    });

  before(async () => {
    client = createSocket('udp4');
    await new Promise<void>((resolve) => client.bind(0, '127.0.0.1', resolve));
    dhcpPort = await freeUdpPort();
    s = await startLoggedServer(
      (dir) => {
        const disk = join(dir, 'disk.img');
        patternedImage(disk, 4 * 1024 * 1024);
        mkdirSync(join(dir, 'boot'), { recursive: true });
        writeFileSync(join(dir, 'boot', BOOT_FILE), Buffer.alloc(3000, 0x42));
        return {
          targets: [{ iqn: TARGET, luns: [{ lun: 0, path: disk }] }],
          machines: [{ mac: MAC, name: 'pc1', boot: { kind: 'sanboot', disks: [{ target: TARGET, lun: 0 }] } }],
          dhcp: { mode: 'full', port: dhcpPort, proxyPort: dhcpPort, subnetMask: '255.0.0.0', pool: { first: '127.0.0.100', last: '127.0.0.200' } },
          tftp: { port: 0 },
        };
      },
      'info',
    );
    token = readFileSync(join(s.dir, 'api-token'), 'utf8').trim();
  });
  after(async () => {
    client.close();
    await s.stop();
  });

  test('DHCP, TFTP and iSCSI of the machine in a pcap that tshark reads; the token guards it', async (t) => {
    if (!needTools(t, { 'iscsi-inq': 'libiscsi-bin', tftp: 'tftp-hpa', tcpdump: 'tcpdump' })) return;
    assert.equal((await api('POST', `/api/machines/pc1/capture`, { body: {}, auth: false })).status, 401, 'starting needs the token');
    const started = await api('POST', '/api/machines/pc1/capture', { body: { seconds: 30, maxBytes: 8 * 1024 * 1024, addresses: ['127.0.0.1'] } });
    assert.equal(started.status, 201, await started.clone().text());
    const status = (await started.json()) as CaptureStatus;
    assert.deepEqual([status.mac, status.state, status.addresses], [MAC, 'running', ['127.0.0.1']]);
    const iscsiCaptured = status.notes.some((n) => n.startsWith('iSCSI through tcpdump on lo'));
    // tcpdump needs root: CI runs as root (.ci/run), a developer may not.
    if (process.env.CI === 'true') assert.ok(iscsiCaptured, status.notes.join('; '));
    if (!iscsiCaptured) t.diagnostic(`iSCSI is not in this capture: ${status.notes.join('; ')}`);

    // The machine's PXE DISCOVER, and another machine's, to the server's DHCP port.
    for (const mac of [MAC, OTHER]) {
      const discover = encodeDhcpMessage(buildRequest({ type: MessageType.Discover, mac, xid: 0x1234, arch: 0, vendorClass: PXE_BIOS_VENDOR }));
      await new Promise<void>((resolve) => client.send(discover, dhcpPort, '127.0.0.1', () => resolve()));
    }
    const tftpPort = s.server.tftpPort ?? assert.fail('TFTP runs with DHCP');
    const fetched = await run('tftp', ['127.0.0.1', String(tftpPort), '-m', 'binary', '-c', 'get', BOOT_FILE, join(s.dir, 'fetched.bin')]);
    assert.equal(fetched.code, 0, fetched.stderr);
    const inq = await run('iscsi-inq', [`iscsi://127.0.0.1:${s.server.iscsiPort}/${TARGET}/0`]);
    assert.equal(inq.code, 0, inq.stderr);
    await sleep(200);

    assert.equal((await api('DELETE', '/api/machines/pc1/capture', { auth: false })).status, 401);
    const stopped = (await (await api('DELETE', `/api/machines/${MAC}/capture`)).json()) as CaptureStatus;
    assert.deepEqual([stopped.state, stopped.reason], ['done', 'stopped']);
    const listed = (await (await api('GET', '/api/captures', { auth: false })).json()) as CaptureStatus[];
    assert.deepEqual(listed.map((c) => [c.mac, c.state]), [[MAC, 'done']]);

    assert.equal((await api('GET', '/api/machines/pc1/capture', { auth: false })).status, 401, 'the download holds disk blocks: token only');
    const download = await api('GET', '/api/machines/pc1/capture');
    assert.equal(download.status, 200);
    assert.equal(download.headers.get('content-type'), 'application/vnd.tcpdump.pcap');
    assert.match(download.headers.get('content-disposition') ?? '', /^attachment; filename="diskless-525400cafe01-\d{8}T\d{6}Z\.pcap"$/);
    const file = Buffer.from(await download.arrayBuffer());
    assert.equal(file.length, stopped.bytes);
    const path = join(s.dir, 'download.pcap');
    writeFileSync(path, file);

    // Field by field: the machine's DHCP (not the other MAC's), its TFTP, its iSCSI.
    const { linkType, packets } = readPcap(file);
    assert.equal(linkType, 1, 'LINKTYPE_ETHERNET');
    // diskless's own frames; tcpdump's show what the kernel had (loopback and offloading NICs leave TCP checksums to be filled).
    assert.ok(packets.filter((p) => p.protocol === 'udp').every((p) => p.checksumsOk), 'valid IP and UDP checksums');
    const dhcp = packets.filter((p) => p.protocol === 'udp' && (p.dstPort === dhcpPort || p.srcPort === dhcpPort));
    assert.ok(dhcp.length >= 1, 'the DISCOVER');
    assert.deepEqual([...new Set(dhcp.map((p) => peekDhcp(p.payload)?.mac))], [MAC]);
    assert.ok(packets.some((p) => p.protocol === 'udp' && p.dstPort === tftpPort && p.payload.includes(BOOT_FILE)), 'the TFTP read request');
    // The transfer itself runs on its own socket (a native one where the helper is built): its
    // first DATA, byte for byte, and the client's ACK of it.
    const served = readFileSync(join(s.dir, 'fetched.bin'));
    const data1 = packets.find((p) => p.protocol === 'udp' && p.payload.length >= 4 && p.payload.readUInt16BE(0) === 3 && p.payload.readUInt16BE(2) === 1);
    assert.ok(data1 !== undefined, 'DATA block 1 of the transfer');
    assert.deepEqual(data1.payload.subarray(4), served.subarray(0, data1.payload.length - 4));
    assert.ok(packets.some((p) => p.protocol === 'udp' && p.dstPort === data1.srcPort && p.payload.equals(Buffer.from([0, 4, 0, 1]))), 'the ACK of block 1');
    const iscsi = packets.filter((p) => p.protocol === 'tcp' && (p.dstPort === s.server.iscsiPort || p.srcPort === s.server.iscsiPort));
    if (iscsiCaptured) assert.ok(iscsi.some((p) => p.payload.includes('InitiatorName=')), 'the login request');

    if (!hasTool('tshark')) {
      t.diagnostic('tshark is not installed (apt-get install tshark): the file was only checked field by field');
      return;
    }
    const shark = await run('tshark', ['-r', path, '-n', '-d', `udp.port==${dhcpPort},dhcp`, '-d', `udp.port==${tftpPort},tftp`, '-d', `tcp.port==${s.server.iscsiPort},iscsi`, '-T', 'fields', '-e', '_ws.col.Protocol', '-e', '_ws.col.Info']);
    assert.equal(shark.code, 0, shark.stderr);
    const lines = shark.stdout.trim().split('\n');
    assert.ok(lines.some((l) => /^DHCP\tDHCP Discover/.test(l)), shark.stdout);
    assert.ok(lines.some((l) => /^TFTP\tRead Request/.test(l)), shark.stdout);
    assert.ok(lines.some((l) => /^TFTP\tData Packet, Block: 1\b/.test(l)), shark.stdout);
    if (iscsiCaptured) {
      assert.ok(lines.some((l) => /^iSCSI\tLogin Command/.test(l)), shark.stdout);
      assert.ok(lines.some((l) => /^iSCSI\tSCSI: Inquiry/.test(l)), shark.stdout);
    }
    assert.doesNotMatch(shark.stderr, /malformed|cut short/i);
  });

  test('the console: capture the selected machine, stop, download the pcap (the token from the browser\'s storage)', async (t) => {
    if (!needBrowser(t)) return;
    const launched = await launchBrowser();
    try {
      const page = await launched.browser.newPage({ acceptDownloads: true });
      const problems: string[] = [];
      page.on('pageerror', (err) => problems.push(err.message));
      await page.goto(`http://127.0.0.1:${s.server.httpPort}/console/#mac=${OTHER}`);
      await page.getByTestId('capture-start').click();
      await page.getByText('captures need the API token').waitFor({ timeout: 10000 });
      // As the console's form keeps it (src/console/api.js saveToken); the page's own storage.
      await page.evaluate((value) => (globalThis as unknown as { localStorage: { setItem(key: string, value: string): void } }).localStorage.setItem('diskless.apiToken', value), token);
      await page.getByTestId('capture-start').click();
      await page.locator('[data-testid="capture-status"][data-state="running"]').waitFor({ timeout: 10000 });
      await page.getByTestId('capture-stop').click();
      await page.locator('[data-testid="capture-status"][data-state="done"]').waitFor({ timeout: 10000 });
      const [download] = await Promise.all([page.waitForEvent('download', { timeout: 10000 }), page.getByTestId('capture-download').click()]);
      assert.match(download.suggestedFilename(), /^diskless-525400cafe02-\d{8}T\d{6}Z\.pcap$/);
      const saved = join(s.dir, 'console.pcap');
      await download.saveAs(saved);
      assert.equal(readPcap(readFileSync(saved)).linkType, 1);
      assert.deepEqual(problems, []);
    } finally {
      await launched.close();
    }
  });

  test('bounds and errors: a machine that does not exist, bad bounds, nothing captured yet', async () => {
    assert.equal((await api('POST', '/api/machines/nobody/capture', { body: {} })).status, 404);
    const bad = await api('POST', '/api/machines/pc1/capture', { body: { seconds: 99999 } });
    assert.equal(bad.status, 400);
    assert.match(((await bad.json()) as { error: string }).error, /seconds/);
    assert.equal((await api('GET', '/api/machines/52:54:00:ca:fe:03/capture')).status, 404);
  });
});
