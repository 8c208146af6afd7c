// DHCP leases in the store: the LeaseStore seam of dhcp/lease-store.ts, so that the leases live
// beside the inventory (and, on PostgreSQL, are shared by every diskless server). Same rules as
// the journal: offers are never recorded, a burst of changes is one durable commit, and record()
// resolves only once that commit is on disk (the responder ACKs after it).
import type { Kysely } from 'kysely';
import type { LeaseStore } from '../../dhcp/lease-store.ts';
import type { Lease, LeaseChange, LeaseState } from '../../dhcp/leases.ts';
import { BurstBatcher, type BatcherStats } from '../burst-batcher.ts';
import type { StoreDialect } from '../dialect.ts';
import { durableTransaction } from '../durable.ts';
import type { Database, LeaseRow } from '../schema.ts';

const STATES: readonly LeaseState[] = ['offered', 'bound', 'declined', 'released'];

function isPersisted(change: LeaseChange): boolean {
  return change.op === 'delete' || change.lease.state !== 'offered';
}

export class StoreLeaseStore implements LeaseStore {
  readonly #db: Kysely<Database>;
  readonly #nowMs: () => number;
  readonly #batcher: BurstBatcher<LeaseChange>;

  constructor(db: Kysely<Database>, dialect: StoreDialect, nowMs: () => number) {
    this.#db = db;
    this.#nowMs = nowMs;
    this.#batcher = new BurstBatcher((changes) => durableTransaction(db, dialect, (trx) => applyChanges(trx, changes)));
  }

  /** Every recorded lease, less quarantines that have ended (as the journal drops them). */
  async load(): Promise<readonly Lease[]> {
    const now = this.#nowMs();
    const rows = await this.#db.selectFrom('leases').selectAll().orderBy('ip').execute();
    return rows.map(toLease).filter((l): l is Lease => l !== null && l.state !== 'offered' && !(l.state === 'declined' && l.expiresAtMs <= now));
  }

  record(changes: readonly LeaseChange[]): Promise<void> {
    return this.#batcher.add(changes.filter(isPersisted));
  }

  stats(): BatcherStats {
    return this.#batcher.stats();
  }

  /** Waits for pending changes; the store itself stays open (Store.close() closes it). */
  close(): Promise<void> {
    return this.#batcher.drain();
  }
}

/** In order: a put then a delete of the same address in one burst ends deleted. */
async function applyChanges(db: Kysely<Database>, changes: readonly LeaseChange[]): Promise<void> {
  for (const c of changes) {
    if (c.op === 'delete') {
      await db.deleteFrom('leases').where('ip', '=', c.ip).execute();
      continue;
    }
    const row = { mac: c.lease.mac, state: c.lease.state, expires_at: c.lease.expiresAtMs, hostname: c.lease.hostname ?? null };
    await db
      .insertInto('leases')
      .values({ ip: c.lease.ip, ...row })
      .onConflict((oc) => oc.column('ip').doUpdateSet(row))
      .execute();
  }
}

/** A row with an unknown state (hand edits, a newer version) is skipped, like a torn journal line. */
function toLease(row: LeaseRow): Lease | null {
  const state = STATES.find((s) => s === row.state);
  if (state === undefined) return null;
  const hostname = row.hostname === null ? {} : { hostname: row.hostname };
  return { ip: row.ip, mac: row.mac, state, expiresAtMs: Number(row.expires_at), ...hostname };
}
