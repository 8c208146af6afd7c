// The live warnings' evaluator: fed one observation at a time, it keeps what the rules need to
// know (live sessions and whether they read LBA 0, each machine's firmware from its DHCP, the
// last refused login per address), runs every rule of warning-rules.ts that watches that kind
// of observation against what it knew *before* the observation, then records it. The same
// finding is said once per quiet period. No I/O, no clock, no timers: time comes in with the
// observations (ticks included), so tests replay a boot and get the same warnings every time.
import { ARCH_TABLE } from '../dhcp/pxe.ts';
import type { BootEvent } from '../events/boot-events.ts';
import { WARNING_RULES, type Finding, type WarningRule } from './warning-rules.ts';
import type { LiveWarning, Observation, WarningContext } from './warning-types.ts';
import { sameIscsiName } from '../iscsi/target-directory.ts';

/** One iSCSI session from its login event to its logout event. */
export interface TrackedSession {
  readonly ip: string;
  readonly initiator: string;
  readonly target: string;
  readonly mac: string | null;
  readonly since: number;
  firstRead: boolean;
  missingLun: boolean;
  /** Reported as overdue for its first read already (a tick said so). */
  overdueReported: boolean;
}

export type Firmware = 'bios' | 'uefi' | 'unknown';

/** What the rules may read of the watch's memory. */
export interface WatchView {
  /** Live sessions (logged in, not yet out), oldest first. */
  sessions(): readonly TrackedSession[];
  /** The live session of this initiator on this target (the newest, if it holds several). */
  sessionFor(initiator: string, target: string): TrackedSession | null;
  /** The live session a logout or first-read event is about. */
  sessionAt(ip: string, initiator: string, target: string): TrackedSession | null;
  /** The firmware the machine's last DHCP request that named an architecture said. */
  firmwareOf(mac: string): Firmware;
  /** Sessions still without a first read `graceMs` after their login, not yet reported. */
  overdue(nowMs: number): readonly TrackedSession[];
}

export interface WatchOptions {
  /** A login without a read of LBA 0 after this long is reported (default 20 s). */
  readonly firstReadGraceMs?: number;
  /** The same finding (same key) is said again only after this long (default 5 min). */
  readonly quietMs?: number;
  readonly rules?: readonly WarningRule[];
}

const MAX_SESSIONS = 10_000;
/** iSCSI names compare as the login compares them (RFC 3722). */
const same = sameIscsiName;
/** A non-empty string field of an event's detail, or null. */
export const text = (v: BootEvent['detail'][string] | undefined): string | null => (typeof v === 'string' && v !== '' ? v : null);

export class WarningWatch implements WatchView {
  readonly #sessions: TrackedSession[] = [];
  readonly #firmware = new Map<string, Firmware>();
  readonly #said = new Map<string, number>();
  readonly #graceMs: number;
  readonly #quietMs: number;
  readonly #rules: readonly WarningRule[];

  constructor(options: WatchOptions = {}) {
    this.#graceMs = options.firstReadGraceMs ?? 20_000;
    this.#quietMs = options.quietMs ?? 5 * 60_000;
    this.#rules = options.rules ?? WARNING_RULES;
  }

  /** The warnings this observation raises (usually none). */
  feed(observation: Observation, context: WarningContext): LiveWarning[] {
    if (observation.kind === 'boot-event' && observation.event.kind === 'warning') return [];
    const at = observation.kind === 'boot-event' ? observation.event.at : observation.at;
    const warnings: LiveWarning[] = [];
    for (const rule of this.#rules) {
      if (!rule.watches.includes(observation.kind)) continue;
      for (const finding of rule.check(observation, this, context)) {
        const warning = this.#say(rule, finding, at, context);
        if (warning !== null) warnings.push(warning);
      }
    }
    this.#record(observation, at);
    return warnings;
  }

