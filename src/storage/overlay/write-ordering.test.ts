// The ordering rules of docs/OVERLAY.md, checked on the recorded I/O of the overlay file, with
// data writes held back to open the windows a crash could hit:
//   1. a map entry reaches the file only after its data slot was written and synced;
//   2. a slot freed by a discard is written again only after the map entry that unmapped it
//      was written and synced;
//   3. until a write completes, readers see the old content (the map changes last).
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { after, test } from 'node:test';
import type { Done } from '../block-device.ts';
import { FileIo } from './file-io.ts';
import { scanOverlay } from './map-scan.ts';
import { OverlayDevice } from './overlay-device.ts';
import { createOverlay } from './overlay-files.ts';
import { decodeEntry, HEADER_BYTES, MAP_ENTRY_BYTES, type MapEntry, type OverlayHeader } from './overlay-format.ts';
import { SlotAllocator } from './slot-allocator.ts';
import { closeDevice, discardAt, flushDevice, makeBase, readAt, scratchDir, writeAt } from './test-kit.ts';

const scratch = scratchDir('overlay-ordering');
after(scratch.cleanup);
const CLUSTER = 4096;

type Event = { readonly kind: 'write'; readonly position: number; readonly bytes: Buffer } | { readonly kind: 'sync' };

/** Records every write and sync of the overlay file; can hold data-area writes back. */
class RecordingIo extends FileIo {
  readonly events: Event[] = [];
  holdData = false;
  private held: (() => void)[] = [];

  constructor(
    fd: number,
    private readonly dataOffset: number,
  ) {
    super(fd);
  }

  override write(source: Buffer, position: number, done: Done): void {
    const start = (): void => {
      this.events.push({ kind: 'write', position, bytes: Buffer.from(source) });
      super.write(source, position, done);
    };
    if (this.holdData && position >= this.dataOffset) this.held.push(start);
    else start();
  }

  override datasync(done: Done): void {
    this.events.push({ kind: 'sync' });
    super.datasync(done);
  }

  releaseHeld(): void {
    const held = this.held;
    this.held = [];
    for (const start of held) start();
  }

  /** The entry for `cluster` in a map write, if that write covered it. */
  static entryIn(event: Event, header: OverlayHeader, cluster: number): MapEntry | undefined {
    if (event.kind !== 'write' || event.position >= header.dataOffset) return undefined;
    const at = HEADER_BYTES + cluster * MAP_ENTRY_BYTES - event.position;
    if (at < 0 || at + MAP_ENTRY_BYTES > event.bytes.length) return undefined;
    return decodeEntry(event.bytes, at, cluster);
  }
}

async function setup(): Promise<{ device: OverlayDevice; io: RecordingIo; header: OverlayHeader; base: Buffer }> {
  const basePath = scratch.file('base.img');
  const overlayPath = scratch.file(`overlay-${Math.random().toString(16).slice(2)}.ovl`);
  const base = makeBase(basePath, 256 * 1024);
  await createOverlay(overlayPath, basePath, { clusterBytes: CLUSTER });
  const fd = fs.openSync(overlayPath, 'r+');
  const scan = await scanOverlay(fd);
  const io = new RecordingIo(fd, scan.header.dataOffset);
  const device = new OverlayDevice({ path: overlayPath, header: scan.header, overlay: io, base: new FileIo(fs.openSync(basePath, 'r')), map: scan.map, slots: new SlotAllocator(0, scan.used), readOnly: false });
  return { device, io, header: scan.header, base };
}

test('a flush during an unfinished allocating write does not map it; readers see the old data', async () => {
  const { device, io, header, base } = await setup();
  try {
    io.holdData = true;
    const writing = writeAt(device, Buffer.alloc(1024, 0xee), 5 * CLUSTER + 512);
    await new Promise((resolve) => setImmediate(resolve));
    assert.ok((await readAt(device, 5 * CLUSTER, CLUSTER)).equals(base.subarray(5 * CLUSTER, 6 * CLUSTER)), 'the old content until the write completes');
    await flushDevice(device);
    for (const event of io.events) assert.notDeepEqual(RecordingIo.entryIn(event, header, 5), { kind: 'data', slot: 0 }, 'no map entry for data not yet written');
    io.holdData = false;
    io.releaseHeld();
    await writing;
    io.events.length = 0;
    await flushDevice(device);
    // Now: sync (the data), then the map page with the entry, then sync (the map).
    const mapWrite = io.events.findIndex((event) => RecordingIo.entryIn(event, header, 5)?.kind === 'data');
    assert.ok(mapWrite > 0, 'the entry was written');
    assert.equal(io.events[0]?.kind, 'sync', 'data synced before the map write');
    assert.equal(io.events[mapWrite + 1]?.kind, 'sync', 'map synced after');
  } finally {
    io.holdData = false;
    io.releaseHeld(); // after a failed assertion, or close() would wait for the held write
    await closeDevice(device);
  }
});

test('a discarded slot is reused only after the entry that unmapped it is written and synced', async () => {
  const { device, io, header } = await setup();
  try {
    await writeAt(device, Buffer.alloc(CLUSTER, 1), 3 * CLUSTER); // cluster 3 in slot 0
    await flushDevice(device);
    await discardAt(device, 3 * CLUSTER, CLUSTER);
    await writeAt(device, Buffer.alloc(CLUSTER, 2), 7 * CLUSTER); // before a flush: a new slot
    assert.equal(device.spaceUsage().fileBytes, header.dataOffset + 2 * CLUSTER);
    io.events.length = 0;
    await flushDevice(device);
    await writeAt(device, Buffer.alloc(CLUSTER, 3), 9 * CLUSTER); // now slot 0 is reused
    const zeroed = io.events.findIndex((event) => RecordingIo.entryIn(event, header, 3)?.kind === 'zero');
    const reuse = io.events.findIndex((event) => event.kind === 'write' && event.position === header.dataOffset);
    assert.ok(zeroed >= 0 && reuse > zeroed, `cluster 3's zeroed entry (event ${zeroed}) precedes the reuse of its slot (event ${reuse})`);
    assert.ok(io.events.slice(zeroed + 1, reuse).some((event) => event.kind === 'sync'), 'with a sync between them');
    assert.equal(device.spaceUsage().fileBytes, header.dataOffset + 2 * CLUSTER, 'the slot was reused, the file did not grow');
  } finally {
    await closeDevice(device);
  }
});
