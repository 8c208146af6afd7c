import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import pino from 'pino';
import { validateConfig } from '../config/load.ts';
import { Inventory } from '../boot/inventory.ts';
import { buildHttpServer } from './server.ts';

function app(unknownMachines: unknown = 'not-registered') {
  const config = validateConfig({
    targets: [{ iqn: 'iqn.2026-11.org.diskless:pc1', luns: [{ lun: 0, path: '/d/pc1.img' }] }],
    machines: [{ mac: '52:54:00:00:00:01', name: 'pc1', boot: { kind: 'sanboot', disks: [{ target: 'iqn.2026-11.org.diskless:pc1' }] } }],
    unknownMachines,
  });
  const events: string[] = [];
  const server = buildHttpServer({
    log: pino({ level: 'silent' }),
    inventory: new Inventory(config.machines, config.targets, config.unknownMachines),
    context: (hostSeen) => ({ server: hostSeen, iscsiPort: 3260, httpPort: 8080 }),
    sessions: () => [],
    onEvent: (e) => events.push(`${e.mac} ${e.outcome}`),
  });
  return { server, events };
}

test('without a MAC, /boot.ipxe sends iPXE back with its MAC in the URL', async () => {
  const { server } = app();
  const r = await server.inject({ url: '/boot.ipxe', headers: { host: '10.0.2.2:8080' } });
  assert.equal(r.statusCode, 200);
  assert.match(String(r.headers['content-type']), /text\/plain/);
  assert.equal(r.body, '#!ipxe\n# diskless: identify this machine by the MAC it booted from\nchain http://10.0.2.2:8080/boot.ipxe?mac=${netX/mac:hexhyp} || shell\n');
});

