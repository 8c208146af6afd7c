// Boot events: every step of every machine's boot, by MAC, with time and outcome (netboot's
// per-MAC machineEvent ring, made durable). Appends are batched, one transaction per
// event-loop burst, and each MAC keeps at most `keepPerMac` events: the oldest go first.
import type { Kysely } from 'kysely';
import { z } from 'zod';
import { mac as macSchema } from '../../config/schema.ts';
import { BurstBatcher, type BatcherStats } from '../burst-batcher.ts';
import type { BootEventRow, Database, NewBootEventRow } from '../schema.ts';
import { parseInput, parseRowJson } from './validate.ts';

export const BootOutcome = { Ok: 'ok', Failed: 'failed', Info: 'info' } as const;
export type BootOutcome = (typeof BootOutcome)[keyof typeof BootOutcome];

const detailSchema = z.record(z.string(), z.unknown());
const newEvent = z.object({
  mac: macSchema,
  atMs: z.number().int().min(0).optional(),
  // Kinds are named by the code that records them (dhcp-ack, tftp-file, iscsi-login...).
  kind: z.string().min(1).max(64).regex(/^[a-z0-9][a-z0-9.-]*$/, 'event kinds are lower-case words joined by - or .'),
  outcome: z.enum([BootOutcome.Ok, BootOutcome.Failed, BootOutcome.Info]),
  detail: detailSchema.default({}),
});

export interface BootEvent {
  readonly id: number;
  readonly mac: string;
  readonly atMs: number;
  readonly kind: string;
  readonly outcome: BootOutcome;
  readonly detail: Readonly<Record<string, unknown>>;
}

export interface NewBootEvent {
  readonly mac: string;
  /** Default: now. */
  readonly atMs?: number;
  readonly kind: string;
  readonly outcome: BootOutcome;
  /** JSON-serialisable particulars; never put secrets here. */
  readonly detail?: Readonly<Record<string, unknown>>;
}

export interface EventQuery {
  readonly mac?: string;
  /** Inclusive. */
  readonly sinceMs?: number;
  /** Exclusive. */
  readonly untilMs?: number;
  /** The most recent `limit` matching events (still returned oldest first). */
  readonly limit?: number;
}

export const DEFAULT_EVENTS_PER_MAC = 1000;

export class BootEventLog {
  readonly #db: Kysely<Database>;
  readonly #nowMs: () => number;
  readonly #keepPerMac: number;
  readonly #batcher: BurstBatcher<NewBootEventRow>;
  /** Events appended per MAC since its history was last trimmed. */
  readonly #sinceTrim = new Map<string, number>();

  constructor(db: Kysely<Database>, nowMs: () => number, keepPerMac: number = DEFAULT_EVENTS_PER_MAC) {
    this.#db = db;
    this.#nowMs = nowMs;
    this.#keepPerMac = keepPerMac;
    this.#batcher = new BurstBatcher((rows) => this.#commit(rows));
  }

  /**
   * Validates now (a bad event throws here, not in someone else's batch) and resolves when the
   * event is committed. Callers on a hot path may ignore the promise, but should catch it.
   */
  append(event: NewBootEvent): Promise<void> {
    const e = parseInput(newEvent, event, 'boot event');
    return this.#batcher.add([{ mac: e.mac, at: e.atMs ?? this.#nowMs(), kind: e.kind, outcome: e.outcome, detail: JSON.stringify(e.detail) }]);
  }

  /**
   * For events the server builds itself (persist-events.ts): the same row, without the input
   * validation, which cost more than the insert on a busy DHCP server. Callers guarantee a
   * normalised MAC, a kind in the catalogue and a JSON-serialisable detail.
   */
  appendTrusted(event: { readonly mac: string; readonly atMs: number; readonly kind: string; readonly outcome: BootOutcome; readonly detail: Readonly<Record<string, unknown>> }): Promise<void> {
    return this.#batcher.add([{ mac: event.mac, at: event.atMs, kind: event.kind, outcome: event.outcome, detail: JSON.stringify(event.detail) }]);
  }

  async list(query: EventQuery = {}): Promise<BootEvent[]> {
    let q = this.#db.selectFrom('boot_events').selectAll();
    if (query.mac !== undefined) q = q.where('mac', '=', parseInput(macSchema, query.mac, 'MAC'));
    if (query.sinceMs !== undefined) q = q.where('at', '>=', query.sinceMs);
    if (query.untilMs !== undefined) q = q.where('at', '<', query.untilMs);
    if (query.limit !== undefined) {
      const rows = await q.orderBy('at', 'desc').orderBy('id', 'desc').limit(query.limit).execute();
      return rows.reverse().map(toEvent);
    }
    return (await q.orderBy('at').orderBy('id').execute()).map(toEvent);
  }

  /** Resolves when every event appended so far is committed. */
  flush(): Promise<void> {
    return this.#batcher.drain();
  }

  stats(): BatcherStats {
    return this.#batcher.stats();
  }

  async #commit(rows: readonly NewBootEventRow[]): Promise<void> {
    await this.#db.transaction().execute(async (trx) => {
      await trx.insertInto('boot_events').values([...rows]).execute();
      // Trimming is a query per MAC: do it once a MAC has gathered a tenth of its allowance
      // since the last trim, not in every batch (a MAC may hold up to 10% more for a while).
      const due: string[] = [];
      for (const r of rows) {
        const pending = (this.#sinceTrim.get(r.mac) ?? 0) + 1;
        if (pending >= Math.max(1, Math.floor(this.#keepPerMac / 10))) {
          due.push(r.mac);
          this.#sinceTrim.delete(r.mac);
        } else this.#sinceTrim.set(r.mac, pending);
      }
      for (const mac of new Set(due)) {
        // The oldest event to drop: the first one past the newest keepPerMac, in (at, id) order.
        const cut = await trx
          .selectFrom('boot_events')
          .select(['at', 'id'])
          .where('mac', '=', mac)
          .orderBy('at', 'desc')
          .orderBy('id', 'desc')
          .limit(1)
          .offset(this.#keepPerMac)
          .executeTakeFirst();
        if (cut === undefined) continue;
        await trx
          .deleteFrom('boot_events')
          .where('mac', '=', mac)
          .where((eb) => eb.or([eb('at', '<', cut.at), eb.and([eb('at', '=', cut.at), eb('id', '<=', cut.id)])]))
          .execute();
      }
    });
  }
}

function toEvent(row: BootEventRow): BootEvent {
  const outcome = z.enum([BootOutcome.Ok, BootOutcome.Failed, BootOutcome.Info]).catch(BootOutcome.Info).parse(row.outcome);
  return {
    id: Number(row.id),
    mac: row.mac,
    atMs: Number(row.at),
    kind: row.kind,
    outcome,
    detail: parseRowJson(detailSchema, row.detail, `boot event ${row.id} (detail)`),
  };
}

