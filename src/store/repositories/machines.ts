// Machines: which MAC boots what, under which name and group, with which initiator IQN and CHAP
// credentials. A machine is found by MAC or by name (the CLI accepts either).
import type { Kysely } from 'kysely';
import { z } from 'zod';
import { bootEntryConfig, chapCredentials, defaultInitiatorIqn, iqn, mac as macSchema, machineConfig, menuConfig } from '../../config/schema.ts';
import { StoreError, StoreErrorCode, isUniqueViolation } from '../errors.ts';
import type { Database, MachineRow } from '../schema.ts';
import { Secret, generateSecret, toPublicCredentials, type Credentials, type PublicCredentials } from '../secret.ts';
import { parseInput, parseRowJson, stripUndefined } from './validate.ts';

const machineBoot = z.union([bootEntryConfig, menuConfig]);
export type MachineBoot = z.output<typeof machineBoot>;
export type MachineBootInput = z.input<typeof machineBoot>;

const group = z.string().min(1, 'a group name must not be empty').max(63).regex(/^[A-Za-z0-9._-]+$/, 'group names use letters, digits, ., - and _').nullable();

export const newMachine = z.object({
  mac: macSchema,
  name: machineConfig.shape.name,
  group: group.default(null),
  boot: machineBoot,
  initiatorIqn: iqn.optional(),
  chap: chapCredentials.nullable().optional(),
});

export const machinePatch = newMachine.omit({ group: true }).extend({ group }).partial();

export interface Machine {
  readonly id: number;
  readonly mac: string;
  readonly name: string;
  readonly group: string | null;
  readonly boot: MachineBoot;
  /** The IQN the machine's iPXE logs in with; null only for rows written by hand. */
  readonly initiatorIqn: string | null;
  /** Incoming CHAP for this machine's logins; null: none. */
  readonly chap: Credentials | null;
  readonly createdAtMs: number;
  readonly updatedAtMs: number;
}

/** A machine as the API and console show it: the CHAP secret replaced by a placeholder. */
export type PublicMachine = Omit<Machine, 'chap'> & { readonly chap: PublicCredentials | null };

export interface NewMachine {
  readonly mac: string;
  readonly name: string;
  readonly group?: string | null;
  readonly boot: MachineBootInput;
  /** Default: iqn.2026-11.org.diskless:<name>. */
  readonly initiatorIqn?: string;
  /** Default (undefined): generated; null: no CHAP. */
  readonly chap?: { readonly user: string; readonly secret: string } | null;
}

export type MachinePatch = { readonly [K in keyof NewMachine]?: NewMachine[K] | undefined };

export { defaultInitiatorIqn };

export function toPublicMachine(m: Machine): PublicMachine {
  return { ...m, chap: toPublicCredentials(m.chap) };
}

export class MachineRepository {
  readonly #db: Kysely<Database>;
  readonly #nowMs: () => number;

  constructor(db: Kysely<Database>, nowMs: () => number) {
    this.#db = db;
    this.#nowMs = nowMs;
  }

