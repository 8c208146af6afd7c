// The live warning rules, replayed: each scenario feeds the pure watch the boot events and
// SCSI observations a real boot makes and checks what it says (and what it keeps quiet about).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { renderMachineScript } from '../boot/ipxe-script.ts';
import type { BootEvent, BootEventKind } from '../events/boot-events.ts';
import { gptSectors, mbrSector } from './test-disk-images.ts';
import { WarningWatch } from './warning-watch.ts';
import type { LiveWarning, Observation, WarningContext } from './warning-types.ts';

const MAC1 = '52:54:00:00:00:01';
const MAC2 = '52:54:00:00:00:02';
const PC1 = 'iqn.2026-11.org.example:pc1';
const PC2 = 'iqn.2026-11.org.example:pc2';
const INIT1 = 'iqn.2026-11.org.diskless:pc1';
const INIT2 = 'iqn.2026-11.org.diskless:pc2';
const IP1 = '10.0.0.5';
const IP2 = '10.0.0.6';
const disk = { server: '10.0.0.1', port: 3260, lun: 0, target: PC1 };
const identity = { initiatorIqn: INIT1 };
const SCRIPTS = {
  sanboot: renderMachineScript({ title: 'pc1', identity, boot: { kind: 'sanboot', disks: [disk] } }),
  keepSan: renderMachineScript({ title: 'pc1', identity, boot: { kind: 'sanboot', disks: [disk], keepSan: true } }),
  install: renderMachineScript({ title: 'pc1', identity, boot: { kind: 'install', disk, installer: { kind: 'iso', url: 'http://10.0.0.1/win.iso' } } }),
  handWritten: ['#!ipxe', ':boot', `sanhook --drive 0x80 iscsi:10.0.0.1::3260:0:${PC1}`, 'kernel http://10.0.0.1/wimboot', 'boot'].join('\n'),
};

function context(script: string | null = SCRIPTS.sanboot): WarningContext {
  return {
    targetNames: () => [PC1, PC2],
    lunsOf: (t) => ([PC1, PC2].includes(t) ? [0] : []),
    macForIp: (ip) => (ip === IP1 ? MAC1 : ip === IP2 ? MAC2 : null),
    machineName: (mac) => (mac === MAC1 ? 'pc1' : mac === MAC2 ? 'pc2' : null),
    scriptFor: (mac) => (mac === MAC1 ? script : null),
  };
}

const event = (at: number, kind: BootEventKind, outcome = 'ok', detail: BootEvent['detail'] = {}, ip: string | null = IP1, mac: string | null = MAC1): Observation => ({
  kind: 'boot-event',
  event: { at, mac, ip, kind, outcome, detail },
});
const login = (at: number, initiator = INIT1, target = PC1, ip = IP1) => event(at, 'iscsi-login', 'ok', { initiator, target }, ip, context().macForIp(ip));
const logout = (at: number, outcome = 'logout', initiator = INIT1, target = PC1, ip = IP1) => event(at, 'iscsi-logout', outcome, { initiator, target }, ip, context().macForIp(ip));
const firstRead = (at: number) => event(at, 'iscsi-first-read', 'ok', { initiator: INIT1, target: PC1 });
const refused = (at: number, reason: string, target = PC1) => event(at, 'iscsi-login-failed', reason, { initiator: INIT1, target });
const scsi = { target: PC1, lun: 0, initiator: INIT1, isid: '400001370000' };

function feed(watch: WarningWatch, ctx: WarningContext, ...observations: Observation[]): LiveWarning[] {
  return observations.flatMap((o) => watch.feed(o, ctx));
}

test('a target that does not exist: the closest IQN, the fix with the script\'s LUN, 0x2c0d603b; said once per quiet period', () => {
  const watch = new WarningWatch();
  const [w] = feed(watch, context(), refused(1000, 'no target iqn.2026-11.org.example:pcl', 'iqn.2026-11.org.example:pcl'));
  assert.equal(w?.code, 'no-such-target');
  assert.equal(w?.text, `${INIT1} (${IP1}) asked for target iqn.2026-11.org.example:pcl, which does not exist; did you mean ${PC1}?`);
  assert.equal(w?.fix, `point the machine at ${PC1}: diskless machine set pc1 --disk ${PC1}@0`);
  assert.deepEqual([w?.mac, w?.machine, w?.ipxeError], [MAC1, 'pc1', '0x2c0d603b']);
  assert.deepEqual(feed(watch, context(), refused(6000, 'no target iqn.2026-11.org.example:pcl')), [], 'iPXE retries every 5 s: said once');
  assert.equal(feed(watch, context(), refused(6000 + 5 * 60_000, 'no target iqn.2026-11.org.example:pcl')).length, 1, 'and again after the quiet period');
  const [far] = feed(new WarningWatch(), context(), refused(0, 'no target iqn.1999-01.com.other:x'));
  assert.match(far?.fix ?? '', /^diskless target list shows the exported IQNs/);
});

