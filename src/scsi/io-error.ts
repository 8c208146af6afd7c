// Storage errno → sense data (SBC-3 4.18, SPC-4 Annex D). Rules as data: the first row whose
// codes include the errno wins; anything unlisted is a medium error for the operation.
import { Asc, ScsiError, SenseKey } from './sense.ts';
import type { AdditionalSense, SenseKeyCode } from './sense.ts';

export type IoOperation = 'read' | 'write' | 'flush';

interface ErrnoRule {
  readonly codes: readonly string[];
  readonly senseKey: SenseKeyCode;
  readonly additional: AdditionalSense;
}

const ERRNO_RULES: readonly ErrnoRule[] = [
  // A thin (sparse) disk whose filesystem is full: SBC-3 4.7.3.7 "space allocation failed".
  { codes: ['ENOSPC', 'EDQUOT'], senseKey: SenseKey.DataProtect, additional: Asc.SpaceAllocationFailedWriteProtect },
  { codes: ['EROFS', 'EPERM', 'EACCES'], senseKey: SenseKey.DataProtect, additional: Asc.WriteProtected },
];

const DEFAULT_BY_OPERATION: Readonly<Record<IoOperation, AdditionalSense>> = {
  read: Asc.UnrecoveredReadError,
  write: Asc.WriteError,
  flush: Asc.WriteError,
};

export function scsiErrorForIo(err: NodeJS.ErrnoException, operation: IoOperation): ScsiError {
  const code = err.code ?? '';
  const rule = ERRNO_RULES.find((r) => r.codes.includes(code));
  if (rule !== undefined) return new ScsiError(rule.senseKey, rule.additional);
  return new ScsiError(SenseKey.MediumError, DEFAULT_BY_OPERATION[operation]);
}
