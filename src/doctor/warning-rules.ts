// The live warnings as data (docs/DOCTOR.md "Warnings from live traffic"): each rule names the
// observations it watches and turns one of them, with what the watch remembers, into findings
// in words: what happened and what to do, in diskless terms. Pure.
import { closestName } from './closest-name.ts';
import { classifyFirstBlock } from './first-block.ts';
import { hooksOf, installerWithoutKeepSan, iscsiHooks } from './keep-san.ts';
import { classifyLoginRefusal, type LoginRefusal } from './login-refusal.ts';
import type { WatchView } from './warning-watch.ts';
import type { Observation, ScsiSource, WarningCode, WarningContext } from './warning-types.ts';
import type { BootEvent } from '../events/boot-events.ts';
import { sameIscsiName } from '../iscsi/target-directory.ts';

/** One thing a rule found; the watch adds the time, the machine's name and the rule's code. */
export interface Finding {
  /** Tells findings apart for the quiet period: the same key is said once per period. */
  readonly key: string;
  /** The machine, when the rule knows it better than "whoever holds `ip`". */
  readonly mac?: string | null;
  readonly ip: string | null;
  readonly initiator: string | null;
  readonly target: string | null;
  readonly lun: number | null;
  readonly text: string;
  readonly fix: string;
  /** Overrides the rule's iPXE error (null: none for this finding). */
  readonly ipxeError?: string | null;
}

export interface WarningRule {
  readonly code: WarningCode;
  /** A few words, for lists and the console. */
  readonly title: string;
  /** What it means and when it is raised: `diskless explain CODE` and GET /api/explain/CODE. */
  readonly meaning: string;
  /** The iPXE error a machine usually shows for it, if any. */
  readonly ipxeError: string | null;
  readonly watches: readonly Observation['kind'][];
  readonly check: (observation: Observation, seen: WatchView, context: WarningContext) => readonly Finding[];
}

const clock = (at: number): string => new Date(at).toISOString().slice(11, 19);
const str = (v: BootEvent['detail'][string] | undefined): string | null => (typeof v === 'string' && v !== '' ? v : null);

/** "iqn.x:pc1 (10.0.0.5)": who did it, as the portal saw it. */
function who(initiator: string | null, ip: string | null): string {
  if (initiator === null) return ip ?? 'an initiator';
  return ip === null ? initiator : `${initiator} (${ip})`;
}

/** The machine's name for a command line, else the placeholder the CLI help uses. */
function nameFor(context: WarningContext, mac: string | null): string {
  return (mac !== null ? context.machineName(mac) : null) ?? 'MACHINE';
}

/** A refused login event and why it was refused, or null. */
function refusal(observation: Observation): { event: BootEvent; why: LoginRefusal; initiator: string | null; target: string | null } | null {
  if (observation.kind !== 'boot-event' || observation.event.kind !== 'iscsi-login-failed') return null;
  const event = observation.event;
  return { event, why: classifyLoginRefusal(event.outcome), initiator: str(event.detail.initiator), target: str(event.detail.target) };
}

/**
 * The target a refusal is about, in words, or null. The portal names it only when it refused
 * the first login PDU; a refused CHAP response names nobody, so the machine's script (when the
 * address is a machine's) says which targets it could have been.
 */
function targetWords(r: NonNullable<ReturnType<typeof refusal>>, context: WarningContext): string | null {
  if (r.target !== null) return r.target;
  const mac = r.event.mac ?? (r.event.ip !== null ? context.macForIp(r.event.ip) : null);
  const script = mac !== null ? context.scriptFor(mac) : null;
  const targets = script !== null ? [...new Set(iscsiHooks(script).map((h) => h.target))] : [];
  if (targets.length === 0) return null;
  return targets.length === 1 ? (targets[0] ?? null) : `one of ${targets.join(', ')}`;
}

/** The finding's subject for a refused login. */
function loginSubject(r: NonNullable<ReturnType<typeof refusal>>): Pick<Finding, 'mac' | 'ip' | 'initiator' | 'target' | 'lun'> {
  return { mac: r.event.mac, ip: r.event.ip, initiator: r.initiator, target: r.target, lun: null };
}