test('CHAP: a wrong secret and a target without mutual CHAP each have their warning', () => {
  const watch = new WarningWatch();
  const [chap] = feed(watch, context(), refused(0, 'CHAP_R does not match'));
  assert.deepEqual([chap?.code, chap?.text, chap?.ipxeError], ['chap-failed', `${INIT1} (${IP1}) failed CHAP for ${PC1}: wrong CHAP secret`, '0x410d613c']);
  const [mutual] = feed(watch, context(), refused(10, 'initiator asked for mutual CHAP'));
  assert.equal(mutual?.code, 'mutual-chap-mismatch');
  assert.match(mutual?.text ?? '', /has no mutual CHAP credentials$/);
  const [acl] = feed(watch, context(), refused(20, `${INIT1} may not use ${PC1}`));
  assert.deepEqual([acl?.code, acl?.ipxeError], ['initiator-not-allowed', '0x410d623c']);
  assert.deepEqual(feed(watch, context(), refused(30, 'session not admitted')), [], 'a refusal no rule knows says nothing');
});

test('an initiator that hangs up on the target\'s mutual CHAP answer, also just after another login from its address was refused', () => {
  const hangup = (at: number): Observation => ({ kind: 'login-hangup', at, ip: IP1, initiator: INIT1, target: PC1 });
  const [w] = feed(new WarningWatch(), context(), hangup(0));
  assert.deepEqual([w?.code, w?.mac, w?.ipxeError], ['mutual-chap-mismatch', MAC1, '0x020d623c']);
  assert.match(w?.text ?? '', /hung up after .* answered its mutual CHAP challenge/);
  // The portal reports a hang-up only when it refused nothing on that connection; a refusal from
  // the same address (NAT, loopback, a retry) belongs to another login.
  const watch = new WarningWatch();
  feed(watch, context(), refused(0, 'CHAP_R does not match'));
  assert.equal(feed(watch, context(), hangup(100))[0]?.code, 'mutual-chap-mismatch');
});

test('a LUN that does not exist: the LUNs there are and the fix; no "never read LBA 0" on top', () => {
  const watch = new WarningWatch();
  feed(watch, context(), login(0));
  const [w] = feed(watch, context(), { kind: 'missing-lun', at: 10, ...scsi, lun: 3, opcode: 0x9e });
  assert.equal(w?.text, `${INIT1} (${IP1}) sent READ CAPACITY(16) to LUN 3 of ${PC1}, which has LUN 0`);
  assert.equal(w?.fix, `use LUN 0: diskless machine set pc1 --disk ${PC1}@0`);
  assert.deepEqual([w?.code, w?.mac, w?.lun, w?.ipxeError], ['no-such-lun', MAC1, 3, '0x1d704039']);
  assert.deepEqual(feed(watch, context(), logout(50), { kind: 'tick', at: 60_000 }), []);
});

test('a login without a read of LBA 0: after the grace period, or at its logout; a read clears it', () => {
  const watch = new WarningWatch({ firstReadGraceMs: 20_000 });
  feed(watch, context(), login(0));
  assert.deepEqual(feed(watch, context(), { kind: 'tick', at: 19_000 }), []);
  const [late] = feed(watch, context(), { kind: 'tick', at: 21_000 });
  assert.equal(late?.code, 'no-first-read');
  assert.match(late?.text ?? '', /logged in to .* at 00:00:00 and has not read LBA 0 after 21 s$/);
  assert.deepEqual(feed(watch, context(), { kind: 'tick', at: 22_000 }, logout(23_000)), [], 'said once');
  const [early] = feed(watch, context(), login(30_000), logout(31_000, 'peer closed the connection'));
  assert.match(early?.text ?? '', /and ended \(peer closed the connection\) without reading LBA 0$/);
  assert.deepEqual(feed(watch, context(), login(40_000), firstRead(40_100), { kind: 'tick', at: 90_000 }, logout(95_000)), []);
});

