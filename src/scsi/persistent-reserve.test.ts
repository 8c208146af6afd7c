// PERSISTENT RESERVE IN/OUT through BlockLogicalUnit with two (three) I_T nexuses: exact
// parameter data, the generation counter, and the SPC-4 5.12.2 / SBC-3 4.17 access rules.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { MemoryDevice } from '../storage/memory-device.ts';
import { BlockLogicalUnit } from './logical-unit.ts';
import { encodeTransportId } from './persistent-reserve-in.ts';
import { PrType } from './reservation-state.ts';
import { cdb, hex, runFrom, senseOf } from './test-support.ts';
import { ScsiStatus } from './types.ts';
import type { InitiatorPort, ScsiResponse } from './types.ts';

const A: InitiatorPort = { name: 'iqn.2026-01.test:a', portId: ',i,0x23d000000001' };
const B: InitiatorPort = { name: 'iqn.2026-01.test:b', portId: ',i,0x23d000000002' };
/** Same initiator name as A, other ISID: another I_T nexus (SPC-4 7.6.4.6). */
const A2: InitiatorPort = { name: 'iqn.2026-01.test:a', portId: ',i,0x23d000000009' };

const makeUnit = (): BlockLogicalUnit => new BlockLogicalUnit(new MemoryDevice({ sizeBytes: 64 * 512 }));

const Sa = { Register: 0, Reserve: 1, Release: 2, Clear: 3, Preempt: 4, PreemptAndAbort: 5, RegisterIgnore: 6 } as const;

function params(reservationKey: bigint, serviceActionKey: bigint, flags = 0): Buffer {
  const b = Buffer.alloc(24);
  b.writeBigUInt64BE(reservationKey, 0);
  b.writeBigUInt64BE(serviceActionKey, 8);
  b[20] = flags;
  return b;
}

function prout(unit: BlockLogicalUnit, who: InitiatorPort, sa: number, type: number, rk: bigint, sark: bigint, flags = 0): Promise<ScsiResponse> {
  return runFrom(who, unit, cdb(0x5f, sa, type, 0, 0, 0, 0, 0, 24), params(rk, sark, flags));
}
const prin = (unit: BlockLogicalUnit, who: InitiatorPort, sa: number, allocationLength = 0x1000): Promise<ScsiResponse> =>
  runFrom(who, unit, cdb(0x5e, sa, 0, 0, 0, 0, 0, allocationLength >> 8, allocationLength & 0xff));

const read1 = (unit: BlockLogicalUnit, who: InitiatorPort): Promise<ScsiResponse> => runFrom(who, unit, cdb(0x28, 0, 0, 0, 0, 0, 0, 0, 1));
const write1 = (unit: BlockLogicalUnit, who: InitiatorPort): Promise<ScsiResponse> => runFrom(who, unit, cdb(0x2a, 0, 0, 0, 0, 0, 0, 0, 1), Buffer.alloc(512));

function good(res: ScsiResponse): void {
  assert.equal(res.status, ScsiStatus.Good, hex(res.sense));
}

test('READ KEYS: generation and keys in registration order; truncation keeps ADDITIONAL LENGTH', async () => {
  const unit = makeUnit();
  assert.equal(hex((await prin(unit, A, 0)).dataIn), '0000000000000000');
  good(await prout(unit, A, Sa.RegisterIgnore, 0, 0n, 0xaaaan));
  good(await prout(unit, B, Sa.Register, 0, 0n, 0xbbbbn));
  assert.equal(hex((await prin(unit, A, 0)).dataIn), '00000002' + '00000010' + '000000000000aaaa' + '000000000000bbbb');
  assert.equal(hex((await prin(unit, A, 0, 8)).dataIn), '0000000200000010');
});

