// PERSISTENT RESERVE IN (SPC-4 6.13): READ KEYS, READ RESERVATION, REPORT CAPABILITIES and
// READ FULL STATUS. Each returns its full parameter data; the dispatcher truncates it to the
// allocation length, and the length fields keep describing the untruncated data (6.13.2).
import type { PersistentReserveIn } from './command.ts';
import { PrinAction } from './opcode.ts';
import { LU_SCOPE, PR_TYPE_RULES, isPersistentHolder } from './reservation-state.ts';
import type { Registration, ReservationState } from './reservation-state.ts';
import { invalidFieldInCdb } from './sense.ts';
import type { InitiatorPort } from './types.ts';

/** PRGENERATION and ADDITIONAL LENGTH, then the body (SPC-4 6.13.2, 6.13.3, 6.13.5). */
function withHeader(generation: number, body: Buffer): Buffer {
  const header = Buffer.alloc(8);
  header.writeUInt32BE(generation, 0);
  header.writeUInt32BE(body.length, 4);
  return Buffer.concat([header, body]);
}

function readKeys(state: ReservationState): Buffer {
  const body = Buffer.alloc(8 * state.registrations.size);
  let at = 0;
  for (const { key } of state.registrations.values()) {
    body.writeBigUInt64BE(key, at);
    at += 8;
  }
  return withHeader(state.generation, body);
}

/** SPC-4 6.13.3: one 16-byte descriptor when a persistent reservation exists. */
function readReservation(state: ReservationState): Buffer {
  const r = state.reservation;
  if (r === null || r.kind !== 'persistent') return withHeader(state.generation, Buffer.alloc(0));
  const body = Buffer.alloc(16);
  // All Registrants reservations report key 0 (SPC-4 6.13.3.3).
  const key = r.rule.allRegistrants ? 0n : (state.registrations.get(r.holder)?.key ?? 0n);
  body.writeBigUInt64BE(key, 0);
  body[13] = (LU_SCOPE << 4) | r.type;
  return withHeader(state.generation, body);
}

/** Bits of PERSISTENT RESERVATION TYPE MASK (SPC-4 6.13.4 Table 173), by type code. */
const TYPE_MASK_BITS: ReadonlyMap<number, number> = new Map([
  [0x7, 0x8000], // WR_EX_AR
  [0x6, 0x4000], // EX_AC_RO
  [0x5, 0x2000], // WR_EX_RO
  [0x3, 0x0800], // EX_AC
  [0x1, 0x0200], // WR_EX
  [0x8, 0x0001], // EX_AC_AR
]);

/**
 * REPORT CAPABILITIES (SPC-4 6.13.4). CRH=1: RESERVE/RELEASE follow SPC-3 5.6.3. SIP_C, ATP_C
 * and PTPL_C are 0: SPEC_I_P, ALL_TG_PT and APTPL are refused. TMV=1 with ALLOW COMMANDS
 * 001b: TEST UNIT READY passes Write Exclusive and Exclusive Access reservations.
 */
export function reportCapabilities(): Buffer {
  const b = Buffer.alloc(8);
  b.writeUInt16BE(8, 0); // LENGTH
  b[2] = 0x10; // CRH
  b[3] = 0x80 | (0b001 << 4); // TMV | ALLOW COMMANDS
  let mask = 0;
  for (const type of PR_TYPE_RULES.keys()) mask |= TYPE_MASK_BITS.get(type) ?? 0;
  b.writeUInt16BE(mask, 4);
  return b;
}

/** iSCSI PROTOCOL IDENTIFIER (SPC-4 7.6.1 Table 362). */
const PROTOCOL_ISCSI = 0x5;

/**
 * iSCSI TransportID (SPC-4 7.6.4.6): format 01b, "name,i,0x<ISID>", null-terminated, padded to
 * a multiple of four and at least 20 bytes of name (24 in all).
 */
export function encodeTransportId(port: InitiatorPort): Buffer {
  const name = Buffer.from(port.name + port.portId, 'utf8');
  const nameLength = Math.max(20, Math.ceil((name.length + 1) / 4) * 4);
  const b = Buffer.alloc(4 + nameLength);
  b[0] = (0b01 << 6) | PROTOCOL_ISCSI;
  b.writeUInt16BE(nameLength, 2);
  name.copy(b, 4);
  return b;
}

/** READ FULL STATUS (SPC-4 6.13.5): one descriptor per registered I_T nexus. */
function readFullStatus(state: ReservationState): Buffer {
  const r = state.reservation;
  const descriptors = [...state.registrations].map(([nexus, registration]: [string, Registration]) => {
    const transportId = encodeTransportId(registration.port);
    const d = Buffer.alloc(24);
    d.writeBigUInt64BE(registration.key, 0);
    const holder = r !== null && r.kind === 'persistent' && isPersistentHolder(r, nexus, state);
    if (holder) {
      d[12] = 0x01; // R_HOLDER (ALL_TG_PT is 0: registrations are per I_T nexus)
      d[13] = (LU_SCOPE << 4) | r.type;
    }
    d.writeUInt16BE(1, 18); // RELATIVE TARGET PORT IDENTIFIER: our one target port
    d.writeUInt32BE(transportId.length, 20);
    return Buffer.concat([d, transportId]);
  });
  return withHeader(state.generation, Buffer.concat(descriptors));
}

export function executePersistentReserveIn(cmd: PersistentReserveIn, state: ReservationState): Buffer {
  switch (cmd.serviceAction) {
    case PrinAction.ReadKeys:
      return readKeys(state);
    case PrinAction.ReadReservation:
      return readReservation(state);
    case PrinAction.ReportCapabilities:
      return reportCapabilities();
    case PrinAction.ReadFullStatus:
      return readFullStatus(state);
    default:
      // The decoder admits only these four; kept for exhaustiveness on a number.
      throw invalidFieldInCdb(1, 4);
  }
}
