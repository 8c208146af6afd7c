// SendTargets (RFC 7143 section 13.3 and appendix C): what a discovery (or normal) session
// learns about the targets it may reach. Pure: the caller supplies the portals.
import { initiatorAllowed, sameIscsiName, type ExportedTarget } from './target-directory.ts';

export interface Portal {
  /** Address as it goes into TargetAddress: an IPv4 literal, or an IPv6 literal in brackets. */
  readonly address: string;
  readonly port: number;
  readonly portalGroupTag: number;
}

export function formatTargetAddress(portal: Portal): string {
  const host = portal.address.includes(':') && !portal.address.startsWith('[') ? `[${portal.address}]` : portal.address;
  return `${host}:${portal.port},${portal.portalGroupTag}`;
}

/**
 * Answers `SendTargets=<value>`. "All" is only allowed in discovery sessions; a target name lists
 * that target; an empty value in a normal session means the session's own target (RFC 7143
 * section 13.3). Targets the initiator may not log in to are not revealed: the filter is the
 * same initiatorAllowed() the login applies, so discovery never lists a target whose login
 * would fail with 0x0202, nor hides one whose login would succeed.
 */
export function answerSendTargets(
  value: string,
  sessionType: 'Normal' | 'Discovery',
  sessionTarget: string | null,
  initiatorName: string,
  targets: readonly ExportedTarget[],
  portals: readonly Portal[],
): Array<[string, string]> {
  let wanted: readonly ExportedTarget[];
  if (value === 'All') {
    if (sessionType !== 'Discovery') return [['SendTargets', 'Reject']];
    wanted = targets;
  } else {
    const name = value === '' ? sessionTarget : value;
    if (name === null) return [];
    wanted = targets.filter((t) => sameIscsiName(t.name, name));
  }
  const pairs: Array<[string, string]> = [];
  for (const target of wanted) {
    if (!initiatorAllowed(target, initiatorName)) continue;
    pairs.push(['TargetName', target.name]);
    for (const portal of portals) pairs.push(['TargetAddress', formatTargetAddress(portal)]);
  }
  return pairs;
}
