// Targets and their LUNs: what the iSCSI portal exports, with per-target CHAP and an optional
// list of initiators allowed in. LUNs name disks; a target's LUNs are read and written with it.
import type { Kysely } from 'kysely';
import { z } from 'zod';
import { chapCredentials, iqn } from '../../config/schema.ts';
import { StoreError, StoreErrorCode, isUniqueViolation } from '../errors.ts';
import type { Database, TargetRow } from '../schema.ts';
import { Secret, toPublicCredentials, type Credentials, type PublicCredentials } from '../secret.ts';
import { fromFlag, parseInput, parseRowJson, stripUndefined, toFlag } from './validate.ts';

const lunNumber = z.number().int().min(0).max(16383);
export const lunInput = z.object({ lun: lunNumber, disk: z.string().min(1, 'a LUN names a disk'), readOnly: z.boolean().default(false) });
const initiatorList = z.array(z.string().min(1)).nullable();

export const newTarget = z.object({
  iqn,
  alias: z.string().max(255).nullable().default(null),
  chap: chapCredentials.nullable().default(null),
  mutualChap: chapCredentials.nullable().default(null),
  allowedInitiators: initiatorList.default(null),
  luns: z.array(lunInput).default([]),
});
export const targetPatch = z
  .object({ alias: z.string().max(255).nullable(), chap: chapCredentials.nullable(), mutualChap: chapCredentials.nullable(), allowedInitiators: initiatorList })
  .partial();

export interface Lun {
  readonly lun: number;
  /** The disk's name. */
  readonly disk: string;
  readonly diskId: number;
  readonly readOnly: boolean;
}

export interface Target {
  readonly id: number;
  readonly iqn: string;
  readonly alias: string | null;
  readonly chap: Credentials | null;
  readonly mutualChap: Credentials | null;
  /** Initiator IQNs allowed to log in; null: any. */
  readonly allowedInitiators: readonly string[] | null;
  /** By LUN number. */
  readonly luns: readonly Lun[];
}

export type PublicTarget = Omit<Target, 'chap' | 'mutualChap'> & { readonly chap: PublicCredentials | null; readonly mutualChap: PublicCredentials | null };

interface PlainCredentials {
  readonly user: string;
  readonly secret: string;
}

export interface NewLun {
  readonly lun: number;
  readonly disk: string;
  readonly readOnly?: boolean;
}

export interface NewTarget {
  readonly iqn: string;
  readonly alias?: string | null;
  readonly chap?: PlainCredentials | null;
  readonly mutualChap?: PlainCredentials | null;
  readonly allowedInitiators?: readonly string[] | null;
  readonly luns?: readonly NewLun[];
}

export interface TargetPatch {
  readonly alias?: string | null | undefined;
  readonly chap?: PlainCredentials | null | undefined;
  readonly mutualChap?: PlainCredentials | null | undefined;
  readonly allowedInitiators?: readonly string[] | null | undefined;
}

export function toPublicTarget(t: Target): PublicTarget {
  return { ...t, chap: toPublicCredentials(t.chap), mutualChap: toPublicCredentials(t.mutualChap) };
}

type Db = Kysely<Database>;

export class TargetRepository {
  readonly #db: Db;

  constructor(db: Db) {
    this.#db = db;
  }

  async add(input: NewTarget): Promise<Target> {
    const t = parseInput(newTarget, input, 'target');
    const seen = new Set<number>();
    for (const l of t.luns) {
      if (seen.has(l.lun)) throw new StoreError(StoreErrorCode.DuplicateLun, `target ${t.iqn} lists LUN ${l.lun} twice; give each disk its own LUN number`);
      seen.add(l.lun);
    }
    try {
      return await this.#db.transaction().execute(async (trx) => {
        const existing = await trx.selectFrom('targets').select('id').where('iqn', '=', t.iqn).executeTakeFirst();
        if (existing !== undefined) throw duplicateIqn(t.iqn);
        const row = await trx
          .insertInto('targets')
          .values({
            iqn: t.iqn,
            alias: t.alias,
            ...credentialColumns('chap', t.chap),
            ...credentialColumns('mutual_chap', t.mutualChap),
            allowed_initiators: t.allowedInitiators === null ? null : JSON.stringify(t.allowedInitiators),
          })
          .returning('id')
          .executeTakeFirstOrThrow();
        for (const l of t.luns) await insertLun(trx, t.iqn, Number(row.id), l);
        return loadTarget(trx, t.iqn);
      });
    } catch (err) {
      if (isUniqueViolation(err)) throw duplicateIqn(t.iqn);
      throw err;
    }
  }

  async list(): Promise<Target[]> {
    const rows = await this.#db.selectFrom('targets').selectAll().orderBy('iqn').execute();
    const luns = await lunsOf(this.#db, null);
    return rows.map((r) => toTarget(r, luns.get(Number(r.id)) ?? []));
  }

  async get(targetIqn: string): Promise<Target | undefined> {
    const row = await this.#db.selectFrom('targets').selectAll().where('iqn', '=', targetIqn).executeTakeFirst();
    if (row === undefined) return undefined;
    return toTarget(row, (await lunsOf(this.#db, Number(row.id))).get(Number(row.id)) ?? []);
  }

  async update(targetIqn: string, patch: TargetPatch): Promise<Target> {
    const p = parseInput(targetPatch, stripUndefined(patch), 'target change');
    return this.#db.transaction().execute(async (trx) => {
      const id = await targetId(trx, targetIqn);
      const allowed = p.allowedInitiators === undefined ? {} : { allowed_initiators: p.allowedInitiators === null ? null : JSON.stringify(p.allowedInitiators) };
      await trx
        .updateTable('targets')
        .set({
          ...(p.alias !== undefined ? { alias: p.alias } : {}),
          ...(p.chap !== undefined ? credentialColumns('chap', p.chap) : {}),
          ...(p.mutualChap !== undefined ? credentialColumns('mutual_chap', p.mutualChap) : {}),
          ...allowed,
        })
        .where('id', '=', id)
        .execute();
      return loadTarget(trx, targetIqn);
    });
  }

  /** Adds the LUN, or points an existing LUN number at another disk. */
  async setLun(targetIqn: string, input: NewLun): Promise<Target> {
    const l = parseInput(lunInput, input, 'LUN');
    return this.#db.transaction().execute(async (trx) => {
      const id = await targetId(trx, targetIqn);
      await trx.deleteFrom('luns').where('target_id', '=', id).where('lun', '=', l.lun).execute();
      await insertLun(trx, targetIqn, id, l);
      return loadTarget(trx, targetIqn);
    });
  }

  async removeLun(targetIqn: string, lun: number): Promise<Target> {
    return this.#db.transaction().execute(async (trx) => {
      const id = await targetId(trx, targetIqn);
      const result = await trx.deleteFrom('luns').where('target_id', '=', id).where('lun', '=', lun).executeTakeFirst();
      if (result.numDeletedRows === 0n) {
        throw new StoreError(StoreErrorCode.NotFound, `target ${targetIqn} has no LUN ${lun}; \`diskless target show ${targetIqn}\` lists its LUNs`);
      }
      return loadTarget(trx, targetIqn);
    });
  }

  /** Removes the target and its LUNs (the disks stay). */
  async remove(targetIqn: string): Promise<Target> {
    return this.#db.transaction().execute(async (trx) => {
      const target = await loadTarget(trx, targetIqn);
      // Explicit, rather than relying on ON DELETE CASCADE alone: a SQLite connection opened
      // without foreign_keys=ON (the sqlite3 shell, by default) would leave orphan LUNs.
      await trx.deleteFrom('luns').where('target_id', '=', target.id).execute();
      await trx.deleteFrom('targets').where('id', '=', target.id).execute();
      return target;
    });
  }
}

