// What the machine's own recent boots say (the boot timeline, events/boot-events.ts): a login
// that failed, a login that never read LBA 0, the warnings the server raised by itself from
// its traffic (live-warnings.ts: a blank disk without keep-san, UEFI on an MBR disk, a second
// writer...), and which firmware it boots with. Warnings only: they are about the past, the
// checklist above is about now. Pure.
import { ARCH_TABLE } from '../dhcp/pxe.ts';
import type { BootEvent } from '../events/boot-events.ts';
import type { DoctorMachine, DoctorStep } from './checklist.ts';
import { closestName } from './closest-name.ts';

/** The firmware of the machine's most recent DHCP request that named an architecture. */
export function firmwareFromEvents(events: readonly BootEvent[]): DoctorMachine['firmware'] {
  for (let i = events.length - 1; i >= 0; i--) {
    const e = events[i];
    if (e === undefined || !e.kind.startsWith('dhcp-')) continue;
    const arch = e.detail.arch;
    if (typeof arch !== 'number') continue;
    const platform = ARCH_TABLE[arch]?.platform;
    if (platform === undefined) continue;
    return platform === 'bios' ? 'bios' : 'uefi';
  }
  return 'unknown';
}

const time = (at: number): string => new Date(at).toISOString();

interface HistoryRule {
  readonly id: string;
  readonly find: (events: readonly BootEvent[], targetNames: readonly string[], nowMs: number) => Omit<DoctorStep, 'section' | 'id' | 'status'> | null;
}

/** A login still without a first read after this long is one that never will read. */
const FIRST_READ_GRACE_MS = 60_000;

export const HISTORY_RULES: readonly HistoryRule[] = [
  {
    id: 'history:login-failed',
    find: (events, targetNames) => {
      const last = [...events].reverse().find((e) => e.kind.startsWith('iscsi-'));
      if (last?.kind !== 'iscsi-login-failed') return null;
      const missing = /^no target (\S+)/.exec(last.outcome)?.[1];
      const closest = missing !== undefined ? closestName(missing, targetNames) : null;
      return {
        summary: `its last iSCSI login (${time(last.at)}) failed: ${last.outcome}`,
        cause: `The last login from ${String(last.detail.initiator ?? 'the machine')} to ${String(last.detail.target ?? 'its target')} was refused: ${last.outcome}${closest !== null ? `; did you mean ${closest}?` : '.'}`,
      };
    },
  },
  {
    id: 'history:no-first-read',
    find: (events, _targets, nowMs) => {
      for (let i = events.length - 1; i >= 0; i--) {
        const login = events[i];
        if (login?.kind !== 'iscsi-login') continue;
        const after = events.slice(i + 1);
        const end = after.find((e) => e.kind === 'iscsi-logout' && e.detail.target === login.detail.target);
        const read = after.some((e) => e.kind === 'iscsi-first-read' && e.detail.target === login.detail.target && (end === undefined || e.at <= end.at));
        if (read || (end === undefined && nowMs - login.at < FIRST_READ_GRACE_MS)) return null;
        return {
          summary: `it logged in to ${String(login.detail.target)} at ${time(login.at)} but never read LBA 0`,
          cause: 'iPXE logged in and then gave up before reading the first block: the LUN is not a usable disk for it, or the boot stopped (a menu, a keypress, a lost link).',
        };
      }
      return null;
    },
  },
];

/** How far back the warnings the server raised by itself (live-warnings.ts) are shown. */
const LIVE_WARNINGS_MS = 24 * 3600_000;
/** Live warnings a history rule already says, in its own words. */
const SAID_BY_RULE: Readonly<Record<string, readonly string[]>> = {
  'history:login-failed': ['no-such-target', 'initiator-not-allowed', 'chap-failed', 'mutual-chap-mismatch'],
  'history:no-first-read': ['no-first-read'],
};

/** The latest warning event of each code in the last day, as steps. */
function liveWarningSteps(events: readonly BootEvent[], nowMs: number, said: ReadonlySet<string>): DoctorStep[] {
  const latest = new Map<string, BootEvent>();
  for (const e of events) {
    const code = e.detail.code;
    if (e.kind === 'warning' && typeof code === 'string' && !said.has(code) && nowMs - e.at < LIVE_WARNINGS_MS) latest.set(code, e);
  }
  return [...latest].map(([code, e]) => ({
    section: 'history' as const,
    id: `history:warning:${code}`,
    status: 'warn' as const,
    summary: `the server warned at ${time(e.at)}: ${e.outcome}`,
    cause: e.outcome,
    ...(typeof e.detail.fix === 'string' ? { fix: e.detail.fix } : {}),
    ...(typeof e.detail.ipxeError === 'string' ? { ipxeError: e.detail.ipxeError } : {}),
  }));
}

export function historySteps(events: readonly BootEvent[], targetNames: readonly string[], nowMs: number): DoctorStep[] {
  if (events.length === 0) return [{ section: 'history', id: 'history:none', status: 'skip', summary: 'no boot of this machine seen yet' }];
  const found = HISTORY_RULES.flatMap((rule) => {
    const step = rule.find(events, targetNames, nowMs);
    return step === null ? [] : [{ section: 'history' as const, id: rule.id, status: 'warn' as const, ...step }];
  });
  const said = new Set(found.flatMap((step) => SAID_BY_RULE[step.id] ?? []));
  const warnings = [...found, ...liveWarningSteps(events, nowMs, said)];
  if (warnings.length > 0) return warnings;
  return [{ section: 'history', id: 'history:ok', status: 'ok', summary: `nothing wrong in its last ${events.length} boot event${events.length === 1 ? '' : 's'}` }];
}