test('REGISTER: wrong key conflicts, SARK 0 unregisters, unregistered SARK 0 changes nothing', async () => {
  const unit = makeUnit();
  assert.equal((await prout(unit, A, Sa.Register, 0, 5n, 0x11n)).status, ScsiStatus.ReservationConflict);
  good(await prout(unit, A, Sa.Register, 0, 0n, 0n));
  assert.equal(unit.state.reservations.generation, 0);
  good(await prout(unit, A, Sa.Register, 0, 0n, 0x11n));
  // Re-registering through REGISTER needs the current key (libiscsi prout_reregister_key_fails).
  assert.equal((await prout(unit, A, Sa.Register, 0, 0n, 0x12n)).status, ScsiStatus.ReservationConflict);
  good(await prout(unit, A, Sa.Register, 0, 0x11n, 0x12n));
  good(await prout(unit, A, Sa.Register, 0, 0x12n, 0n));
  assert.equal(hex((await prin(unit, A, 0)).dataIn), '0000000300000000');
});

test('REGISTER refuses SPEC_I_P, ALL_TG_PT and APTPL (SIP_C, ATP_C, PTPL_C are 0) and short lists', async () => {
  const unit = makeUnit();
  assert.equal(hex((await prout(unit, A, Sa.Register, 0, 0n, 1n, 0x08)).sense), '700005000000000a000000002600008b0014');
  assert.equal(hex((await prout(unit, A, Sa.Register, 0, 0n, 1n, 0x04)).sense), '700005000000000a000000002600008a0014');
  assert.equal(hex((await prout(unit, A, Sa.RegisterIgnore, 0, 0n, 1n, 0x01)).sense), '700005000000000a00000000260000880014');
  const short = await runFrom(A, unit, cdb(0x5f, 0, 0, 0, 0, 0, 0, 0, 20), Buffer.alloc(20));
  assert.deepEqual(senseOf(short), { key: 5, asc: 0x1a, ascq: 0 });
  assert.equal(unit.state.reservations.registrations.size, 0);
});

test('REPORT CAPABILITIES: CRH, TMV + ALLOW COMMANDS 001b, all six types, no PTPL/SIP/ATP', async () => {
  assert.equal(hex((await prin(makeUnit(), A, 2)).dataIn), '00081090ea010000');
});

test('RESERVE and READ RESERVATION; holder may re-reserve the same type only; RELEASE', async () => {
  const unit = makeUnit();
  good(await prout(unit, A, Sa.RegisterIgnore, 0, 0n, 0xa1n));
  assert.equal((await prout(unit, B, Sa.Reserve, PrType.WriteExclusive, 0n, 0n)).status, ScsiStatus.ReservationConflict);
  assert.equal((await prout(unit, A, Sa.Reserve, PrType.WriteExclusive, 0xa2n, 0n)).status, ScsiStatus.ReservationConflict);
  good(await prout(unit, A, Sa.Reserve, PrType.WriteExclusive, 0xa1n, 0n));
  good(await prout(unit, A, Sa.Reserve, PrType.WriteExclusive, 0xa1n, 0n));
  assert.equal((await prout(unit, A, Sa.Reserve, PrType.ExclusiveAccess, 0xa1n, 0n)).status, ScsiStatus.ReservationConflict);
  assert.equal(hex((await prin(unit, B, 1)).dataIn), '00000001' + '00000010' + '00000000000000a1' + '00000000' + '00' + '01' + '0000');
  // RELEASE with another type: INVALID RELEASE OF PERSISTENT RESERVATION.
  assert.deepEqual(senseOf(await prout(unit, A, Sa.Release, PrType.ExclusiveAccess, 0xa1n, 0n)), { key: 5, asc: 0x26, ascq: 0x04 });
  // Bad scope or type: INVALID FIELD IN CDB.
  assert.deepEqual(senseOf(await prout(unit, A, Sa.Release, 0x11, 0xa1n, 0n)), { key: 5, asc: 0x24, ascq: 0 });
  assert.deepEqual(senseOf(await prout(unit, A, Sa.Release, 0x02, 0xa1n, 0n)), { key: 5, asc: 0x24, ascq: 0 });
  good(await prout(unit, A, Sa.Release, PrType.WriteExclusive, 0xa1n, 0n));
  assert.equal(hex((await prin(unit, B, 1)).dataIn), '0000000100000000');
  assert.equal(unit.state.reservations.reservation, null);
});