function credentialColumns<P extends 'chap' | 'mutual_chap'>(prefix: P, c: PlainCredentials | null): Record<`${P}_user` | `${P}_secret`, string | null> {
  return { [`${prefix}_user`]: c?.user ?? null, [`${prefix}_secret`]: c?.secret ?? null } as Record<`${P}_user` | `${P}_secret`, string | null>;
}

function duplicateIqn(targetIqn: string): StoreError {
  return new StoreError(StoreErrorCode.DuplicateIqn, `target ${targetIqn} already exists; use \`diskless target set ${targetIqn}\` to change it, or \`diskless target rm ${targetIqn}\` first`);
}

async function targetId(db: Db, targetIqn: string): Promise<number> {
  const row = await db.selectFrom('targets').select('id').where('iqn', '=', targetIqn).executeTakeFirst();
  if (row === undefined) throw notFound(targetIqn);
  return Number(row.id);
}

function notFound(targetIqn: string): StoreError {
  return new StoreError(StoreErrorCode.NotFound, `no target ${targetIqn}; \`diskless target list\` shows the targets`);
}

async function insertLun(db: Db, targetIqn: string, id: number, l: { lun: number; disk: string; readOnly: boolean }): Promise<void> {
  const disk = await db.selectFrom('disks').select('id').where('name', '=', l.disk).executeTakeFirst();
  if (disk === undefined) {
    throw new StoreError(StoreErrorCode.NotFound, `LUN ${l.lun} of target ${targetIqn} names disk ${l.disk}, which does not exist; create it with \`diskless disk create ${l.disk}\``);
  }
  await db.insertInto('luns').values({ target_id: id, lun: l.lun, disk_id: disk.id, read_only: toFlag(l.readOnly) }).execute();
}

async function loadTarget(db: Db, targetIqn: string): Promise<Target> {
  const row = await db.selectFrom('targets').selectAll().where('iqn', '=', targetIqn).executeTakeFirst();
  if (row === undefined) throw notFound(targetIqn);
  return toTarget(row, (await lunsOf(db, Number(row.id))).get(Number(row.id)) ?? []);
}

/** LUNs by target id, each list by LUN number; one target's, or every target's (null). */
async function lunsOf(db: Db, id: number | null): Promise<Map<number, Lun[]>> {
  let q = db
    .selectFrom('luns')
    .innerJoin('disks', 'disks.id', 'luns.disk_id')
    .select(['luns.target_id', 'luns.lun', 'luns.disk_id', 'luns.read_only', 'disks.name'])
    .orderBy('luns.target_id')
    .orderBy('luns.lun');
  if (id !== null) q = q.where('luns.target_id', '=', id);
  const byTarget = new Map<number, Lun[]>();
  for (const r of await q.execute()) {
    const list = byTarget.get(Number(r.target_id)) ?? [];
    list.push({ lun: r.lun, disk: r.name, diskId: Number(r.disk_id), readOnly: fromFlag(r.read_only) });
    byTarget.set(Number(r.target_id), list);
  }
  return byTarget;
}

function credentials(user: string | null, secret: string | null): Credentials | null {
  return user !== null && secret !== null ? { user, secret: new Secret(secret) } : null;
}

function toTarget(row: TargetRow, luns: readonly Lun[]): Target {
  return {
    id: Number(row.id),
    iqn: row.iqn,
    alias: row.alias,
    chap: credentials(row.chap_user, row.chap_secret),
    mutualChap: credentials(row.mutual_chap_user, row.mutual_chap_secret),
    allowedInitiators: row.allowed_initiators === null ? null : parseRowJson(z.array(z.string()), row.allowed_initiators, `target ${row.iqn} (allowed_initiators)`),
    luns,
  };
}
