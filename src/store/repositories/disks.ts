// Disks: named backing files that targets export as LUNs. A disk used by a LUN cannot be
// removed (the foreign key refuses too; the check here says which target to change first).
import type { Kysely } from 'kysely';
import { z } from 'zod';
import { StoreError, StoreErrorCode, isUniqueViolation } from '../errors.ts';
import type { Database, DiskRow } from '../schema.ts';
import { fromFlag, parseInput, stripUndefined, toFlag } from './validate.ts';

export const diskName = z.string().min(1).max(63).regex(/^[A-Za-z0-9._-]+$/, 'disk names use letters, digits, ., - and _');

export const newDisk = z.object({
  name: diskName,
  path: z.string().min(1, 'a disk needs the path of its backing file'),
  // Whole bytes, and exact as a JS number (2^53 bytes is 8 PiB).
  sizeBytes: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER),
  readOnly: z.boolean().default(false),
  imageId: z.number().int().min(1).nullable().default(null),
  mode: z.enum(['persistent', 'discard-on-reboot']).default('persistent'),
});
export const diskPatch = newDisk
  .omit({ readOnly: true, imageId: true, mode: true })
  .extend({ readOnly: z.boolean(), imageId: z.number().int().min(1).nullable(), mode: z.enum(['persistent', 'discard-on-reboot']) })
  .partial();

export interface Disk {
  readonly id: number;
  readonly name: string;
  readonly path: string;
  readonly sizeBytes: number;
  readonly readOnly: boolean;
  /** The golden image version this disk overlays; null: a plain disk. */
  readonly imageId: number | null;
  /** Overlays only: keep changes across boots, or start clean at every boot. */
  readonly mode: DiskMode;
  readonly createdAtMs: number;
}

export type DiskMode = 'persistent' | 'discard-on-reboot';

export interface NewDisk {
  readonly name: string;
  readonly path: string;
  readonly sizeBytes: number;
  readonly readOnly?: boolean;
  readonly imageId?: number | null;
  readonly mode?: DiskMode;
}

export type DiskPatch = { readonly [K in keyof NewDisk]?: NewDisk[K] | undefined };

export class DiskRepository {
  readonly #db: Kysely<Database>;
  readonly #nowMs: () => number;

  constructor(db: Kysely<Database>, nowMs: () => number) {
    this.#db = db;
    this.#nowMs = nowMs;
  }

  async add(input: NewDisk): Promise<Disk> {
    const d = parseInput(newDisk, input, 'disk');
    return mapUnique(d.name, () =>
      this.#db.transaction().execute(async (trx) => {
        await checkFree(trx, d.name, null);
        const row = await trx
          .insertInto('disks')
          .values({ name: d.name, path: d.path, size_bytes: d.sizeBytes, read_only: toFlag(d.readOnly), image_id: d.imageId, mode: d.mode, created_at: this.#nowMs() })
          .returningAll()
          .executeTakeFirstOrThrow();
        return toDisk(row);
      }),
    );
  }

  async list(): Promise<Disk[]> {
    return (await this.#db.selectFrom('disks').selectAll().orderBy('name').execute()).map(toDisk);
  }

  async get(name: string): Promise<Disk | undefined> {
    const row = await this.#db.selectFrom('disks').selectAll().where('name', '=', name).executeTakeFirst();
    return row === undefined ? undefined : toDisk(row);
  }

  async update(name: string, patch: DiskPatch): Promise<Disk> {
    const p = parseInput(diskPatch, stripUndefined(patch), 'disk change');
    return mapUnique(p.name ?? name, () =>
      this.#db.transaction().execute(async (trx) => {
        const current = await trx.selectFrom('disks').selectAll().where('name', '=', name).executeTakeFirst();
        if (current === undefined) throw notFound(name);
        if (p.name !== undefined) await checkFree(trx, p.name, current.id);
        const row = await trx
          .updateTable('disks')
          .set({
            ...(p.name !== undefined ? { name: p.name } : {}),
            ...(p.path !== undefined ? { path: p.path } : {}),
            ...(p.sizeBytes !== undefined ? { size_bytes: p.sizeBytes } : {}),
            ...(p.readOnly !== undefined ? { read_only: toFlag(p.readOnly) } : {}),
            ...(p.imageId !== undefined ? { image_id: p.imageId } : {}),
            ...(p.mode !== undefined ? { mode: p.mode } : {}),
          })
          .where('id', '=', current.id)
          .returningAll()
          .executeTakeFirstOrThrow();
        return toDisk(row);
      }),
    );
  }

  async remove(name: string): Promise<Disk> {
    return this.#db.transaction().execute(async (trx) => {
      const current = await trx.selectFrom('disks').selectAll().where('name', '=', name).executeTakeFirst();
      if (current === undefined) throw notFound(name);
      const use = await trx
        .selectFrom('luns')
        .innerJoin('targets', 'targets.id', 'luns.target_id')
        .select(['targets.iqn', 'luns.lun'])
        .where('luns.disk_id', '=', current.id)
        .orderBy('targets.iqn')
        .executeTakeFirst();
      if (use !== undefined) {
        throw new StoreError(
          StoreErrorCode.InUse,
          `disk ${name} is LUN ${use.lun} of target ${use.iqn}; remove it there first with \`diskless target lun rm ${use.iqn} ${use.lun}\``,
        );
      }
      // Snapshots go with their disk (the foreign key cascades too; this also holds for a
      // SQLite opened without foreign_keys=ON).
      await trx.deleteFrom('disk_snapshots').where('disk_id', '=', current.id).execute();
      await trx.deleteFrom('disks').where('id', '=', current.id).execute();
      return toDisk(current);
    });
  }
}

type Reader = Pick<Kysely<Database>, 'selectFrom'>;

async function checkFree(db: Reader, name: string, selfId: number | null): Promise<void> {
  const other = await db.selectFrom('disks').select(['id', 'path']).where('name', '=', name).executeTakeFirst();
  if (other !== undefined && other.id !== selfId) {
    throw new StoreError(StoreErrorCode.DuplicateName, `a disk named ${name} already exists (${other.path}); pick another name, or \`diskless disk rm ${name}\` first`);
  }
}

async function mapUnique<R>(name: string, body: () => Promise<R>): Promise<R> {
  try {
    return await body();
  } catch (err) {
    if (!isUniqueViolation(err)) throw err;
    throw new StoreError(StoreErrorCode.DuplicateName, `another disk named ${name} was just saved; run \`diskless disk list\` and try again`);
  }
}

function notFound(name: string): StoreError {
  return new StoreError(StoreErrorCode.NotFound, `no disk named ${name}; \`diskless disk list\` shows the disks`);
}

function toDisk(row: DiskRow): Disk {
  return {
    id: Number(row.id),
    name: row.name,
    path: row.path,
    sizeBytes: Number(row.size_bytes),
    readOnly: fromFlag(row.read_only),
    imageId: row.image_id === null ? null : Number(row.image_id),
    mode: row.mode === 'discard-on-reboot' ? 'discard-on-reboot' : 'persistent',
    createdAtMs: Number(row.created_at),
  };
}