test('a registered MAC (any spelling) gets its own script, addressed as the client reached us', async () => {
  const { server, events } = app();
  const r = await server.inject({ url: '/boot.ipxe?mac=52-54-00-00-00-01', headers: { host: '192.168.7.1:8080' } });
  assert.equal(r.statusCode, 200);
  assert.match(r.body, /^#!ipxe\n# diskless: pc1 \(52:54:00:00:00:01\)\nset initiator-iqn iqn\.2026-11\.org\.diskless:pc1\n/);
  assert.match(r.body, /sanboot iscsi:192\.168\.7\.1::3260:0:iqn\.2026-11\.org\.diskless:pc1 \|\| goto failed/);
  assert.deepEqual(events, ['52:54:00:00:00:01 served']);
});

test('an unregistered MAC sees the not-registered screen; a bad MAC is a 400 that iPXE can show', async () => {
  const { server } = app();
  const r = await server.inject({ url: '/boot.ipxe?mac=52:54:00:00:00:77', headers: { host: '10.0.0.1:8080' } });
  assert.match(r.body, /this machine \(52:54:00:00:00:77\) is not registered/);
  const bad = await server.inject({ url: '/boot.ipxe?mac=zz;shell', headers: { host: '10.0.0.1:8080' } });
  assert.equal(bad.statusCode, 400);
  assert.equal(bad.body, '#!ipxe\necho diskless: "zz?shell" is not a MAC address\nshell\n');
});

test('unknownMachines as a boot entry boots everyone (quick mode)', async () => {
  const { server } = app({ kind: 'sanboot', disks: [{ target: 'iqn.2026-11.org.diskless:pc1' }] });
  const r = await server.inject({ url: '/boot.ipxe?mac=52:54:00:00:00:42', headers: { host: '10.0.0.1:8080' } });
  assert.match(r.body, /# diskless: unregistered machine 52:54:00:00:00:42\nset initiator-iqn iqn\.2026-11\.org\.diskless:unknown-525400000042\n/);
});

// http.scriptSecretsTo: a script that carries a CHAP secret goes only to the machine's leased
// address. inject's remoteAddress plays the client's address.
describe('/boot.ipxe with a CHAP secret: only for the address holding the lease', () => {
  const MAC = '52:54:00:00:00:05';
  const SECRET = 'pc5-chap-secret-xyz';
  const LEASED = '10.0.0.5';
  function secretApp(options: { lease?: string | null; policy?: 'lease-holder' | 'anyone' } = {}) {
    const config = validateConfig({
      targets: [
        { iqn: 'iqn.2026-11.org.diskless:pc5', luns: [{ lun: 0, path: '/d/pc5.img' }], chap: { user: 'pc5', secret: SECRET } },
        { iqn: 'iqn.2026-11.org.diskless:pc1', luns: [{ lun: 0, path: '/d/pc1.img' }] },
      ],
      machines: [
        { mac: MAC, name: 'pc5', boot: { kind: 'sanboot', disks: [{ target: 'iqn.2026-11.org.diskless:pc5' }] } },
        { mac: '52:54:00:00:00:01', name: 'pc1', boot: { kind: 'sanboot', disks: [{ target: 'iqn.2026-11.org.diskless:pc1' }] } },
      ],
    });
    const lines: string[] = [];
    const events: string[] = [];
    const lease = options.lease === undefined ? LEASED : options.lease;
    const server = buildHttpServer({
      log: pino({ level: 'info' }, { write: (line: string) => void lines.push(line) }),
      inventory: new Inventory(config.machines, config.targets, config.unknownMachines),
      context: (hostSeen) => ({ server: hostSeen, iscsiPort: 3260, httpPort: 8080 }),
      sessions: () => [],
      onEvent: (e) => events.push(`${e.mac} ${e.client} ${e.outcome}`),
      ...(options.policy !== undefined ? { scriptSecretsTo: options.policy } : {}),
      boundAddress: (mac) => (mac === MAC || mac === '52:54:00:00:00:01' ? lease : null),
    });
    const get = (remoteAddress: string, mac = MAC) => server.inject({ url: `/boot.ipxe?mac=${mac}`, headers: { host: '10.0.0.1:8080' }, remoteAddress });
    return { get, lines, events };
  }

  test('the leased address gets the script with its secret (also as an IPv4-mapped IPv6 peer)', async () => {
    const { get } = secretApp();
    for (const from of [LEASED, `::ffff:${LEASED}`]) {
      const r = await get(from);
      assert.equal(r.statusCode, 200, from);
      assert.match(r.body, new RegExp(`set password ${SECRET}\\n`));
    }
  });

  test('another address gets 403 with a message, no secret; the refusal is logged at warn without the secret', async () => {
    const { get, lines, events } = secretApp();
    const r = await get('10.0.0.9');
    assert.equal(r.statusCode, 403);
    assert.match(String(r.headers['content-type']), /text\/plain/);
    assert.match(r.body, /carries its iSCSI CHAP secret/);
    assert.match(r.body, /from 10\.0\.0\.9/);
    assert.match(r.body, /http\.scriptSecretsTo: anyone/);
    assert.ok(!r.body.includes(SECRET), 'the secret is not in the 403');
    assert.ok(!r.body.includes(LEASED), 'nor is the machine\'s address');
    const warn = lines.map((l) => JSON.parse(l) as { level: number; msg: string; client?: string; mac?: string; leaseAddress?: string }).find((l) => l.level === 40);
    assert.ok(warn !== undefined, `a warn line: ${lines.join('')}`);
    assert.match(warn.msg, /boot script refused/);
    assert.equal(warn.client, '10.0.0.9');
    assert.equal(warn.mac, MAC);
    assert.equal(warn.leaseAddress, LEASED);
    assert.ok(!lines.join('').includes(SECRET), 'no secret in any log line');
    assert.deepEqual(events, [`${MAC} 10.0.0.9 refused`]);
  });

  test('this host itself (loopback) still gets it: the server, the doctor, e2e tools in its namespace', async () => {
    const { get } = secretApp();
    for (const from of ['127.0.0.1', '::1', '::ffff:127.0.0.1']) assert.equal((await get(from)).statusCode, 200, from);
  });

  test('no lease from this server (DHCP off, proxy mode, another DHCP server): served as before', async () => {
    const { get } = secretApp({ lease: null });
    const r = await get('10.0.0.9');
    assert.equal(r.statusCode, 200);
    assert.match(r.body, new RegExp(`set password ${SECRET}`));
  });

  test('http.scriptSecretsTo: anyone serves whoever asks', async () => {
    const { get } = secretApp({ policy: 'anyone' });
    assert.equal((await get('10.0.0.9')).statusCode, 200);
  });

  test('a script without a secret is served to any address, lease or not', async () => {
    const { get } = secretApp();
    const r = await get('10.0.0.9', '52:54:00:00:00:01');
    assert.equal(r.statusCode, 200);
    assert.doesNotMatch(r.body, /password/);
  });
});
