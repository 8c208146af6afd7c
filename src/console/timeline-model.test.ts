// The console's pure modules (plain browser JavaScript) run under Node: what the boot picture
// says for real event sequences, and the throughput arithmetic behind the sparklines.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { BootEvent, BootEventKind } from '../events/boot-events.ts';
import type { SessionSummary } from '../iscsi/server.ts';

type StepState = 'ok' | 'fail' | 'active' | 'pending' | 'skipped' | 'unreached';
interface Step {
  id: string;
  state: StepState;
  offsetMs: number | null;
  summary: string;
  failure: string | null;
}
interface Attempt {
  startMs: number;
  endMs: number;
  events: BootEvent[];
}
interface TimelineModel {
  splitAttempts(events: readonly BootEvent[]): Attempt[];
  describeSteps(attempt: Attempt): Step[];
  liveState(event: BootEvent): { text: string; tone: string };
  warningsOf(attempt: Attempt): BootEvent[];
  explainCodes(event: BootEvent): string[];
}
interface SessionHistory {
  readRates: number[];
  writeRates: number[];
}
interface SessionsModel {
  addSample(before: ReadonlyMap<string, SessionHistory>, sessions: readonly SessionSummary[], nowMs: number): Map<string, SessionHistory>;
}
interface FormatModel {
  formatBytes(bytes: number): string;
  formatOffset(ms: number): string;
}

// The modules are browser JavaScript outside this TypeScript project: imported by URL and
// described by the interfaces above (src/console/tsconfig.json type-checks the modules themselves).
const load = async <T>(file: string): Promise<T> => (await import(new URL(file, import.meta.url).href)) as T;
const model = await load<TimelineModel>('./timeline-model.js');
// sessions.js imports dom.js, which touches `document` only when called: safe to import here.
const sessions = await load<SessionsModel>('./sessions.js');
const format = await load<FormatModel>('./format.js');

const MAC = '52:54:00:c0:50:01';
const T0 = 1_760_000_000_000;

function ev(offsetMs: number, kind: BootEventKind, outcome = 'ok', detail: BootEvent['detail'] = {}, ip: string | null = '10.250.0.100'): BootEvent {
  return { at: T0 + offsetMs, mac: MAC, ip, kind, outcome, detail };
}

const dhcp = (from: number, firmware: string) => [
  ev(from, 'dhcp-discover', 'ok', { firmware }, null),
  ev(from + 10, 'dhcp-offer', 'ok', { firmware }),
  ev(from + 20, 'dhcp-request', 'ok', { firmware }, null),
  ev(from + 30, 'dhcp-ack', 'ok', { firmware }),
];

const states = (steps: Step[]) => Object.fromEntries(steps.map((s) => [s.id, s.state]));

test('a BIOS boot from the NIC ROM: every step done, TFTP not needed', () => {
  const events = [
    ...dhcp(0, 'ipxe'),
    ev(400, 'script', 'served'),
    ev(900, 'iscsi-login', 'ok', { initiator: 'iqn.2026-11.org.diskless:pc1', target: 'iqn.2026-11.org.diskless:boot' }),
    ev(950, 'iscsi-first-read'),
    ev(3000, 'iscsi-logout', 'peer closed the connection'),
  ];
  const attempts = model.splitAttempts(events);
  assert.equal(attempts.length, 1);
  const steps = model.describeSteps(attempts[0] as Attempt);
  assert.deepEqual(states(steps), { dhcp: 'ok', tftp: 'skipped', script: 'ok', login: 'ok', read: 'ok', logout: 'ok' });
  assert.equal(steps.find((s) => s.id === 'script')?.offsetMs, 400);
  assert.match(steps.find((s) => s.id === 'dhcp')?.summary ?? '', /10\.250\.0\.100 · ipxe/);
  assert.match(steps.find((s) => s.id === 'tftp')?.summary ?? '', /not needed/);
  assert.equal(steps.find((s) => s.id === 'login')?.summary, 'iqn.2026-11.org.diskless:boot');
  assert.equal(model.liveState(events[events.length - 1] as BootEvent).text, 'logged out');
  assert.equal(model.liveState(events[6] as BootEvent).text, 'reading disk');
});