/** Where a SCSI observation came from: its session's address and machine, when known. */
function scsiSubject(o: ScsiSource, seen: WatchView, context: WarningContext): Pick<Finding, 'mac' | 'ip' | 'initiator' | 'target' | 'lun'> {
  const session = seen.sessionFor(o.initiator, o.target);
  const ip = session?.ip ?? null;
  const mac = session?.mac ?? (ip !== null ? context.macForIp(ip) : null);
  return { mac, ip, initiator: o.initiator, target: o.target, lun: o.lun };
}

/** SCSI opcodes by name, for messages: "READ CAPACITY(10)". */
const OPCODE_NAMES: Readonly<Record<number, string>> = {
  0x00: 'TEST UNIT READY',
  0x03: 'REQUEST SENSE',
  0x08: 'READ(6)',
  0x0a: 'WRITE(6)',
  0x12: 'INQUIRY',
  0x1a: 'MODE SENSE(6)',
  0x25: 'READ CAPACITY(10)',
  0x28: 'READ(10)',
  0x2a: 'WRITE(10)',
  0x35: 'SYNCHRONIZE CACHE(10)',
  0x5a: 'MODE SENSE(10)',
  0x88: 'READ(16)',
  0x8a: 'WRITE(16)',
  0x9e: 'READ CAPACITY(16)',
  0xa8: 'READ(12)',
  0xaa: 'WRITE(12)',
};

const opcodeName = (opcode: number): string => OPCODE_NAMES[opcode] ?? `opcode 0x${opcode.toString(16).padStart(2, '0')}`;

const CHAP_FIX_WRONG = (target: string, name: string) =>
  `give the initiator the target's CHAP credentials (diskless target show ${target}); a machine that boots from several targets needs the same CHAP on all of them, as iPXE holds one set (diskless doctor ${name} names the target that refuses)`;

