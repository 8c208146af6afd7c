// Opens the store named by --store: a SQLite file (the embedded default, in the data directory)
// or a PostgreSQL database that several diskless servers share. Both go through kysely, so the
// repositories hold one set of queries. Opening runs the migrations.
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import SqliteDatabase from 'better-sqlite3';
import { Kysely, PostgresDialect, SqliteDialect } from 'kysely';
import pg from 'pg';
import type { StoreDialect } from './dialect.ts';
import { StoreError, StoreErrorCode } from './errors.ts';
import { migrateStore } from './migrate.ts';
import type { MigrationName } from './migrations/index.ts';
import { DiskRepository } from './repositories/disks.ts';
import { ImageRepository } from './repositories/images.ts';
import { SnapshotRepository } from './repositories/snapshots.ts';
import { BootEventLog, DEFAULT_EVENTS_PER_MAC } from './repositories/events.ts';
import { StoreLeaseStore } from './repositories/leases.ts';
import { MachineRepository } from './repositories/machines.ts';
import { TargetRepository } from './repositories/targets.ts';
import type { Database } from './schema.ts';

export type StoreLocation = string | { readonly sqlitePath: string };

export interface OpenStoreOptions {
  /** Boot events kept per MAC (default 1000). */
  readonly eventsPerMac?: number;
  /** The clock for timestamps (tests). */
  readonly nowMs?: () => number;
  /** Migrate only this far (tests of upgrades); default: the latest. */
  readonly migrateTo?: MigrationName;
}

export interface Store {
  readonly dialect: StoreDialect;
  /** For the few queries no repository has yet; prefer the repositories. */
  readonly db: Kysely<Database>;
  readonly machines: MachineRepository;
  readonly disks: DiskRepository;
  readonly images: ImageRepository;
  readonly snapshots: SnapshotRepository;
  readonly targets: TargetRepository;
  readonly events: BootEventLog;
  /** The DHCP LeaseStore backed by this store. */
  readonly leases: StoreLeaseStore;
  /** Commits pending events and leases, then closes the database. */
  close(): Promise<void>;
}

export interface OpenedDatabase {
  readonly dialect: StoreDialect;
  readonly db: Kysely<Database>;
}

type ParsedLocation = { readonly dialect: 'sqlite'; readonly path: string } | { readonly dialect: 'postgres'; readonly url: string };

/** `postgres://` or `postgresql://` → PostgreSQL; `sqlite:PATH`, `sqlite://PATH` or a plain path → SQLite. */
export function parseStoreLocation(location: StoreLocation): ParsedLocation {
  if (typeof location !== 'string') return { dialect: 'sqlite', path: location.sqlitePath };
  if (/^postgres(ql)?:\/\//i.test(location)) return { dialect: 'postgres', url: location };
  const sqlite = /^sqlite:(\/\/)?(.*)$/i.exec(location);
  const path = sqlite === null ? location : (sqlite[2] ?? '');
  if (path === '' || (sqlite === null && /^[a-z][a-z0-9+.-]*:\/\//i.test(location))) {
    throw new StoreError(StoreErrorCode.BadUrl, `--store ${location} is not a store: give a file path (data/diskless.db), sqlite:/path/to.db or postgres://user@host/db`);
  }
  return { dialect: 'sqlite', path };
}

// PostgreSQL bigint (int8, OID 20) arrives as a string by default, because it can exceed 2^53.
// Our bigints are ms timestamps, byte sizes and ids, all below 2^53: parse them as numbers, and
// refuse (rather than round) one that is not. Given per pool, not via the global pg.types.
const INT8_OID = 20;
function parseInt8(text: string): number {
  const n = Number(text);
  if (!Number.isSafeInteger(n)) throw new StoreError(StoreErrorCode.CorruptRow, `a bigint column holds ${text}, beyond what the store can represent exactly`);
  return n;
}
const pgTypes = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') => (oid === INT8_OID && format !== 'binary' ? parseInt8 : pg.types.getTypeParser(oid, format))) as typeof pg.types.getTypeParser,
};

/** Opens the database without migrating (see openStore). */
export function openDatabase(location: StoreLocation): OpenedDatabase {
  const parsed = parseStoreLocation(location);
  switch (parsed.dialect) {
    case 'postgres': {
      const pool = new pg.Pool({ connectionString: parsed.url, types: pgTypes, max: 10 });
      return { dialect: 'postgres', db: new Kysely<Database>({ dialect: new PostgresDialect({ pool }) }) };
    }
    case 'sqlite': {
      if (parsed.path !== ':memory:') mkdirSync(dirname(parsed.path), { recursive: true });
      const sqlite = new SqliteDatabase(parsed.path);
      // WAL: readers (the console, the CLI) never block the writer. NORMAL: commits survive a
      // crash of diskless; leases ask for more (durable.ts). Foreign keys are off by default in
      // SQLite. busy_timeout: the CLI and a running server may both write for a moment.
      sqlite.pragma('journal_mode = WAL');
      sqlite.pragma('synchronous = NORMAL');
      sqlite.pragma('foreign_keys = ON');
      sqlite.pragma('busy_timeout = 5000');
      return { dialect: 'sqlite', db: new Kysely<Database>({ dialect: new SqliteDialect({ database: sqlite }) }) };
    }
  }
}

export async function openStore(location: StoreLocation, options: OpenStoreOptions = {}): Promise<Store> {
  const { dialect, db } = openDatabase(location);
  try {
    await migrateStore(db, dialect, options.migrateTo);
  } catch (err) {
    await db.destroy();
    throw err;
  }
  const nowMs = options.nowMs ?? Date.now;
  const events = new BootEventLog(db, nowMs, options.eventsPerMac ?? DEFAULT_EVENTS_PER_MAC);
  const leases = new StoreLeaseStore(db, dialect, nowMs);
  let closed: Promise<void> | null = null;
  return {
    dialect,
    db,
    machines: new MachineRepository(db, nowMs),
    disks: new DiskRepository(db, nowMs),
    images: new ImageRepository(db, nowMs),
    snapshots: new SnapshotRepository(db, nowMs),
    targets: new TargetRepository(db),
    events,
    leases,
    close(): Promise<void> {
      closed ??= (async () => {
        try {
          await Promise.all([events.flush(), leases.close()]);
        } finally {
          await db.destroy();
        }
      })();
      return closed;
    },
  };
}