test('a UEFI chainload (ROM DHCP, TFTP, iPXE DHCP, script) is one attempt; an open session is active', () => {
  const events = [
    ...dhcp(0, 'pxe'),
    ev(500, 'tftp', 'ok', { path: 'ipxe.efi', bytes: 0, ms: 3, probe: true }),
    ev(600, 'tftp', 'ok', { path: 'ipxe.efi', bytes: 1032192, ms: 812.4, probe: false }),
    ...dhcp(3000, 'ipxe'),
    ev(3500, 'script', 'served'),
    ev(4000, 'iscsi-login'),
    ev(4100, 'iscsi-first-read'),
  ];
  const attempts = model.splitAttempts(events);
  assert.equal(attempts.length, 1);
  const steps = model.describeSteps(attempts[0] as Attempt);
  assert.deepEqual(states(steps), { dhcp: 'ok', tftp: 'ok', script: 'ok', login: 'ok', read: 'ok', logout: 'active' });
  assert.equal(steps.find((s) => s.id === 'tftp')?.summary, 'ipxe.efi · 1032192 bytes · 812 ms', 'the real transfer, not the size probe');
  assert.match(steps.find((s) => s.id === 'dhcp')?.summary ?? '', /2 rounds/);
});

test('a reboot after the script starts a new attempt, and so does a long silence', () => {
  const first = [...dhcp(0, 'ipxe'), ev(400, 'script', 'served'), ev(900, 'iscsi-login')];
  const second = dhcp(60_000, 'ipxe');
  const third = dhcp(60_000 + 10 * 60_000, 'ipxe');
  const attempts = model.splitAttempts([...third, ...second, ...first]);
  assert.deepEqual(attempts.map((a) => a.startMs - T0), [0, 60_000, 660_000]);
  assert.deepEqual(states(model.describeSteps(attempts[1] as Attempt)), { dhcp: 'ok', tftp: 'pending', script: 'pending', login: 'pending', read: 'pending', logout: 'pending' });
});

test("a reset machine's old session, timed out during the next boot, ends the old attempt", () => {
  const bios = [...dhcp(0, 'ipxe'), ev(400, 'script', 'served'), ev(900, 'iscsi-login'), ev(950, 'iscsi-first-read')];
  const uefi = [...dhcp(20_000, 'pxe'), ev(21_000, 'tftp', 'ok', { path: 'ipxe.efi' }), ...dhcp(24_000, 'ipxe'), ev(25_000, 'script', 'served'), ev(26_000, 'iscsi-login')];
  const stale = ev(45_000, 'iscsi-logout', 'initiator did not answer NOP-In');
  const clean = ev(46_000, 'iscsi-logout', 'logout');
  const attempts = model.splitAttempts([...bios, ...uefi, stale, clean]);
  assert.equal(attempts.length, 2);
  assert.equal(model.describeSteps(attempts[0] as Attempt).find((s) => s.id === 'logout')?.failure, 'connection lost: initiator did not answer NOP-In');
  assert.equal(model.describeSteps(attempts[1] as Attempt).find((s) => s.id === 'logout')?.summary, 'logged out');
  const open = model.splitAttempts([...bios, ...uefi, stale]);
  assert.equal(model.describeSteps(open[1] as Attempt).find((s) => s.id === 'logout')?.state, 'active', 'the new session is still open');
});

test('failures are written out, and the steps after them are "not reached"', () => {
  const loginFailed = [...dhcp(0, 'ipxe'), ev(400, 'script', 'served'), ev(900, 'iscsi-login-failed', 'authentication failed: CHAP response did not match')];
  const steps = model.describeSteps(model.splitAttempts(loginFailed)[0] as Attempt);
  assert.deepEqual(states(steps), { dhcp: 'ok', tftp: 'skipped', script: 'ok', login: 'fail', read: 'unreached', logout: 'unreached' });
  assert.equal(steps.find((s) => s.id === 'login')?.failure, 'login failed: authentication failed: CHAP response did not match');
  assert.equal(model.liveState(loginFailed[loginFailed.length - 1] as BootEvent).text, 'login failed: authentication failed: CHAP response did not match');

  const unregistered = [...dhcp(0, 'ipxe'), ev(400, 'script', 'not-registered')];
  const s2 = model.describeSteps(model.splitAttempts(unregistered)[0] as Attempt);
  assert.equal(s2.find((s) => s.id === 'script')?.failure, 'not registered: add this MAC as a machine');
  assert.equal(s2.find((s) => s.id === 'login')?.state, 'unreached');

  const dropped = [...dhcp(0, 'ipxe'), ev(400, 'script', 'served'), ev(900, 'iscsi-login'), ev(950, 'iscsi-first-read'), ev(40_000, 'iscsi-logout', 'initiator did not answer NOP-In')];
  const s3 = model.describeSteps(model.splitAttempts(dropped)[0] as Attempt);
  assert.equal(s3.find((s) => s.id === 'logout')?.failure, 'connection lost: initiator did not answer NOP-In');

  const waiting = [ev(0, 'dhcp-discover', 'ok', {}, null), ev(10, 'dhcp-offer')];
  const s4 = model.describeSteps(model.splitAttempts(waiting)[0] as Attempt);
  assert.equal(s4[0]?.state, 'active', 'offered, no ACK yet');
  assert.equal(model.liveState(waiting[1] as BootEvent).text, 'DHCP offered');
});