test('a blank disk hooked without keep-san is an install that will lose its disk; keep-san or an install entry is fine', () => {
  const blank: Observation = { kind: 'first-block', at: 10, ...scsi, block: Buffer.alloc(4096) };
  const run = (script: string) => {
    const watch = new WarningWatch();
    return feed(watch, context(script), login(0), blank);
  };
  const [w] = run(SCRIPTS.sanboot);
  assert.deepEqual([w?.code, w?.machine, w?.ipxeError], ['install-without-keep-san', 'pc1', '0x2e852001']);
  assert.match(w?.text ?? '', /^pc1 hooked .*@0, a blank disk .* does not set keep-san/);
  assert.deepEqual(run(SCRIPTS.keepSan), []);
  assert.deepEqual(run(SCRIPTS.install), []);
  const watch = new WarningWatch();
  assert.deepEqual(feed(watch, context(SCRIPTS.sanboot), login(0), { ...blank, block: mbrSector([0x83]) }), [], 'an installed disk is no install');
});

test('a script that hooks a disk without keep-san and then starts an installer is said at the script fetch', () => {
  const [w] = feed(new WarningWatch(), context(SCRIPTS.handWritten), event(0, 'script', 'served'));
  assert.equal(w?.code, 'install-without-keep-san');
  assert.match(w?.text ?? '', /hooks .* without keep-san and then starts an installer \(kernel http:\/\/10\.0\.0\.1\/wimboot\)/);
  assert.deepEqual(feed(new WarningWatch(), context(SCRIPTS.install), event(0, 'script', 'served')), []);
});

test('a UEFI machine on an MBR disk without an ESP; BIOS, GPT and an MBR ESP are fine', () => {
  const run = (arch: number, block: Buffer) => feed(new WarningWatch(), context(), event(0, 'dhcp-discover', 'ok', { arch }), login(1), { kind: 'first-block', at: 2, ...scsi, block });
  const [w] = run(7, mbrSector([0x83]));
  assert.deepEqual([w?.code, w?.ipxeError], ['uefi-mbr-disk', '0x7f22208e']);
  assert.equal(w?.text, `pc1 boots with UEFI (its DHCP request said so) and ${PC1}@0 is an MBR disk without an EFI system partition: UEFI finds nothing to boot`);
  assert.deepEqual(run(0, mbrSector([0x83])), []);
  assert.deepEqual(run(7, gptSectors().subarray(0, 4096)), []);
  assert.deepEqual(run(7, mbrSector([0xef])), []);
});

test('a second machine writing to a disk another one has in use; the same machine twice is not', () => {
  const watch = new WarningWatch();
  feed(watch, context(), login(0), login(10, INIT2, PC1, IP2));
  const [w] = feed(watch, context(), { kind: 'first-write', at: 20, ...scsi, initiator: INIT2 });
  assert.equal(w?.code, 'second-writer');
  assert.match(w?.text ?? '', new RegExp(`^${INIT2} \\(${IP2}\\) writes to ${PC1}@0, which pc1 has in use`));
  assert.deepEqual([w?.mac, w?.machine], [MAC2, 'pc2']);
  const same = new WarningWatch();
  feed(same, context(), login(0), login(5, INIT1, PC1, IP1));
  assert.deepEqual(feed(same, context(), { kind: 'first-write', at: 20, ...scsi }), [], 'a reconnect of the same machine');
});

test('second-writer compares iSCSI names as the login does (RFC 3722): another spelling is the same name', () => {
  // The write names the target and initiator in capitals and with a full-width digit (NFKC folds it).
  const shout = (name: string): string => name.toUpperCase().replace('2', '\uff12');
  const watch = new WarningWatch();
  feed(watch, context(), login(0), login(10, INIT2, PC1, IP2));
  const [w] = feed(watch, context(), { kind: 'first-write', at: 20, ...scsi, target: shout(PC1), initiator: shout(INIT2) });
  assert.equal(w?.code, 'second-writer', 'the same target, however spelled, is in use by pc1');
  const same = new WarningWatch();
  feed(same, context(), login(0), login(5, INIT1, PC1, IP1));
  assert.deepEqual(feed(same, context(), { kind: 'first-write', at: 20, ...scsi, initiator: shout(INIT1) }), [], 'the same initiator, spelled otherwise, is no second writer');
});

test('warning events are not fed back into the rules', () => {
  assert.deepEqual(feed(new WarningWatch(), context(), event(0, 'warning', 'no target x', { code: 'no-such-target' })), []);
});
