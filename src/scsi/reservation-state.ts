// Reservation state of one logical unit, shared by every I_T nexus (session) that reaches it:
// the persistent reservation registrations and generation (SPC-4 5.12), and the reservation in
// effect, either persistent or an SPC-2 RESERVE(6)/(10) one. Registrations and persistent
// reservations are not kept across power loss (PTPL_C = 0 in REPORT CAPABILITIES).
import type { InitiatorPort } from './types.ts';

/** PERSISTENT RESERVATION TYPE codes (SPC-4 6.14.2 Table 177). */
export const PrType = {
  WriteExclusive: 0x1,
  ExclusiveAccess: 0x3,
  WriteExclusiveRegistrantsOnly: 0x5,
  ExclusiveAccessRegistrantsOnly: 0x6,
  WriteExclusiveAllRegistrants: 0x7,
  ExclusiveAccessAllRegistrants: 0x8,
} as const;
export type PrTypeCode = (typeof PrType)[keyof typeof PrType];

/** How each reservation type treats I_T nexuses other than its holder (SPC-4 5.12.2 Table 63). */
export interface PrTypeRule {
  /** Exclusive Access: reads from non-holders conflict too, not only writes. */
  readonly exclusiveAccess: boolean;
  /** Registrants Only / All Registrants: every registered I_T nexus has full access. */
  readonly registrantsAccess: boolean;
  /** All Registrants: every registrant is a reservation holder (SPC-4 5.12.10). */
  readonly allRegistrants: boolean;
}

export const PR_TYPE_RULES: ReadonlyMap<number, PrTypeRule> = new Map<number, PrTypeRule>([
  [PrType.WriteExclusive, { exclusiveAccess: false, registrantsAccess: false, allRegistrants: false }],
  [PrType.ExclusiveAccess, { exclusiveAccess: true, registrantsAccess: false, allRegistrants: false }],
  [PrType.WriteExclusiveRegistrantsOnly, { exclusiveAccess: false, registrantsAccess: true, allRegistrants: false }],
  [PrType.ExclusiveAccessRegistrantsOnly, { exclusiveAccess: true, registrantsAccess: true, allRegistrants: false }],
  [PrType.WriteExclusiveAllRegistrants, { exclusiveAccess: false, registrantsAccess: true, allRegistrants: true }],
  [PrType.ExclusiveAccessAllRegistrants, { exclusiveAccess: true, registrantsAccess: true, allRegistrants: true }],
]);

/** SCOPE LU_SCOPE (SPC-4 6.14.2): the only scope SPC-4 still defines. */
export const LU_SCOPE = 0x0;

export interface PersistentReservation {
  readonly kind: 'persistent';
  /** Nexus id of the holder; for All Registrants types, the nexus that made it (not reported). */
  readonly holder: string;
  readonly type: PrTypeCode;
  readonly rule: PrTypeRule;
}

/** SPC-2 7.21 RESERVE: the whole logical unit, for one I_T nexus. */
export interface Spc2Reservation {
  readonly kind: 'spc2';
  readonly holder: string;
}

export type Reservation = PersistentReservation | Spc2Reservation;

export interface Registration {
  readonly port: InitiatorPort;
  readonly key: bigint;
}

export interface ReservationState {
  /** The reservation in effect; null when none. The command hot path tests only this field. */
  reservation: Reservation | null;
  /** Registered I_T nexuses, by nexus id, in registration order (READ KEYS reports that order). */
  readonly registrations: Map<string, Registration>;
  /** PRGENERATION (SPC-4 6.13.2): bumped by REGISTER*, CLEAR and PREEMPT*; 32 bits, wrapping. */
  generation: number;
}

export function createReservationState(): ReservationState {
  return { reservation: null, registrations: new Map(), generation: 0 };
}

/** Internal callers (no transport) act as one anonymous I_T nexus. */
const ANONYMOUS: InitiatorPort = { name: '', portId: '' };

export function portOf(initiator: InitiatorPort | undefined): InitiatorPort {
  return initiator ?? ANONYMOUS;
}

/**
 * The I_T nexus key. There is one target port, so the initiator port (SCSI name plus, for
 * iSCSI, ",i,0x" + ISID: SPC-4 7.6.4.6) identifies the nexus.
 */
export function nexusIdOf(initiator: InitiatorPort | undefined): string {
  return initiator === undefined ? '' : initiator.name + initiator.portId;
}

export function bumpGeneration(state: ReservationState): void {
  state.generation = (state.generation + 1) >>> 0;
}

/** Is `nexus` a holder of the persistent reservation (SPC-4 5.12.10)? */
export function isPersistentHolder(reservation: PersistentReservation, nexus: string, state: ReservationState): boolean {
  return reservation.rule.allRegistrants ? state.registrations.has(nexus) : reservation.holder === nexus;
}

/**
 * Removes one registration and applies SPC-4 5.12.11.2: a holder's reservation goes with its
 * registration, except an All Registrants one, which lasts while any registrant remains.
 */
export function unregister(state: ReservationState, nexus: string): void {
  state.registrations.delete(nexus);
  const r = state.reservation;
  if (r === null || r.kind !== 'persistent') return;
  const released = r.rule.allRegistrants ? state.registrations.size === 0 : r.holder === nexus;
  if (released) state.reservation = null;
}
