// Which commands a reservation lets through, as data: one row per command kind. Only consulted
// when a reservation exists (the dispatcher tests `reservation !== null` first), so none of
// this runs on the READ/WRITE hot path of an unreserved unit.
//
// Persistent reservations follow SPC-4 5.12.2 Table 66 (SPC commands) and SBC-3 4.17 Table 13
// (SBC commands): a command is 'allowed' always, 'read' (allowed by Write Exclusive types,
// conflicting under Exclusive Access for non-holders), or 'write' (conflicting for non-holders
// of every type). Registrants Only and All Registrants types admit every registered I_T nexus.
//
// SPC-2 RESERVE(6)/(10) reservations (SPC-2 5.5.1, 7.21) conflict for every command from
// another I_T nexus except those marked 'allowed'; SPC-3 5.6.3 adds that PERSISTENT RESERVE
// IN/OUT conflict while an SPC-2 reservation exists whoever sends them ('never').
import type { ScsiCommand, ScsiCommandKind } from './command.ts';
import { isPersistentHolder } from './reservation-state.ts';
import type { ReservationState } from './reservation-state.ts';

export type PersistentAccess = 'allowed' | 'read' | 'write';
export type Spc2Access = 'allowed' | 'holder' | 'never';

interface AccessRule {
  readonly persistent: PersistentAccess | ((cmd: ScsiCommand) => PersistentAccess);
  readonly spc2: Spc2Access;
}

const ALWAYS: AccessRule = { persistent: 'allowed', spc2: 'allowed' };
const READ: AccessRule = { persistent: 'read', spc2: 'holder' };
const WRITE: AccessRule = { persistent: 'write', spc2: 'holder' };

export const ACCESS_RULES: Readonly<Record<ScsiCommandKind, AccessRule>> = {
  inquiry: ALWAYS,
  reportLuns: ALWAYS,
  requestSense: ALWAYS,
  // SPC-4 Table 66: REPORT SUPPORTED OPERATION CODES and TEST UNIT READY are allowed (ALLOW
  // COMMANDS 001b in REPORT CAPABILITIES); SPC-2 gives TEST UNIT READY no exemption.
  reportSupportedOperationCodes: ALWAYS,
  testUnitReady: { persistent: 'allowed', spc2: 'holder' },
  readCapacity10: { persistent: 'allowed', spc2: 'holder' },
  readCapacity16: { persistent: 'allowed', spc2: 'holder' },
  // SPC-4 Table 66 lists MODE SENSE and MODE SELECT as conflicting for non-holders.
  modeSense: WRITE,
  modeSelect: WRITE,
  // SBC-3 Table 13: only START=1 with POWER CONDITION 0 and PREVENT=0 pass every reservation.
  startStopUnit: { persistent: (c) => (c.kind === 'startStopUnit' && c.start && c.powerCondition === 0 ? 'allowed' : 'write'), spc2: 'holder' },
  preventAllowMediumRemoval: { persistent: (c) => (c.kind === 'preventAllowMediumRemoval' && c.prevent === 0 ? 'allowed' : 'write'), spc2: 'holder' },
  read: READ,
  verify: READ,
  preFetch: READ,
  readDefectData: READ,
  write: WRITE,
  writeAndVerify: WRITE,
  writeSame: WRITE,
  unmap: WRITE,
  compareAndWrite: WRITE,
  orWrite: WRITE,
  writeAtomic: WRITE,
  synchronizeCache: WRITE,
  // PERSISTENT RESERVE IN/OUT check their own rules (SPC-4 5.12.x); RESERVE and RELEASE check
  // registrations themselves (SPC-3 5.6.3). RELEASE from a non-holder is a no-op (SPC-2 7.23).
  persistentReserveIn: { persistent: 'allowed', spc2: 'never' },
  persistentReserveOut: { persistent: 'allowed', spc2: 'never' },
  reserve: { persistent: 'allowed', spc2: 'holder' },
  release: ALWAYS,
};

/** True when the reservation in `state` refuses `cmd` from the I_T nexus `nexus`. */
export function conflicts(cmd: ScsiCommand, nexus: string, state: ReservationState): boolean {
  const reservation = state.reservation;
  if (reservation === null) return false;
  const rule = ACCESS_RULES[cmd.kind];
  if (reservation.kind === 'spc2') {
    if (rule.spc2 === 'allowed') return false;
    return rule.spc2 === 'never' || reservation.holder !== nexus;
  }
  const access = typeof rule.persistent === 'function' ? rule.persistent(cmd) : rule.persistent;
  if (access === 'allowed' || isPersistentHolder(reservation, nexus, state)) return false;
  if (reservation.rule.registrantsAccess && state.registrations.has(nexus)) return false;
  return access === 'write' || reservation.rule.exclusiveAccess;
}
