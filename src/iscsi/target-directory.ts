// The targets this server exports: name, alias, the SCSI device behind it and who may log in.
// The login machine and SendTargets read it; the inventory (later) fills it. The one comparison
// of iSCSI names lives here too, so that login, discovery and lookup cannot disagree on whether
// two spellings are the same name.
import type { ScsiTargetDevice } from '../scsi/types.ts';

/**
 * RFC 3454 table B.1, "commonly mapped to nothing": soft hyphen, combining grapheme joiner,
 * Mongolian todo soft hyphen and variation selectors, zero-width space and joiners, word joiner,
 * variation selectors, the byte order mark. The first step of the iSCSI stringprep profile.
 */
const MAPPED_TO_NOTHING: ReadonlySet<number> = new Set([
  0x00ad, 0x034f, 0x1806, 0x180b, 0x180c, 0x180d, 0x200b, 0x200c, 0x200d, 0x2060, 0xfeff,
  ...Array.from({ length: 16 }, (_, i) => 0xfe00 + i),
]);

function mapToNothing(name: string): string {
  // Printable ASCII (every IQN seen in practice) holds nothing to drop.
  if (!/[^\x20-\x7e]/.test(name)) return name;
  let out = '';
  for (const ch of name) if (!MAPPED_TO_NOTHING.has(ch.codePointAt(0) ?? 0)) out += ch;
  return out;
}

/**
 * The form in which two spellings of one iSCSI name are equal. iSCSI names go through the
 * stringprep profile of RFC 3722 (RFC 7143 section 4.2.7, iSCSI names): map table B.1 to
 * nothing, case-fold with table B.2, normalise to NFKC. So `IQN.2026-11.ORG.EXAMPLE:PC1` and
 * `iqn.2026-11.org.example:pc1` are one name, at login and in discovery alike.
 *
 * B.2 is case folding plus the folds of what NFKC turns into capitals (U+3381 "nA"); here it is
 * NFKC, toLowerCase(), NFKC again. That differs from B.2 only for a handful of letters (ß, final
 * sigma) that have no place in an IQN, EUI or NAA name. Prohibited characters are not refused
 * here: a name holding one matches no configured name that lacks it, so it gets no further than
 * an unknown name would.
 */
export function normalizeIscsiName(name: string): string {
  return mapToNothing(name).normalize('NFKC').toLowerCase().normalize('NFKC');
}

/** Whether two iSCSI names are the same name (RFC 3722 stringprep, see normalizeIscsiName). */
export function sameIscsiName(a: string, b: string): boolean {
  return normalizeIscsiName(a) === normalizeIscsiName(b);
}

/** What an access check needs of a target: its allow-list of initiator names. */
export interface InitiatorAcl {
  /** Initiator names allowed to log in and to see the target in discovery; null = anyone. */
  readonly allowedInitiators: readonly string[] | null;
}

export interface Credentials {
  readonly user: string;
  readonly secret: string;
}

export interface ExportedTarget {
  readonly name: string;
  readonly alias: string | null;
  readonly device: ScsiTargetDevice;
  /** Incoming CHAP: the initiator must authenticate with these. */
  readonly chap: Credentials | null;
  /** Outgoing CHAP: the target authenticates to the initiator with these (mutual CHAP). */
  readonly mutualChap: Credentials | null;
  /** Initiator names allowed to log in and to see the target in discovery; null = anyone. */
  readonly allowedInitiators: readonly string[] | null;
}

export class TargetDirectory {
  readonly #targets = new Map<string, ExportedTarget>();

  constructor(targets: Iterable<ExportedTarget> = []) {
    for (const target of targets) this.add(target);
  }

  add(target: ExportedTarget): void {
    // Keyed by the stringprepped name, so any spelling of it finds the target.
    this.#targets.set(normalizeIscsiName(target.name), target);
  }

  remove(name: string): boolean {
    return this.#targets.delete(normalizeIscsiName(name));
  }

  get(name: string): ExportedTarget | null {
    return this.#targets.get(normalizeIscsiName(name)) ?? null;
  }

  list(): ExportedTarget[] {
    return [...this.#targets.values()];
  }
}

/**
 * The one access check on an initiator name: the login (login.ts) refuses with 0x0202 exactly
 * the initiators that SendTargets (send-targets.ts) hides the target from. Names compare as
 * iSCSI names (normalizeIscsiName), in whatever case the allow-list or the initiator spells them.
 */
export function initiatorAllowed(target: InitiatorAcl, initiatorName: string): boolean {
  if (target.allowedInitiators === null) return true;
  const name = normalizeIscsiName(initiatorName);
  return target.allowedInitiators.some((allowed) => normalizeIscsiName(allowed) === name);
}
