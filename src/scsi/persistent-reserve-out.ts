// PERSISTENT RESERVE OUT (SPC-4 6.14, 5.12.7-5.12.11): registrations, reservations, CLEAR and
// PREEMPT over the unit's shared ReservationState. Failures are RESERVATION CONFLICT
// (ReservationConflictError) or CHECK CONDITION (ScsiError). PREEMPT AND ABORT preempts like
// PREEMPT; its task abort part is not done (each session aborts only its own tasks here).
import type { PersistentReserveOut } from './command.ts';
import { ProutAction } from './opcode.ts';
import { ReservationConflictError } from './response.ts';
import { LU_SCOPE, PR_TYPE_RULES, bumpGeneration, isPersistentHolder, nexusIdOf, portOf, unregister } from './reservation-state.ts';
import type { PersistentReservation, PrTypeCode, ReservationState } from './reservation-state.ts';
import { Asc, ScsiError, SenseKey, illegalRequest, invalidFieldInCdb, invalidFieldInParameterList } from './sense.ts';
import type { InitiatorPort } from './types.ts';

/** The basic PERSISTENT RESERVE OUT parameter list (SPC-4 6.14.3 Table 178) is 24 bytes. */
export const PROUT_PARAMETER_LENGTH = 24;

/** Parameter list fields (SPC-4 6.14.3). */
export interface ProutParameters {
  readonly reservationKey: bigint;
  readonly serviceActionReservationKey: bigint;
  readonly specIP: boolean;
  readonly allTgPt: boolean;
  readonly aptpl: boolean;
}

export function decodeProutParameters(cmd: PersistentReserveOut, dataOut: Buffer | null): ProutParameters {
  // SPC-4 6.14.3: with SPEC_I_P unsupported the list is exactly 24 bytes.
  if (cmd.parameterListLength !== PROUT_PARAMETER_LENGTH || dataOut === null || dataOut.length < PROUT_PARAMETER_LENGTH) {
    throw illegalRequest(Asc.ParameterListLengthError);
  }
  const flags = dataOut.readUInt8(20);
  return {
    reservationKey: dataOut.readBigUInt64BE(0),
    serviceActionReservationKey: dataOut.readBigUInt64BE(8),
    specIP: (flags & 0x08) !== 0,
    allTgPt: (flags & 0x04) !== 0,
    aptpl: (flags & 0x01) !== 0,
  };
}

const conflict = (): ReservationConflictError => new ReservationConflictError();

/**
 * RESERVE, RELEASE and PREEMPT name a reservation: LU_SCOPE and a defined TYPE (6.14.2).
 * Returns the reservation the command would establish for `nexus`.
 */
function requestedReservation(cmd: PersistentReserveOut, nexus: string): PersistentReservation {
  if (cmd.scope !== LU_SCOPE) throw invalidFieldInCdb(2, 7);
  const rule = PR_TYPE_RULES.get(cmd.type);
  if (rule === undefined) throw invalidFieldInCdb(2, 3);
  return { kind: 'persistent', holder: nexus, type: cmd.type as PrTypeCode, rule };
}

/** Every service action but the REGISTER ones needs a registered nexus and its own key. */
function checkRegistered(state: ReservationState, nexus: string, p: ProutParameters): void {
  const registration = state.registrations.get(nexus);
  if (registration === undefined || registration.key !== p.reservationKey) throw conflict();
}

/**
 * REGISTER / REGISTER AND IGNORE EXISTING KEY (SPC-4 5.12.7). SPEC_I_P, ALL_TG_PT and APTPL
 * are refused because REPORT CAPABILITIES says they are unsupported (SIP_C, ATP_C, PTPL_C = 0).
 */
function register(state: ReservationState, port: InitiatorPort, p: ProutParameters, ignoreExisting: boolean): void {
  if (p.specIP) throw invalidFieldInParameterList(20, 3);
  if (p.allTgPt) throw invalidFieldInParameterList(20, 2);
  if (p.aptpl) throw invalidFieldInParameterList(20, 0);
  const nexus = nexusIdOf(port);
  const existing = state.registrations.get(nexus);
  if (existing === undefined) {
    if (!ignoreExisting && p.reservationKey !== 0n) throw conflict();
    if (p.serviceActionReservationKey === 0n) return; // nothing to register, nothing changes
    state.registrations.set(nexus, { port, key: p.serviceActionReservationKey });
  } else {
    if (!ignoreExisting && p.reservationKey !== existing.key) throw conflict();
    if (p.serviceActionReservationKey === 0n) unregister(state, nexus);
    else state.registrations.set(nexus, { port: existing.port, key: p.serviceActionReservationKey });
  }
  bumpGeneration(state);
}

