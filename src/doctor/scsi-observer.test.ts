import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BlockLogicalUnit } from '../scsi/logical-unit.ts';
import { LunTable } from '../scsi/target-device.ts';
import { ScsiStatus, type InitiatorPort, type ScsiResponse, type ScsiTargetDevice } from '../scsi/types.ts';
import { MemoryDevice } from '../storage/memory-device.ts';
import { mbrSector } from './test-disk-images.ts';
import { ObservedTargetDirectory, readsLba0, type ScsiObservation } from './scsi-observer.ts';

const TARGET = 'iqn.2026-11.org.example:pc1';
const A: InitiatorPort = { name: 'iqn.x:a', portId: ',i,0x400001370000' };
const cdb = (...bytes: number[]): Buffer => Buffer.concat([Buffer.from(bytes), Buffer.alloc(16 - bytes.length)]);
const READ10_LBA0 = cdb(0x28, 0, 0, 0, 0, 0, 0, 0, 2, 0);
const WRITE10_LBA8 = cdb(0x2a, 0, 0, 0, 0, 8, 0, 0, 1, 0);

function exec(device: ScsiTargetDevice, lun: number, command: Buffer, initiator: InitiatorPort | undefined, dataOut: Buffer | null = null): Promise<ScsiResponse> {
  return new Promise((resolve) => device.execute(lun, { cdb: command, dataOut, expectedDataInLength: dataOut === null ? 1024 : 0, ...(initiator !== undefined ? { initiator } : {}) }, resolve));
}

function setup(): { device: ScsiTargetDevice; seen: ScsiObservation[]; memory: MemoryDevice } {
  const memory = new MemoryDevice({ sizeBytes: 1024 * 1024 });
  mbrSector([0x83]).copy(memory.data);
  const directory = new ObservedTargetDirectory();
  const seen: ScsiObservation[] = [];
  directory.subscribe((o) => seen.push(o));
  directory.add({ name: TARGET, alias: null, device: new LunTable([[0, new BlockLogicalUnit(memory)]]), chap: null, mutualChap: null, allowedInitiators: null });
  const device = directory.get(TARGET)?.device;
  assert.ok(device !== undefined);
  return { device, seen, memory };
}

test('READ at LBA 0 in each CDB size, and nothing else', () => {
  assert.equal(readsLba0(READ10_LBA0), true);
  assert.equal(readsLba0(cdb(0x08, 0, 0, 0, 1, 0)), true);
  assert.equal(readsLba0(cdb(0x88, ...Buffer.alloc(8), 0, 0, 0, 1)), true);
  assert.equal(readsLba0(cdb(0x28, 0, 0, 0, 0, 1, 0, 0, 1, 0)), false);
  assert.equal(readsLba0(WRITE10_LBA8), false);
});

test('per session: the first block read (a copy), the first write, a missing LUN once; the data passes unchanged', async () => {
  const { device, seen, memory } = setup();
  const first = await exec(device, 0, READ10_LBA0, A);
  assert.equal(first.status, ScsiStatus.Good);
  assert.deepEqual(first.dataIn, memory.data.subarray(0, 1024));
  await exec(device, 0, READ10_LBA0, A);
  await exec(device, 0, WRITE10_LBA8, A, Buffer.alloc(512, 1));
  await exec(device, 0, WRITE10_LBA8, A, Buffer.alloc(512, 2));
  await exec(device, 2, cdb(0x12, 0, 0, 0, 36, 0), A);
  await exec(device, 2, cdb(0x25), A);
  await exec(device, 5, cdb(0xa0, 0, 0, 0, 0, 0, 0, 0, 1, 0), A);
  assert.deepEqual(
    seen.map((o) => [o.kind, o.lun, o.initiator, o.isid]),
    [
      ['first-block', 0, 'iqn.x:a', '400001370000'],
      ['first-write', 0, 'iqn.x:a', '400001370000'],
      ['missing-lun', 2, 'iqn.x:a', '400001370000'],
    ],
    'REPORT LUNS may go to any LUN',
  );
  const block = seen[0]?.kind === 'first-block' ? seen[0].block : null;
  assert.deepEqual(block, memory.data.subarray(0, 1024));
  first.dataIn?.fill(0xff); // the transport reuses its buffers once done
  assert.deepEqual(block, memory.data.subarray(0, 1024), 'the observer kept a copy');
});

test('a new session (the nexus was lost) is watched afresh; internal callers are not watched', async () => {
  const { device, seen } = setup();
  await exec(device, 0, READ10_LBA0, A);
  device.nexusLost?.(A);
  await exec(device, 0, READ10_LBA0, A);
  await exec(device, 0, READ10_LBA0, undefined);
  assert.equal(seen.filter((o) => o.kind === 'first-block').length, 2);
  assert.equal(device.hasLun(0), true);
  assert.equal(device.hasLun(1), false);
});