/** [type, registered B reads, registered B writes, unregistered B reads, unregistered B writes]: libiscsi ProutReserve.Access*. */
const ACCESS: readonly [string, number, boolean, boolean, boolean, boolean][] = [
  ['EA', PrType.ExclusiveAccess, false, false, false, false],
  ['WE', PrType.WriteExclusive, true, false, true, false],
  ['EA_RO', PrType.ExclusiveAccessRegistrantsOnly, true, true, false, false],
  ['WE_RO', PrType.WriteExclusiveRegistrantsOnly, true, true, true, false],
  ['EA_AR', PrType.ExclusiveAccessAllRegistrants, true, true, false, false],
  ['WE_AR', PrType.WriteExclusiveAllRegistrants, true, true, true, false],
];

const statusFor = (allowed: boolean): number => (allowed ? ScsiStatus.Good : ScsiStatus.ReservationConflict);

for (const [name, type, regRead, regWrite, unregRead, unregWrite] of ACCESS) {
  test(`access under ${name}: holder all, others per SPC-4 Table 63; TEST UNIT READY and INQUIRY pass`, async () => {
    const unit = makeUnit();
    good(await prout(unit, A, Sa.RegisterIgnore, 0, 0n, 1n));
    good(await prout(unit, B, Sa.RegisterIgnore, 0, 0n, 2n));
    good(await prout(unit, A, Sa.Reserve, type, 1n, 0n));
    good(await read1(unit, A));
    good(await write1(unit, A));
    assert.equal((await read1(unit, B)).status, statusFor(regRead));
    assert.equal((await write1(unit, B)).status, statusFor(regWrite));
    good(await prout(unit, B, Sa.Register, 0, 2n, 0n));
    assert.equal((await read1(unit, B)).status, statusFor(unregRead));
    assert.equal((await write1(unit, B)).status, statusFor(unregWrite));
    assert.equal((await read1(unit, A2)).status, statusFor(unregRead), 'same name, other ISID: another nexus');
    good(await runFrom(B, unit, cdb(0x00)));
    good(await runFrom(B, unit, cdb(0x12, 0, 0, 0, 0x24)));
    good(await prin(unit, B, 0));
  });
}

test('ownership: unregistering the holder releases WE/EA, All Registrants lasts while registrants remain', async () => {
  const unit = makeUnit();
  good(await prout(unit, A, Sa.RegisterIgnore, 0, 0n, 1n));
  good(await prout(unit, B, Sa.RegisterIgnore, 0, 0n, 2n));
  good(await prout(unit, A, Sa.Reserve, PrType.ExclusiveAccess, 1n, 0n));
  good(await prout(unit, A, Sa.Register, 0, 1n, 0n));
  assert.equal(unit.state.reservations.reservation, null);
  good(await prout(unit, A, Sa.RegisterIgnore, 0, 0n, 1n));
  good(await prout(unit, A, Sa.Reserve, PrType.WriteExclusiveAllRegistrants, 1n, 0n));
  good(await prout(unit, A, Sa.Register, 0, 1n, 0n));
  // Still reserved, key 0 for All Registrants (SPC-4 6.13.3.3); B is a holder and may release.
  assert.equal(hex((await prin(unit, A, 1)).dataIn).slice(8), '00000010' + '0000000000000000' + '00000000' + '00' + '07' + '0000');
  good(await prout(unit, B, Sa.Release, PrType.WriteExclusiveAllRegistrants, 2n, 0n));
  assert.equal(unit.state.reservations.reservation, null);
});

