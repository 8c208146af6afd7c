// The targets this server exports: name, alias, the SCSI device behind it and who may log in.
// The login machine and SendTargets read it; the inventory (later) fills it.
import type { ScsiTargetDevice } from '../scsi/types.ts';

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
    // iSCSI names compare case-insensitively after stringprep (RFC 7143 section 4.2.7.1);
    // IQNs are lower case in practice, so fold case on lookup.
    this.#targets.set(target.name.toLowerCase(), target);
  }

  remove(name: string): boolean {
    return this.#targets.delete(name.toLowerCase());
  }

  get(name: string): ExportedTarget | null {
    return this.#targets.get(name.toLowerCase()) ?? null;
  }

  list(): ExportedTarget[] {
    return [...this.#targets.values()];
  }
}

export function initiatorAllowed(target: ExportedTarget, initiatorName: string): boolean {
  if (target.allowedInitiators === null) return true;
  const name = initiatorName.toLowerCase();
  return target.allowedInitiators.some((allowed) => allowed.toLowerCase() === name);
}
