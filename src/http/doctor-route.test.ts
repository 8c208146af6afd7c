import { test } from 'node:test';
import assert from 'node:assert/strict';
import Fastify from 'fastify';
import { Inventory } from '../boot/inventory.ts';
import type { DoctorReport } from '../doctor/checklist.ts';
import type { DoctorDeps } from '../doctor/doctor-deps.ts';
import { TargetDirectory } from '../iscsi/target-directory.ts';
import { VirtualProvider } from '../tftp/files.ts';
import { registerDoctorRoutes } from './doctor-route.ts';

const IQN = 'iqn.2026-11.org.example:pc1';

/** A server whose portal is not listening (port 1): the doctor must say so, not hang. */
function app() {
  const machines = [{ mac: '52:54:00:00:00:01', name: 'pc1', boot: { kind: 'sanboot' as const, disks: [{ target: IQN, lun: 0 }] } }];
  const deps: DoctorDeps = {
    inventory: new Inventory(machines, [{ iqn: IQN }], 'not-registered'),
    configMachines: [],
    store: { machines: { get: async (ref) => (ref === 'pc1' ? { mac: '52:54:00:00:00:01' } : undefined) } },
    context: { server: '127.0.0.1', iscsiPort: 1, httpPort: 8080 },
    dhcpMode: 'full',
    tftpEnabled: true,
    files: new VirtualProvider(new Map([['undionly.kpxe', Buffer.alloc(10)]])),
    bootFolder: '/data/boot',
    targets: new TargetDirectory([{ name: IQN, alias: null, device: { execute: () => undefined, reset: () => undefined, hasLun: (lun) => lun === 0 }, chap: null, mutualChap: null, allowedInitiators: null }]),
    iscsiHost: '127.0.0.1',
    timeoutMs: 1000,
  };
  const server = Fastify();
  registerDoctorRoutes(server, deps);
  return server;
}

test('GET /api/machines/:ref/doctor finds the machine by name and names the unreachable portal', async () => {
  const r = await app().inject({ url: '/api/machines/pc1/doctor?firmware=bios' });
  assert.equal(r.statusCode, 200);
  const report = r.json<DoctorReport>();
  assert.deepEqual([report.machine.mac, report.machine.name, report.machine.firmware, report.status], ['52:54:00:00:00:01', 'pc1', 'bios', 'fail']);
  assert.equal(report.firstFailure?.id, 'tftp:tftp:ipxe.efi', 'Debian\'s ipxe.efi is not in this provider');
  const portal = report.steps.find((s) => s.id === 'iscsi:discovery');
  assert.equal(portal?.status, 'fail');
  assert.equal(portal?.ipxeError, '0x0f0a6039');
  assert.equal(report.steps.find((s) => s.id === 'dhcp:ipxe')?.summary, 'iPXE gets http://127.0.0.1:8080/boot.ipxe?mac=52-54-00-00-00-01 over HTTP from 127.0.0.1');
});

test('an unknown name is a 404, a bad firmware a 400', async () => {
  const server = app();
  const missing = await server.inject({ url: '/api/machines/nobody/doctor' });
  assert.equal(missing.statusCode, 404);
  assert.deepEqual(missing.json(), { error: 'no machine with MAC or name nobody' });
  const bad = await server.inject({ url: '/api/machines/pc1/doctor?firmware=arm' });
  assert.equal(bad.statusCode, 400);
  assert.deepEqual(bad.json(), { error: 'firmware must be bios or uefi, not "arm"' });
});

test('without the doctor\'s dependencies the doctor route answers 503, and explaining still works', async () => {
  const server = Fastify();
  registerDoctorRoutes(server, null);
  assert.equal((await server.inject({ url: '/api/machines/pc1/doctor' })).statusCode, 503);
  assert.equal((await server.inject({ url: '/api/ipxe-errors/0x2c0d603b' })).statusCode, 200);
});

test('GET /api/ipxe-errors/:code explains a code, and refuses what is not one', async () => {
  const server = app();
  const r = await server.inject({ url: '/api/ipxe-errors/1d704039' });
  assert.equal(r.statusCode, 200);
  const body = r.json<{ code: string; url: string; text: string; rule: { source: string } | null }>();
  assert.equal(body.code, '0x1d704039');
  assert.equal(body.url, 'https://ipxe.org/err/1d704039');
  assert.match(body.text, /^0x1d704039: Input\/output error\n/);
  assert.match(body.rule?.source ?? '', /tgtd LUN 0/);
  const bad = await server.inject({ url: '/api/ipxe-errors/xyz' });
  assert.equal(bad.statusCode, 400);
});
