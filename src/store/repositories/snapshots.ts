// Snapshots of copy-on-write disks: a name per disk, the frozen overlay file and the image
// version it belongs to. Files are made and removed by targets/disk-snapshots.ts; rows here.
import type { Kysely } from 'kysely';
import { z } from 'zod';
import { StoreError, StoreErrorCode, isUniqueViolation } from '../errors.ts';
import type { Database, DiskSnapshotRow } from '../schema.ts';
import { diskName } from './disks.ts';
import { parseInput } from './validate.ts';

export const snapshotName = diskName;

export const newSnapshot = z.object({
  disk: diskName,
  name: snapshotName,
  path: z.string().min(1),
  imageId: z.number().int().min(1),
  sizeBytes: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER),
});

export interface DiskSnapshot {
  readonly id: number;
  readonly disk: string;
  readonly name: string;
  readonly path: string;
  readonly imageId: number;
  /** Bytes the snapshot's file holds (what the machine had changed then). */
  readonly sizeBytes: number;
  readonly createdAtMs: number;
}

export type NewDiskSnapshot = z.input<typeof newSnapshot>;

type Db = Kysely<Database>;

export class SnapshotRepository {
  readonly #db: Db;
  readonly #nowMs: () => number;

  constructor(db: Db, nowMs: () => number) {
    this.#db = db;
    this.#nowMs = nowMs;
  }

  async add(input: NewDiskSnapshot): Promise<DiskSnapshot> {
    const s = parseInput(newSnapshot, input, 'snapshot');
    try {
      return await this.#db.transaction().execute(async (trx) => {
        const disk = await trx.selectFrom('disks').select(['id', 'name']).where('name', '=', s.disk).executeTakeFirst();
        if (disk === undefined) throw new StoreError(StoreErrorCode.NotFound, `no disk named ${s.disk}; \`diskless disk list\` shows the disks`);
        const row = await trx
          .insertInto('disk_snapshots')
          .values({ disk_id: disk.id, name: s.name, path: s.path, image_id: s.imageId, size_bytes: s.sizeBytes, created_at: this.#nowMs() })
          .returningAll()
          .executeTakeFirstOrThrow();
        return toSnapshot(row, disk.name);
      });
    } catch (err) {
      if (isUniqueViolation(err)) throw new StoreError(StoreErrorCode.DuplicateName, `disk ${s.disk} already has a snapshot named ${s.name}; pick another name or remove that one first`);
      throw err;
    }
  }

  /** The snapshots of one disk (oldest first), or of every disk. */
  async list(disk?: string): Promise<DiskSnapshot[]> {
    let q = this.#db.selectFrom('disk_snapshots').innerJoin('disks', 'disks.id', 'disk_snapshots.disk_id').selectAll('disk_snapshots').select('disks.name as disk_name');
    if (disk !== undefined) q = q.where('disks.name', '=', disk);
    const rows = await q.orderBy('disks.name').orderBy('disk_snapshots.created_at').orderBy('disk_snapshots.id').execute();
    return rows.map((r) => toSnapshot(r, r.disk_name));
  }

  async get(disk: string, name: string): Promise<DiskSnapshot | undefined> {
    return (await this.list(disk)).find((s) => s.name === name);
  }

  async remove(disk: string, name: string): Promise<DiskSnapshot> {
    const found = await this.get(disk, name);
    if (found === undefined) throw new StoreError(StoreErrorCode.NotFound, `disk ${disk} has no snapshot named ${name}; \`diskless disk snapshot list ${disk}\` shows them`);
    await this.#db.deleteFrom('disk_snapshots').where('id', '=', found.id).execute();
    return found;
  }
}

function toSnapshot(row: DiskSnapshotRow, disk: string): DiskSnapshot {
  return {
    id: Number(row.id),
    disk,
    name: row.name,
    path: row.path,
    imageId: Number(row.image_id),
    sizeBytes: Number(row.size_bytes),
    createdAtMs: Number(row.created_at),
  };
}