  #say(rule: WarningRule, finding: Finding, at: number, context: WarningContext): LiveWarning | null {
    const key = `${rule.code}|${finding.key}`;
    const last = this.#said.get(key);
    if (last !== undefined && at - last < this.#quietMs) return null;
    this.#said.set(key, at);
    const mac = finding.mac ?? (finding.ip !== null ? context.macForIp(finding.ip) : null);
    return {
      at,
      code: rule.code,
      mac,
      machine: mac !== null ? context.machineName(mac) : null,
      ip: finding.ip,
      initiator: finding.initiator,
      target: finding.target,
      lun: finding.lun,
      text: finding.text,
      fix: finding.fix,
      ipxeError: finding.ipxeError !== undefined ? finding.ipxeError : rule.ipxeError,
    };
  }

  #record(observation: Observation, at: number): void {
    switch (observation.kind) {
      case 'boot-event':
        return this.#recordEvent(observation.event);
      case 'missing-lun': {
        const session = this.sessionFor(observation.initiator, observation.target);
        if (session !== null) session.missingLun = true;
        return;
      }
      case 'tick':
        for (const session of this.overdue(at)) session.overdueReported = true;
        return this.#forgetQuiet(at);
      case 'first-block':
      case 'first-write':
      case 'login-hangup':
        return;
    }
  }

  #recordEvent(event: BootEvent): void {
    const initiator = text(event.detail.initiator);
    const target = text(event.detail.target);
    if (event.kind.startsWith('dhcp-') && event.mac !== null && typeof event.detail.arch === 'number') {
      const platform = ARCH_TABLE[event.detail.arch]?.platform;
      if (platform !== undefined) this.#firmware.set(event.mac, platform === 'bios' ? 'bios' : 'uefi');
    }
    if (event.ip === null || initiator === null || target === null) return;
    switch (event.kind) {
      case 'iscsi-login':
        this.#sessions.push({ ip: event.ip, initiator, target, mac: event.mac, since: event.at, firstRead: false, missingLun: false, overdueReported: false });
        if (this.#sessions.length > MAX_SESSIONS) this.#sessions.shift();
        return;
      case 'iscsi-first-read': {
        // The newest session still waiting for it: an older one may be a boot that died.
        const waiting = this.#sessions.filter((s) => !s.firstRead && s.ip === event.ip && same(s.initiator, initiator) && same(s.target, target));
        const session = waiting[waiting.length - 1];
        if (session !== undefined) session.firstRead = true;
        return;
      }
      case 'iscsi-logout': {
        const session = this.sessionAt(event.ip, initiator, target);
        if (session !== null) this.#sessions.splice(this.#sessions.indexOf(session), 1);
        return;
      }
      case 'iscsi-login-failed':
      case 'dhcp-discover':
      case 'dhcp-offer':
      case 'dhcp-request':
      case 'dhcp-ack':
      case 'dhcp-nak':
      case 'dhcp-other':
      case 'tftp':
      case 'script':
      case 'disk-reset':
      case 'warning':
        return;
    }
  }

  /** Drops quiet-period memories that have run out, so the map stays small. */
  #forgetQuiet(nowMs: number): void {
    for (const [key, at] of this.#said) if (nowMs - at >= this.#quietMs) this.#said.delete(key);
  }

  sessions(): readonly TrackedSession[] {
    return this.#sessions;
  }

  sessionFor(initiator: string, target: string): TrackedSession | null {
    for (let i = this.#sessions.length - 1; i >= 0; i--) {
      const s = this.#sessions[i];
      if (s !== undefined && same(s.initiator, initiator) && same(s.target, target)) return s;
    }
    return null;
  }

  sessionAt(ip: string, initiator: string, target: string): TrackedSession | null {
    // The oldest matching session: a logout ends the session a reboot left open first.
    return this.#sessions.find((s) => s.ip === ip && same(s.initiator, initiator) && same(s.target, target)) ?? null;
  }

  firmwareOf(mac: string): Firmware {
    return this.#firmware.get(mac) ?? 'unknown';
  }


  overdue(nowMs: number): readonly TrackedSession[] {
    return this.#sessions.filter((s) => !s.firstRead && !s.missingLun && !s.overdueReported && nowMs - s.since >= this.#graceMs);
  }
}