test('throughput is the counter difference over the time between polls', () => {
  const base: SessionSummary = {
    target: 'iqn.x:boot', type: 'Normal', initiator: 'iqn.x:pc1', isid: '00023d000001', tsih: 1, cid: 0, peer: '10.250.0.100:50000',
    state: 'active', connectedAt: new Date(T0).toISOString(), headerDigest: false, dataDigest: false, bytesRead: 0, bytesWritten: 0, commands: 0,
  };
  let h = sessions.addSample(new Map(), [base], 0);
  h = sessions.addSample(h, [{ ...base, bytesRead: 2 * 1024 * 1024, bytesWritten: 512 }], 2000);
  h = sessions.addSample(h, [{ ...base, bytesRead: 2 * 1024 * 1024, bytesWritten: 512 }], 3000);
  const [only] = [...h.values()];
  assert.deepEqual(only?.readRates, [1024 * 1024, 0]);
  assert.deepEqual(only?.writeRates, [256, 0]);
  assert.equal(sessions.addSample(h, [], 4000).size, 0, 'a session gone is forgotten');
});

test('numbers as people read them', () => {
  assert.equal(format.formatBytes(0), '0 B');
  assert.equal(format.formatBytes(1536), '1.50 KiB');
  assert.equal(format.formatBytes(64 * 1024 * 1024), '64.0 MiB');
  assert.equal(format.formatOffset(1234), '+1.23 s');
  assert.equal(format.formatOffset(125_000), '+2 min 05 s');
});

test('warnings the server raised: beside the steps (not a step), latest of each code, each with its codes to explain', () => {
  const warning = (offset: number, code: string, outcome: string, ipxeError: string | null) => ev(offset, 'warning', outcome, { code, fix: `fix ${code}`, ipxeError });
  const events = [
    ...dhcp(0, 'ipxe'),
    ev(400, 'script', 'served'),
    ev(900, 'iscsi-login-failed', 'no target iqn.x:typo', { initiator: 'iqn.x:pc1', target: 'iqn.x:typo' }),
    warning(901, 'no-such-target', 'iqn.x:pc1 asked for target iqn.x:typo, which does not exist', '0x2c0d603b'),
    warning(5901, 'no-such-target', 'again', '0x2c0d603b'),
    warning(6000, 'no-first-read', 'never read', null),
  ];
  const [attempt] = model.splitAttempts(events);
  const steps = model.describeSteps(attempt as Attempt);
  assert.deepEqual(states(steps), { dhcp: 'ok', tftp: 'skipped', script: 'ok', login: 'fail', read: 'unreached', logout: 'unreached' });
  const warnings = model.warningsOf(attempt as Attempt);
  assert.deepEqual(warnings.map((w) => [w.detail.code, w.outcome]), [['no-such-target', 'again'], ['no-first-read', 'never read']]);
  assert.deepEqual(model.explainCodes(warnings[0] as BootEvent), ['no-such-target', '0x2c0d603b']);
  assert.deepEqual(model.explainCodes(warnings[1] as BootEvent), ['no-first-read']);
  assert.deepEqual(model.explainCodes(events[4] as BootEvent), [], 'a refused login carries no code itself: its warning does');
  assert.deepEqual(model.liveState(events[events.length - 1] as BootEvent), { text: 'warning: never read', tone: 'warn' });
});
