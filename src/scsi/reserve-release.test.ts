// RESERVE/RELEASE (SPC-2) semantics through BlockLogicalUnit and LunTable: per I_T nexus,
// released by RELEASE, LUN reset and nexus loss, and exclusive with persistent reservations
// (SPC-3 5.6.3). The rows are decoded from the table only once SPC2_RESERVATIONS_ENABLED; the
// commands are run here as decoded commands.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { MemoryDevice } from '../storage/memory-device.ts';
import type { ScsiCommand } from './command.ts';
import { BlockLogicalUnit } from './logical-unit.ts';
import { LunTable } from './target-device.ts';
import { cdb, runFrom } from './test-support.ts';
import { ScsiStatus } from './types.ts';
import type { InitiatorPort, ScsiResponse } from './types.ts';

const A: InitiatorPort = { name: 'iqn.2026-01.test:a', portId: ',i,0x000000000001' };
const B: InitiatorPort = { name: 'iqn.2026-01.test:b', portId: ',i,0x000000000002' };
const makeUnit = (): BlockLogicalUnit => new BlockLogicalUnit(new MemoryDevice({ sizeBytes: 64 * 512 }));

function exec(unit: BlockLogicalUnit, who: InitiatorPort, command: ScsiCommand): Promise<ScsiResponse> {
  return new Promise((resolve) => unit.executeCommand(command, { cdb: cdb(0x16), dataOut: null, expectedDataInLength: 0, initiator: who }, resolve));
}
const reserve = (unit: BlockLogicalUnit, who: InitiatorPort): Promise<number> => exec(unit, who, { kind: 'reserve' }).then((r) => r.status);
const release = (unit: BlockLogicalUnit, who: InitiatorPort): Promise<number> => exec(unit, who, { kind: 'release' }).then((r) => r.status);
const status = (unit: BlockLogicalUnit, who: InitiatorPort, bytes: Buffer, dataOut: Buffer | null = null): Promise<number> => runFrom(who, unit, bytes, dataOut).then((r) => r.status);

const { Good, ReservationConflict } = ScsiStatus;
const reservationKind = (unit: BlockLogicalUnit): string | undefined => unit.state.reservations.reservation?.kind;

test('RESERVE: the holder may reserve again; another nexus conflicts until RELEASE (libiscsi Reserve6.2Initiators)', async () => {
  const unit = makeUnit();
  assert.equal(await reserve(unit, A), Good);
  assert.equal(await reserve(unit, A), Good);
  assert.equal(await reserve(unit, B), ReservationConflict);
  assert.equal(await release(unit, B), Good, 'a RELEASE from a non-holder is a no-op');
  assert.equal(await status(unit, A, cdb(0x1a, 0, 0x3f, 0, 0xff)), Good);
  assert.equal(await status(unit, B, cdb(0x1a, 0, 0x3f, 0, 0xff)), ReservationConflict);
  assert.equal(await status(unit, B, cdb(0x28, 0, 0, 0, 0, 0, 0, 0, 1)), ReservationConflict);
  assert.equal(await status(unit, B, cdb(0x00)), ReservationConflict);
  assert.equal(await status(unit, B, cdb(0x12, 0, 0, 0, 0x24)), Good);
  assert.equal(await status(unit, B, cdb(0x03, 0, 0, 0, 0x12)), Good);
  // SPC-3 5.6.3: PERSISTENT RESERVE IN/OUT conflict whoever sends them.
  assert.equal(await status(unit, A, cdb(0x5e, 0, 0, 0, 0, 0, 0, 0, 8)), ReservationConflict);
  assert.equal(await release(unit, A), Good);
  assert.equal(await reserve(unit, B), Good);
  assert.equal(await status(unit, A, cdb(0x2a, 0, 0, 0, 0, 0, 0, 0, 1), Buffer.alloc(512)), ReservationConflict);
});

test('RESERVE and RELEASE conflict while persistent reservation registrations exist (SPC-3 5.6.3)', async () => {
  const unit = makeUnit();
  const register = Buffer.alloc(24);
  register.writeBigUInt64BE(7n, 8);
  assert.equal(await status(unit, A, cdb(0x5f, 0x06, 0, 0, 0, 0, 0, 0, 24), register), Good);
  assert.equal(await reserve(unit, B), ReservationConflict);
  assert.equal(await release(unit, A), ReservationConflict);
});

test('LUN reset and I_T nexus loss release SPC-2 reservations; persistent ones stay', async () => {
  const unit = makeUnit();
  const table = new LunTable([[0, unit]]);
  assert.equal(await reserve(unit, A), Good);
  table.nexusLost(B);
  assert.equal(await reserve(unit, B), ReservationConflict);
  table.nexusLost(A);
  assert.equal(await reserve(unit, B), Good);
  table.reset(0);
  assert.equal(await reserve(unit, A), Good);
  table.reset(null);
  assert.equal(reservationKind(unit), undefined);

  const register = Buffer.alloc(24);
  register.writeBigUInt64BE(7n, 8);
  assert.equal(await status(unit, A, cdb(0x5f, 0x06, 0, 0, 0, 0, 0, 0, 24), register), Good);
  const reserveEa = Buffer.alloc(24);
  reserveEa.writeBigUInt64BE(7n, 0);
  assert.equal(await status(unit, A, cdb(0x5f, 0x01, 0x03, 0, 0, 0, 0, 0, 24), reserveEa), Good);
  table.reset(null);
  table.nexusLost(A);
  assert.equal(reservationKind(unit), 'persistent');
  assert.equal(await status(unit, B, cdb(0x28, 0, 0, 0, 0, 0, 0, 0, 1)), ReservationConflict);
});
