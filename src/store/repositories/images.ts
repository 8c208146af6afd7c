// Golden images: read-only base files, versioned per name. Machines' disks are copy-on-write
// overlays of one version; a new version (imported, or promoted from a machine's disk) leaves
// the old ones in place until no disk uses them.
import type { Kysely } from 'kysely';
import { z } from 'zod';
import { StoreError, StoreErrorCode, isUniqueViolation } from '../errors.ts';
import type { Database, ImageRow } from '../schema.ts';
import { diskName } from './disks.ts';
import { parseInput } from './validate.ts';

export const newImage = z.object({
  name: diskName,
  path: z.string().min(1, 'an image needs the path of its base file'),
  sizeBytes: z.number().int().min(512).max(Number.MAX_SAFE_INTEGER),
  source: z.string().max(1000).nullable().default(null),
});

export interface Image {
  readonly id: number;
  readonly name: string;
  readonly version: number;
  readonly path: string;
  readonly sizeBytes: number;
  readonly source: string | null;
  readonly createdAtMs: number;
  /** Disks that overlay this version. */
  readonly disks: readonly string[];
}

export interface NewImage {
  readonly name: string;
  readonly path: string;
  readonly sizeBytes: number;
  readonly source?: string | null;
}

type Db = Kysely<Database>;

export class ImageRepository {
  readonly #db: Db;
  readonly #nowMs: () => number;

  constructor(db: Db, nowMs: () => number) {
    this.#db = db;
    this.#nowMs = nowMs;
  }

  /** The version number the next add() of this name will get. */
  async nextVersion(name: string): Promise<number> {
    const row = await this.#db.selectFrom('images').select((eb) => eb.fn.max('version').as('v')).where('name', '=', name).executeTakeFirst();
    return Number(row?.v ?? 0) + 1;
  }

  /** Adds the next version of `name` (1 for a new name). */
  async add(input: NewImage, version?: number): Promise<Image> {
    const i = parseInput(newImage, input, 'image');
    try {
      return await this.#db.transaction().execute(async (trx) => {
        const v = version ?? (await new ImageRepository(trx, this.#nowMs).nextVersion(i.name));
        const row = await trx
          .insertInto('images')
          .values({ name: i.name, version: v, path: i.path, size_bytes: i.sizeBytes, source: i.source, created_at: this.#nowMs() })
          .returningAll()
          .executeTakeFirstOrThrow();
        return toImage(row, []);
      });
    } catch (err) {
      if (isUniqueViolation(err)) throw new StoreError(StoreErrorCode.DuplicateName, `image ${i.name} already has that version; run \`diskless image list\` and try again`);
      throw err;
    }
  }

  /** Every version of every image, newest version first within a name. */
  async list(): Promise<Image[]> {
    const rows = await this.#db.selectFrom('images').selectAll().orderBy('name').orderBy('version', 'desc').execute();
    const users = await this.#users();
    return rows.map((r) => toImage(r, users.get(Number(r.id)) ?? []));
  }

  /** A version of an image (default: the newest). */
  async get(name: string, version?: number): Promise<Image | undefined> {
    let q = this.#db.selectFrom('images').selectAll().where('name', '=', name);
    q = version === undefined ? q.orderBy('version', 'desc').limit(1) : q.where('version', '=', version);
    const row = await q.executeTakeFirst();
    if (row === undefined) return undefined;
    return toImage(row, (await this.#users()).get(Number(row.id)) ?? []);
  }

  async byId(id: number): Promise<Image | undefined> {
    const row = await this.#db.selectFrom('images').selectAll().where('id', '=', id).executeTakeFirst();
    if (row === undefined) return undefined;
    return toImage(row, (await this.#users()).get(id) ?? []);
  }

  /** Removes one version; refused while a disk overlays it. */
  async remove(name: string, version: number): Promise<Image> {
    return this.#db.transaction().execute(async (trx) => {
      const row = await trx.selectFrom('images').selectAll().where('name', '=', name).where('version', '=', version).executeTakeFirst();
      if (row === undefined) throw new StoreError(StoreErrorCode.NotFound, `no image ${name} version ${version}; \`diskless image list\` shows them`);
      const users = await trx.selectFrom('disks').select('name').where('image_id', '=', row.id).execute();
      const snapshots = await trx
        .selectFrom('disk_snapshots')
        .innerJoin('disks', 'disks.id', 'disk_snapshots.disk_id')
        .select(['disks.name as disk', 'disk_snapshots.name as snapshot'])
        .where('disk_snapshots.image_id', '=', row.id)
        .orderBy('disks.name')
        .orderBy('disk_snapshots.id')
        .execute();
      if (users.length === 0 && snapshots.length > 0) {
        throw new StoreError(
          StoreErrorCode.InUse,
          `image ${name} version ${version} is under snapshots ${snapshots.map((s) => `${s.disk}@${s.snapshot}`).join(', ')}; remove them first (\`diskless disk snapshot rm DISK SNAPSHOT\`)`,
        );
      }
      if (users.length > 0) {
        throw new StoreError(
          StoreErrorCode.InUse,
          `image ${name} version ${version} is the base of ${users.map((u) => u.name).join(', ')}; move them to another version first (\`diskless disk set DISK --to N\`)`,
        );
      }
      await trx.deleteFrom('images').where('id', '=', row.id).execute();
      return toImage(row, []);
    });
  }

  async #users(): Promise<Map<number, string[]>> {
    const rows = await this.#db.selectFrom('disks').select(['name', 'image_id']).where('image_id', 'is not', null).orderBy('name').execute();
    const out = new Map<number, string[]>();
    for (const r of rows) {
      const id = Number(r.image_id);
      out.set(id, [...(out.get(id) ?? []), r.name]);
    }
    return out;
  }
}

function toImage(row: ImageRow, disks: readonly string[]): Image {
  return {
    id: Number(row.id),
    name: row.name,
    version: Number(row.version),
    path: row.path,
    sizeBytes: Number(row.size_bytes),
    source: row.source,
    createdAtMs: Number(row.created_at),
    disks,
  };
}