/** RESERVE (SPC-4 5.12.9): no generation change. */
function reserve(state: ReservationState, wanted: PersistentReservation): void {
  const current = state.reservation;
  if (current === null) {
    state.reservation = wanted;
    return;
  }
  // Only a holder may "re-reserve", and only with the same type and scope.
  if (current.kind !== 'persistent' || !isPersistentHolder(current, wanted.holder, state) || current.type !== wanted.type) throw conflict();
}

/** RELEASE (SPC-4 5.12.11.2): a non-holder's RELEASE succeeds and does nothing. */
function release(state: ReservationState, named: PersistentReservation): void {
  const current = state.reservation;
  if (current === null || current.kind !== 'persistent' || !isPersistentHolder(current, named.holder, state)) return;
  if (current.type !== named.type) throw new ScsiError(SenseKey.IllegalRequest, Asc.InvalidReleaseOfPersistentReservation);
  state.reservation = null;
}

/** CLEAR (SPC-4 5.12.11.6): every registration and the reservation go. */
function clear(state: ReservationState): void {
  state.registrations.clear();
  state.reservation = null;
  bumpGeneration(state);
}

/** Removes the registrations holding `key`, except the preempting nexus's own; returns how many. */
function removeKey(state: ReservationState, key: bigint, keep: string): number {
  let removed = 0;
  for (const [nexus, registration] of [...state.registrations]) {
    if (nexus === keep || registration.key !== key) continue;
    state.registrations.delete(nexus);
    removed++;
  }
  return removed;
}

/** PREEMPT / PREEMPT AND ABORT (SPC-4 5.12.11.4). */
function preempt(state: ReservationState, newReservation: PersistentReservation, p: ProutParameters): void {
  const sark = p.serviceActionReservationKey;
  const nexus = newReservation.holder;
  const current = state.reservation;
  if (current !== null && current.kind === 'persistent' && current.rule.allRegistrants && sark === 0n) {
    // 5.12.11.4.4: preempting an All Registrants reservation with key 0 removes every other
    // registrant and takes the reservation.
    for (const other of [...state.registrations.keys()]) if (other !== nexus) state.registrations.delete(other);
    state.reservation = newReservation;
  } else if (current !== null && current.kind === 'persistent' && !current.rule.allRegistrants && state.registrations.get(current.holder)?.key === sark) {
    // 5.12.11.4.3: the holder's key: its registrations go and the preempter gets the reservation.
    removeKey(state, sark, nexus);
    state.reservation = newReservation;
  } else {
    // 5.12.11.4.2/.3: any other key only removes registrations; zero names none of them.
    if (sark === 0n) throw invalidFieldInParameterList(8);
    if (removeKey(state, sark, nexus) === 0) throw conflict();
  }
  bumpGeneration(state);
}

export function executePersistentReserveOut(cmd: PersistentReserveOut, dataOut: Buffer | null, initiator: InitiatorPort | undefined, state: ReservationState): void {
  const p = decodeProutParameters(cmd, dataOut);
  const port = portOf(initiator);
  const nexus = nexusIdOf(initiator);
  switch (cmd.serviceAction) {
    case ProutAction.Register:
      return register(state, port, p, false);
    case ProutAction.RegisterAndIgnoreExistingKey:
      return register(state, port, p, true);
    case ProutAction.Reserve: {
      const wanted = requestedReservation(cmd, nexus);
      checkRegistered(state, nexus, p);
      return reserve(state, wanted);
    }
    case ProutAction.Release: {
      const named = requestedReservation(cmd, nexus);
      checkRegistered(state, nexus, p);
      return release(state, named);
    }
    case ProutAction.Clear:
      checkRegistered(state, nexus, p);
      return clear(state);
    case ProutAction.Preempt:
    case ProutAction.PreemptAndAbort: {
      const wanted = requestedReservation(cmd, nexus);
      checkRegistered(state, nexus, p);
      return preempt(state, wanted, p);
    }
    default:
      throw invalidFieldInCdb(1, 4); // the decoder admits only the actions above
  }
}