test('READ FULL STATUS: one descriptor per registration, holder flagged, iSCSI TransportIDs', async () => {
  const unit = makeUnit();
  good(await prout(unit, A, Sa.RegisterIgnore, 0, 0n, 0x0an));
  good(await prout(unit, B, Sa.RegisterIgnore, 0, 0n, 0x0bn));
  good(await prout(unit, B, Sa.Reserve, PrType.WriteExclusiveRegistrantsOnly, 0x0bn, 0n));
  const tidA = encodeTransportId(A);
  const tidB = encodeTransportId(B);
  assert.equal(hex(tidA), '45000024' + Buffer.from('iqn.2026-01.test:a,i,0x23d000000001').toString('hex') + '00'.repeat(36 - 35));
  const descriptor = (key: string, holder: string, tid: Buffer): string => key + '00000000' + holder + '00000000' + '0001' + tid.length.toString(16).padStart(8, '0') + hex(tid);
  const body = descriptor('000000000000000a', '0000', tidA) + descriptor('000000000000000b', '0105', tidB);
  assert.equal(hex((await prin(unit, A, 3)).dataIn), '00000002' + (body.length / 2).toString(16).padStart(8, '0') + body);
});

test('CLEAR drops every registration and the reservation; bumps the generation', async () => {
  const unit = makeUnit();
  good(await prout(unit, A, Sa.RegisterIgnore, 0, 0n, 1n));
  good(await prout(unit, B, Sa.RegisterIgnore, 0, 0n, 2n));
  good(await prout(unit, A, Sa.Reserve, PrType.ExclusiveAccess, 1n, 0n));
  assert.equal((await prout(unit, B, Sa.Clear, 0, 1n, 0n)).status, ScsiStatus.ReservationConflict);
  good(await prout(unit, B, Sa.Clear, 0, 2n, 0n));
  assert.equal(hex((await prin(unit, A, 0)).dataIn), '0000000300000000');
  good(await read1(unit, B));
});

test('PREEMPT: removes a registration without a reservation; takes the reservation from its holder', async () => {
  const unit = makeUnit();
  good(await prout(unit, A, Sa.RegisterIgnore, 0, 0n, 1n));
  good(await prout(unit, B, Sa.RegisterIgnore, 0, 0n, 2n));
  good(await prout(unit, B, Sa.Preempt, PrType.ExclusiveAccess, 2n, 1n)); // libiscsi ProutPreempt.RemoveRegistration
  assert.equal(hex((await prin(unit, A, 0)).dataIn), '00000003' + '00000008' + '0000000000000002');
  assert.equal(unit.state.reservations.reservation, null);
  assert.equal((await prout(unit, B, Sa.Preempt, PrType.ExclusiveAccess, 2n, 7n)).status, ScsiStatus.ReservationConflict);
  assert.deepEqual(senseOf(await prout(unit, B, Sa.Preempt, PrType.ExclusiveAccess, 2n, 0n)), { key: 5, asc: 0x26, ascq: 0 });

  good(await prout(unit, A, Sa.RegisterIgnore, 0, 0n, 1n));
  good(await prout(unit, A, Sa.Reserve, PrType.WriteExclusive, 1n, 0n));
  good(await prout(unit, B, Sa.PreemptAndAbort, PrType.ExclusiveAccess, 2n, 1n));
  assert.equal(hex((await prin(unit, A, 1)).dataIn).slice(8), '00000010' + '0000000000000002' + '00000000' + '00' + '03' + '0000');
  assert.equal((await read1(unit, A)).status, ScsiStatus.ReservationConflict);
});

test('PREEMPT of an All Registrants reservation with key 0 keeps only the preempter', async () => {
  const unit = makeUnit();
  for (const [who, key] of [[A, 1n], [B, 2n], [A2, 3n]] as const) good(await prout(unit, who, Sa.RegisterIgnore, 0, 0n, key));
  good(await prout(unit, A, Sa.Reserve, PrType.ExclusiveAccessAllRegistrants, 1n, 0n));
  good(await prout(unit, B, Sa.Preempt, PrType.WriteExclusive, 2n, 0n));
  assert.equal(hex((await prin(unit, A, 0)).dataIn).slice(8), '00000008' + '0000000000000002');
  assert.equal(hex((await prin(unit, A, 1)).dataIn).slice(8), '00000010' + '0000000000000002' + '00000000' + '00' + '01' + '0000');
});