export const WARNING_RULES: readonly WarningRule[] = [
  {
    code: 'no-such-target',
    title: 'login to a target that does not exist',
    meaning: 'An initiator asked to log in to a target IQN this server does not export; the closest exported IQN is named when one is a likely typo.',
    ipxeError: '0x2c0d603b',
    watches: ['boot-event'],
    check: (o, _seen, context) => {
      const r = refusal(o);
      if (r === null || r.why.kind !== 'no-such-target') return [];
      const missing = r.why.target;
      const closest = closestName(missing, context.targetNames());
      const mac = r.event.mac ?? (r.event.ip !== null ? context.macForIp(r.event.ip) : null);
      const script = mac !== null ? context.scriptFor(mac) : null;
      const lun = script !== null ? (hooksOf(script, missing)[0]?.lun ?? 0) : 0;
      return [
        {
          ...loginSubject(r),
          mac,
          target: missing,
          key: `${r.event.ip ?? ''}|${r.initiator ?? ''}|${missing}`,
          text: `${who(r.initiator, r.event.ip)} asked for target ${missing}, which does not exist${closest !== null ? `; did you mean ${closest}?` : ''}`,
          fix:
            closest !== null
              ? `point the machine at ${closest}: diskless machine set ${nameFor(context, mac)} --disk ${closest}@${lun}`
              : `diskless target list shows the exported IQNs: create ${missing} (diskless target add ${missing} --lun DISK) or point the machine at an existing one`,
        },
      ];
    },
  },
  {
    code: 'initiator-not-allowed',
    title: 'initiator not admitted by the target',
    meaning: 'An initiator logged in to a target whose list of allowed initiators does not name it.',
    ipxeError: '0x410d623c',
    watches: ['boot-event'],
    check: (o, _seen, context) => {
      const r = refusal(o);
      if (r === null || r.why.kind !== 'initiator-not-allowed') return [];
      const target = targetWords(r, context) ?? 'the target';
      return [
        {
          ...loginSubject(r),
          key: `${r.event.ip ?? ''}|${r.initiator ?? ''}|${target}`,
          text: `${who(r.initiator, r.event.ip)} may not log in to ${target}: the target admits other initiators only`,
          fix: `add ${r.initiator ?? 'the initiator'} to the target's initiators (PATCH /api/targets/${target} {"allowedInitiators": [...]}), or set the machine's IQN: diskless machine set ${nameFor(context, r.event.mac)} --initiator IQN`,
        },
      ];
    },
  },
  {
    code: 'chap-failed',
    title: 'CHAP authentication failed',
    meaning: 'The target refused the CHAP login: a wrong user or secret, no CHAP offered to a target that requires it, or CHAP insisted on by the initiator for a target without CHAP.',
    ipxeError: '0x410d613c',
    watches: ['boot-event'],
    check: (o, _seen, context) => {
      const r = refusal(o);
      if (r === null) return [];
      const named = targetWords(r, context);
      const target = named ?? 'the target';
      const subject = { ...loginSubject(r), key: `${r.event.ip ?? ''}|${r.initiator ?? ''}|${target}|${r.why.kind}` };
      const by = who(r.initiator, r.event.ip);
      const name = nameFor(context, r.event.mac);
      switch (r.why.kind) {
        case 'chap-wrong':
          return [{ ...subject, text: `${by} failed CHAP${named !== null ? ` for ${named}` : ''}: wrong CHAP ${r.why.what}`, fix: CHAP_FIX_WRONG(named ?? 'IQN', name) }];
        case 'chap-missing':
          return [
            {
              ...subject,
              text: `${target} requires CHAP and ${by} offered none (an iPXE script without username and password)`,
              fix: `give the machine a target whose CHAP its script carries (iPXE takes the CHAP of the first target with CHAP: diskless doctor ${name}), or remove CHAP from ${target}`,
            },
          ];
        case 'chap-unexpected':
          return [{ ...subject, text: `${by} insists on CHAP and ${target} has none configured`, fix: `set CHAP on ${target} (PATCH /api/targets/${target} {"chap": {"user": ..., "secret": ...}}), or take the credentials out of the initiator` }];
        case 'no-such-target':
        case 'initiator-not-allowed':
        case 'mutual-chap':
        case 'other':
          return []; // their own rules, or not about CHAP
      }
    },
  },
  {
    code: 'mutual-chap-mismatch',
    title: 'mutual CHAP mismatch',
    meaning:
      'The initiator asked the target to prove itself (mutual CHAP) and the two disagree: the target has no mutual CHAP credentials, its mutual secret equals its CHAP secret, or the initiator hung up after checking the target\'s answer (its reverse secret differs from the target\'s).',
    ipxeError: '0x020d623c',
    watches: ['boot-event', 'login-hangup'],
    check: (o, seen, context) => {
      if (o.kind === 'login-hangup') {
        // The portal reports a hang-up only when it refused nothing on that connection
        // (iscsi/connection.ts), so a refusal seen from the same address is another login's.
        const target = o.target ?? 'the target';
        return [
          {
            ip: o.ip,
            initiator: o.initiator,
            target: o.target,
            lun: null,
            key: `${o.ip}|${o.initiator ?? ''}|${target}|hangup`,
            text: `${who(o.initiator, o.ip)} hung up after ${target} answered its mutual CHAP challenge: the target's mutual CHAP credentials are not the ones the initiator expects`,
            fix: `give the initiator ${target}'s mutual CHAP user and secret as its reverse-username and reverse-password (diskless target show ${target}), or set the target's mutualChap to what the initiator holds`,
          },
        ];
      }
      const r = refusal(o);
      if (r === null || r.why.kind !== 'mutual-chap') return [];
      const named = targetWords(r, context);
      const target = named ?? 'the target';
      const iqn = named ?? 'IQN';
      const subject = { ...loginSubject(r), key: `${r.event.ip ?? ''}|${r.initiator ?? ''}|${target}|${r.why.why}`, ipxeError: null };
      const by = who(r.initiator, r.event.ip);
      switch (r.why.why) {
        case 'not-configured':
          return [{ ...subject, text: `${by} asked ${target} to prove itself (mutual CHAP), and it has no mutual CHAP credentials`, fix: `give the target mutual CHAP (PATCH /api/targets/${iqn} {"mutualChap": {...}}) with the initiator's reverse-username and reverse-password, or stop asking for it` }];
        case 'secret-reused':
          return [{ ...subject, text: `the mutual CHAP secret of ${target} equals its CHAP secret, which RFC 7143 forbids: ${by} is refused`, fix: `give the target (${iqn}) a mutual CHAP secret of its own, and the initiator the same as its reverse-password` }];
        case 'incomplete':
          return [{ ...subject, text: `${by} sent only one of CHAP_I and CHAP_C: a broken mutual CHAP request`, fix: 'check the initiator\'s mutual CHAP settings (both the reverse user and secret)' }];
      }
    },
  },
  {
    code: 'no-such-lun',
    title: 'command to a LUN that does not exist',
    meaning: 'An initiator logged in and then sent commands to a LUN the target does not have (anything but REPORT LUNS, which any LUN may ask).',
    ipxeError: '0x1d704039',
    watches: ['missing-lun'],
    check: (o, seen, context) => {
      if (o.kind !== 'missing-lun') return [];
      const subject = scsiSubject(o, seen, context);
      const luns = context.lunsOf(o.target);
      const first = luns[0];
      return [
        {
          ...subject,
          key: `${o.initiator}|${o.target}|${o.lun}`,
          text: `${who(o.initiator, subject.ip)} sent ${opcodeName(o.opcode)} to LUN ${o.lun} of ${o.target}, which has ${luns.length === 0 ? 'no LUN' : `LUN ${luns.join(', ')}`}`,
          fix: first !== undefined ? `use LUN ${first}: diskless machine set ${nameFor(context, subject.mac ?? null)} --disk ${o.target}@${first}` : `give the target a disk: diskless target lun set ${o.target} ${o.lun} DISK`,
        },
      ];
    },
  },
  {
    code: 'no-first-read',
    title: 'logged in but never read LBA 0',
    meaning: 'A session logged in and did not read the disk\'s first block within the grace period (20 s), or ended without reading it: the boot stopped between the login and the boot sector.',
    ipxeError: null,
    watches: ['boot-event', 'tick'],
    check: (o, seen, context) => {
      const fix = (mac: string | null) =>
        `diskless doctor ${nameFor(context, mac)} reads the disk as the machine would; if the disk is right, the boot stopped after the login (an iPXE menu or prompt, a keypress, a lost link)`;
      if (o.kind === 'tick') {
        return seen.overdue(o.at).map((s) => ({
          mac: s.mac,
          ip: s.ip,
          initiator: s.initiator,
          target: s.target,
          lun: null,
          key: `${s.ip}|${s.initiator}|${s.target}|${s.since}`,
          text: `${who(s.initiator, s.ip)} logged in to ${s.target} at ${clock(s.since)} and has not read LBA 0 after ${Math.round((o.at - s.since) / 1000)} s`,
          fix: fix(s.mac),
        }));
      }
      if (o.kind !== 'boot-event' || o.event.kind !== 'iscsi-logout' || o.event.ip === null) return [];
      const initiator = str(o.event.detail.initiator);
      const target = str(o.event.detail.target);
      const session = initiator !== null && target !== null ? seen.sessionAt(o.event.ip, initiator, target) : null;
      if (session === null || session.firstRead || session.missingLun || session.overdueReported) return [];
      const ended = o.event.outcome === 'logout' ? 'logged out' : `ended (${o.event.outcome})`;
      return [
        {
          mac: session.mac,
          ip: session.ip,
          initiator: session.initiator,
          target: session.target,
          lun: null,
          key: `${session.ip}|${session.initiator}|${session.target}|${session.since}`,
          text: `${who(session.initiator, session.ip)} logged in to ${session.target} at ${clock(session.since)} and ${ended} without reading LBA 0`,
          fix: fix(session.mac),
        },
      ];
    },
  },
  {
    code: 'install-without-keep-san',
    title: 'install flow without keep-san',
    meaning:
      'A Windows-style install onto an iSCSI disk that will lose its disk: the machine hooked a blank disk (its first read of LBA 0 is all zeros) from a script that does not set keep-san before hooking it, or its script hooks an iSCSI disk without keep-san and then starts an installer. Without keep-san iPXE detaches the disk when a boot from it fails, so Windows Setup finds no disk to install to.',
    ipxeError: null,
    watches: ['first-block', 'boot-event'],
    check: (o, seen, context) => {
      const fix = 'boot it with an install entry ({"kind": "install", "disk": ..., "installer": ...}: it hooks the disk with keep-san, then starts the installer), or set keepSan: true on its sanboot entry';
      if (o.kind === 'boot-event') {
        if (o.event.kind !== 'script' || o.event.outcome !== 'served' || o.event.mac === null) return [];
        const script = context.scriptFor(o.event.mac);
        const found = script !== null ? installerWithoutKeepSan(script) : null;
        if (found === null) return [];
        return [
          {
            mac: o.event.mac,
            ip: o.event.ip,
            initiator: null,
            target: found.hook.target,
            lun: found.hook.lun,
            key: `${o.event.mac}|script|${found.hook.target}`,
            text: `${nameFor(context, o.event.mac)}'s script hooks ${found.hook.target} without keep-san and then starts an installer (${found.installer}): the installer will not find the disk`,
            fix,
          },
        ];
      }
      if (o.kind !== 'first-block' || classifyFirstBlock(o.block) !== 'blank') return [];
      const subject = scsiSubject(o, seen, context);
      const script = subject.mac != null ? context.scriptFor(subject.mac) : null;
      if (script === null) return [];
      const hooks = hooksOf(script, o.target);
      const hook = hooks[0];
      if (hook === undefined || hooks.some((h) => h.keepSan)) return [];
      return [
        {
          ...subject,
          key: `${subject.mac ?? ''}|${o.target}|${o.lun}`,
          text: `${nameFor(context, subject.mac ?? null)} hooked ${o.target}@${o.lun}, a blank disk (LBA 0 is all zeros: nothing installed yet), and its script does not set keep-san: iPXE drops the disk when the boot from it fails, so an installer started next finds no disk`,
          fix,
          ipxeError: hook.command === 'sanboot' ? '0x2e852001' : null,
        },
      ];
    },
  },
  {
    code: 'uefi-mbr-disk',
    title: 'UEFI machine on an MBR disk',
    meaning: 'A machine whose DHCP request said UEFI read LBA 0 of an MBR disk without an EFI system partition (no GPT): UEFI firmware finds nothing to boot on it.',
    ipxeError: '0x7f22208e',
    watches: ['first-block'],
    check: (o, seen, context) => {
      if (o.kind !== 'first-block' || classifyFirstBlock(o.block) !== 'mbr') return [];
      const subject = scsiSubject(o, seen, context);
      const mac = subject.mac ?? null;
      if (mac === null || seen.firmwareOf(mac) !== 'uefi') return [];
      return [
        {
          ...subject,
          key: `${mac}|${o.target}|${o.lun}`,
          text: `${nameFor(context, mac)} boots with UEFI (its DHCP request said so) and ${o.target}@${o.lun} is an MBR disk without an EFI system partition: UEFI finds nothing to boot`,
          fix: 'boot the machine in legacy BIOS mode (CSM), or reinstall the OS in UEFI mode (GPT with an EFI system partition)',
        },
      ];
    },
  },
  {
    code: 'second-writer',
    title: 'a second machine writes to a disk in use',
    meaning: 'An initiator wrote to a disk of a target that another initiator, from another address, is logged in to: two machines writing one disk corrupt its file system unless it is a cluster file system.',
    ipxeError: null,
    watches: ['first-write'],
    check: (o, seen, context) => {
      if (o.kind !== 'first-write') return [];
      const subject = scsiSubject(o, seen, context);
      const owner = seen
        .sessions()
        .find((s) => sameIscsiName(s.target, o.target) && !sameIscsiName(s.initiator, o.initiator) && s.ip !== subject.ip);
      if (owner === undefined) return [];
      const ownerMac = owner.mac ?? context.macForIp(owner.ip);
      const ownerName = ownerMac !== null ? context.machineName(ownerMac) : null;
      return [
        {
          ...subject,
          key: `${o.target}|${o.lun}|${owner.initiator}|${o.initiator}`,
          text: `${who(o.initiator, subject.ip)} writes to ${o.target}@${o.lun}, which ${ownerName ?? who(owner.initiator, owner.ip)} has in use (logged in since ${clock(owner.since)}): two machines writing one disk corrupt its file system`,
          fix: 'give each machine a disk of its own (diskless machine add --disk DISK, or a copy-on-write disk of an image with --image); share a disk only with a cluster file system',
        },
      ];
    },
  },
];

/** A rule by its code (for explanations). */
export function warningRule(code: string): WarningRule | null {
  return WARNING_RULES.find((r) => r.code === code) ?? null;
}
