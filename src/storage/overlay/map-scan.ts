// Reads an overlay file's header and map and checks them as a whole: every entry well formed,
// every data slot inside the file, no slot mapped by two clusters. openOverlayDevice refuses a
// file with any problem; checkOverlay reports them.
import fs from 'node:fs';
import { promisify } from 'node:util';
import { DecodeError } from '../../lib/errors.ts';
import { ClusterMap, STATE_BASE, STATE_SLOT_BASE, STATE_ZERO } from './cluster-map.ts';
import { ENTRIES_PER_PAGE, HEADER_BYTES, MAP_ENTRY_BYTES, MAP_PAGE_BYTES, type OverlayHeader, decodeEntry, decodeHeader } from './overlay-format.ts';

const readFd = promisify(fs.read);
const fstat = promisify(fs.fstat);
/** The map is read this many bytes at a time. */
const MAP_READ_BYTES = 1024 * 1024;
const ZERO_PAGE = Buffer.alloc(MAP_PAGE_BYTES);
/** A report lists this many problems; the count covers them all. */
const MAX_LISTED_PROBLEMS = 50;

export interface MapScan {
  readonly header: OverlayHeader;
  readonly map: ClusterMap;
  readonly fileSizeBytes: number;
  /** Complete slots the file holds: (file size − data offset) / cluster size. */
  readonly slotCapacity: number;
  /** used[slot] = 1 for every slot a valid entry maps. */
  readonly used: Uint8Array;
  /** One past the highest mapped slot (0 when none). */
  readonly slotsInUse: number;
  readonly problems: readonly string[];
  readonly problemCount: number;
}

/** Reads exactly `length` bytes (zeros past end of file). */
async function readAt(fd: number, length: number, position: number): Promise<Buffer> {
  const buffer = Buffer.alloc(length);
  let done = 0;
  while (done < length) {
    const { bytesRead } = await readFd(fd, buffer, done, length - done, position + done);
    if (bytesRead === 0) break;
    done += bytesRead;
  }
  return buffer;
}

/** The header alone; throws DecodeError when it is not a valid overlay header. */
export async function readHeader(fd: number): Promise<OverlayHeader> {
  return decodeHeader(await readAt(fd, HEADER_BYTES, 0));
}

export async function scanOverlay(fd: number): Promise<MapScan> {
  const header = await readHeader(fd);
  const fileSizeBytes = (await fstat(fd)).size;
  const problems: string[] = [];
  let problemCount = 0;
  const problem = (text: string): void => {
    problemCount++;
    if (problems.length < MAX_LISTED_PROBLEMS) problems.push(text);
  };
  if (fileSizeBytes < header.mapOffset) problem(`file is ${fileSizeBytes} bytes, shorter than its header`);
  const slotCapacity = Math.max(0, Math.floor((fileSizeBytes - header.dataOffset) / header.clusterBytes));
  const used = new Uint8Array(slotCapacity);
  const duplicated = new Set<number>();
  const map = new ClusterMap(header.clusterCount, header.mapOffset);
  let slotsInUse = 0;
  for (let chunkStart = 0; chunkStart < header.mapBytes; chunkStart += MAP_READ_BYTES) {
    const chunk = await readAt(fd, Math.min(MAP_READ_BYTES, header.mapBytes - chunkStart), header.mapOffset + chunkStart);
    for (let pageStart = 0; pageStart < chunk.length; pageStart += MAP_PAGE_BYTES) {
      const page = chunk.subarray(pageStart, pageStart + MAP_PAGE_BYTES);
      if (page.equals(ZERO_PAGE)) continue; // the common case: a page no write has touched
      const firstCluster = ((chunkStart + pageStart) / MAP_PAGE_BYTES) * ENTRIES_PER_PAGE;
      for (let i = 0; i < ENTRIES_PER_PAGE; i++) {
        const cluster = firstCluster + i;
        const at = i * MAP_ENTRY_BYTES;
        if (cluster >= header.clusterCount) {
          if (!page.subarray(at, at + MAP_ENTRY_BYTES).equals(ZERO_PAGE.subarray(0, MAP_ENTRY_BYTES))) problem(`map entry ${cluster} lies past the last cluster (${header.clusterCount - 1}) but is not zero`);
          continue;
        }
        let state: number;
        try {
          const entry = decodeEntry(page, at, cluster);
          state = entry.kind === 'base' ? STATE_BASE : entry.kind === 'zero' ? STATE_ZERO : entry.slot + STATE_SLOT_BASE;
        } catch (err) {
          if (!(err instanceof DecodeError)) throw err;
          problem(err.message);
          continue;
        }
        if (state >= STATE_SLOT_BASE) {
          const slot = state - STATE_SLOT_BASE;
          if (slot >= slotCapacity) {
            problem(`cluster ${cluster} maps slot ${slot} at byte ${header.dataOffset + slot * header.clusterBytes}, beyond the end of the file (${slotCapacity} complete slots)`);
            continue;
          }
          if (used[slot] === 1) duplicated.add(slot);
          used[slot] = 1;
          slotsInUse = Math.max(slotsInUse, slot + 1);
        }
        map.load(cluster, state);
      }
    }
  }
  if (duplicated.size > 0) {
    const owners = new Map<number, number[]>();
    map.forEachMapped((cluster, state) => {
      const slot = state - STATE_SLOT_BASE;
      if (duplicated.has(slot)) owners.set(slot, [...(owners.get(slot) ?? []), cluster]);
    });
    for (const [slot, clusters] of owners) problem(`slot ${slot} is mapped by ${clusters.length} clusters (${clusters.join(', ')})`);
  }
  return { header, map, fileSizeBytes, slotCapacity, used, slotsInUse, problems, problemCount };
}
