// RESERVE(6)/(10) and RELEASE(6)/(10) (SPC-2 7.21-7.24): a whole-unit reservation for one
// I_T nexus, released by RELEASE, by a logical unit reset, or by the loss of the nexus
// (SPC-2 5.5.1). Third-party and extent reservations are not supported (the CDB bits are
// outside the usage map). SPC-3 5.6.3: while any persistent reservation registration exists,
// RESERVE and RELEASE conflict whoever sends them.
import { ReservationConflictError } from './response.ts';
import type { ReservationState } from './reservation-state.ts';

/**
 * RESERVE/RELEASE are offered (in the command table, so REPORT SUPPORTED OPERATION CODES agrees)
 * because the transport reports I_T nexus loss through ScsiTargetDevice.nexusLost (iscsi/session.ts
 * on close): without that, a reservation held by a session that logged out or dropped would lock
 * the unit until a LUN reset. Switch it off for a transport that cannot report nexus loss.
 */
export const SPC2_RESERVATIONS_ENABLED = true;

function refuseWithRegistrations(state: ReservationState): void {
  if (state.registrations.size > 0 || state.reservation?.kind === 'persistent') throw new ReservationConflictError();
}

/** Reserving again from the holder is not an error (SPC-2 7.21.1). */
export function executeReserve(nexus: string, state: ReservationState): void {
  refuseWithRegistrations(state);
  const current = state.reservation;
  if (current !== null && current.holder !== nexus) throw new ReservationConflictError();
  state.reservation = { kind: 'spc2', holder: nexus };
}

/** A RELEASE from an I_T nexus that holds nothing is GOOD and changes nothing (SPC-2 7.23). */
export function executeRelease(nexus: string, state: ReservationState): void {
  refuseWithRegistrations(state);
  if (state.reservation?.kind === 'spc2' && state.reservation.holder === nexus) state.reservation = null;
}

/** Logical unit reset or I_T nexus loss (nexus given): drops the SPC-2 reservation it names. */
export function dropSpc2Reservation(state: ReservationState, nexus: string | null): void {
  const current = state.reservation;
  if (current?.kind === 'spc2' && (nexus === null || current.holder === nexus)) state.reservation = null;
}