  async add(input: NewMachine): Promise<Machine> {
    const m = parseInput(newMachine, input, 'machine');
    const now = this.#nowMs();
    const chap = m.chap === undefined ? { user: m.name, secret: generateSecret().reveal() } : m.chap;
    return this.#mapUnique(m.mac, m.name, () =>
      this.#db.transaction().execute(async (trx) => {
        await checkFree(trx, m.mac, m.name, null);
        const row = await trx
          .insertInto('machines')
          .values({
            mac: m.mac,
            name: m.name,
            group: m.group,
            boot: JSON.stringify(m.boot),
            initiator_iqn: m.initiatorIqn ?? defaultInitiatorIqn(m.name),
            chap_user: chap?.user ?? null,
            chap_secret: chap?.secret ?? null,
            created_at: now,
            updated_at: now,
          })
          .returningAll()
          .executeTakeFirstOrThrow();
        return toMachine(row);
      }),
    );
  }

  async list(filter: { readonly group?: string } = {}): Promise<Machine[]> {
    let q = this.#db.selectFrom('machines').selectAll().orderBy('name');
    if (filter.group !== undefined) q = q.where('group', '=', filter.group);
    return (await q.execute()).map(toMachine);
  }

  /** By MAC (any common spelling) or by name; undefined when there is none. */
  async get(ref: string): Promise<Machine | undefined> {
    const row = await findRow(this.#db, ref);
    return row === undefined ? undefined : toMachine(row);
  }

  async update(ref: string, patch: MachinePatch): Promise<Machine> {
    const p = parseInput(machinePatch, stripUndefined(patch), 'machine change');
    return this.#mapUnique(p.mac, p.name, () =>
      this.#db.transaction().execute(async (trx) => {
        const current = await findRow(trx, ref);
        if (current === undefined) throw notFound(ref);
        await checkFree(trx, p.mac ?? null, p.name ?? null, current.id);
        const chap = p.chap === undefined ? {} : { chap_user: p.chap?.user ?? null, chap_secret: p.chap?.secret ?? null };
        const row = await trx
          .updateTable('machines')
          .set({
            ...(p.mac !== undefined ? { mac: p.mac } : {}),
            ...(p.name !== undefined ? { name: p.name } : {}),
            ...(p.group !== undefined ? { group: p.group } : {}),
            ...(p.boot !== undefined ? { boot: JSON.stringify(p.boot) } : {}),
            ...(p.initiatorIqn !== undefined ? { initiator_iqn: p.initiatorIqn } : {}),
            ...chap,
            updated_at: this.#nowMs(),
          })
          .where('id', '=', current.id)
          .returningAll()
          .executeTakeFirstOrThrow();
        return toMachine(row);
      }),
    );
  }

  /** Replaces the machine's CHAP secret with a new random one (user name kept, or the name). */
  async rotateSecret(ref: string): Promise<Machine> {
    const current = await this.get(ref);
    if (current === undefined) throw notFound(ref);
    return this.update(current.name, { chap: { user: current.chap?.user ?? current.name, secret: generateSecret().reveal() } });
  }

  async remove(ref: string): Promise<Machine> {
    return this.#db.transaction().execute(async (trx) => {
      const current = await findRow(trx, ref);
      if (current === undefined) throw notFound(ref);
      await trx.deleteFrom('machines').where('id', '=', current.id).execute();
      return toMachine(current);
    });
  }

  /** A lost race with another writer (the pre-check passed, the UNIQUE index did not). */
  async #mapUnique<R>(mac: string | undefined, name: string | undefined, body: () => Promise<R>): Promise<R> {
    try {
      return await body();
    } catch (err) {
      if (!isUniqueViolation(err)) throw err;
      const what = [mac === undefined ? null : `MAC ${mac}`, name === undefined ? null : `name ${name}`].filter((x) => x !== null).join(' or ');
      throw new StoreError(StoreErrorCode.DuplicateMac, `another machine was just saved with the same ${what}; run \`diskless machine list\` and try again`);
    }
  }
}

type Reader = Pick<Kysely<Database>, 'selectFrom'>;

async function findRow(db: Reader, ref: string): Promise<MachineRow | undefined> {
  const asMac = macSchema.safeParse(ref);
  if (asMac.success) {
    const row = await db.selectFrom('machines').selectAll().where('mac', '=', asMac.data).executeTakeFirst();
    if (row !== undefined) return row;
  }
  return db.selectFrom('machines').selectAll().where('name', '=', ref).executeTakeFirst();
}

/** Refuses a MAC or name that another machine (not `selfId`) already has, saying what to do. */
async function checkFree(db: Reader, mac: string | null, name: string | null, selfId: number | null): Promise<void> {
  if (mac !== null) {
    const other = await db.selectFrom('machines').select(['id', 'name']).where('mac', '=', mac).executeTakeFirst();
    if (other !== undefined && other.id !== selfId) {
      throw new StoreError(
        StoreErrorCode.DuplicateMac,
        `machine ${other.name} already has MAC ${mac}; use \`diskless machine set ${other.name}\` to change that machine, or \`diskless machine rm ${other.name}\` first`,
      );
    }
  }
  if (name !== null) {
    const other = await db.selectFrom('machines').select(['id', 'mac']).where('name', '=', name).executeTakeFirst();
    if (other !== undefined && other.id !== selfId) {
      throw new StoreError(
        StoreErrorCode.DuplicateName,
        `a machine named ${name} already exists (MAC ${other.mac}); pick another name, or use \`diskless machine set ${name}\` to change it`,
      );
    }
  }
}

function notFound(ref: string): StoreError {
  return new StoreError(StoreErrorCode.NotFound, `no machine with MAC or name ${ref}; \`diskless machine list\` shows the registered machines`);
}

function toMachine(row: MachineRow): Machine {
  const chap = row.chap_user !== null && row.chap_secret !== null ? { user: row.chap_user, secret: new Secret(row.chap_secret) } : null;
  return {
    id: Number(row.id),
    mac: row.mac,
    name: row.name,
    group: row.group,
    boot: parseRowJson(machineBoot, row.boot, `machine ${row.name} (boot)`),
    initiatorIqn: row.initiator_iqn,
    chap,
    createdAtMs: Number(row.created_at),
    updatedAtMs: Number(row.updated_at),
  };
}

