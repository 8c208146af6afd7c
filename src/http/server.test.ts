import { test } from 'node:test';
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
