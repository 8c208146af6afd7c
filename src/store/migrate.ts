// Brings a store's schema up to date (or, for tests, to a given migration). kysely's Migrator
// takes a lock table, so several diskless servers starting at once on one PostgreSQL database
// run each migration exactly once.
import { Migrator, type Kysely } from 'kysely';
import type { StoreDialect } from './dialect.ts';
import { StoreError, StoreErrorCode } from './errors.ts';
import { MIGRATION_NAMES, migrationProvider, type MigrationName } from './migrations/index.ts';

export interface MigrationReport {
  /** Migrations applied by this call, in order. */
  readonly applied: readonly string[];
}

/** Migrates to the latest schema, or to `target` (inclusive). Throws StoreError on failure. */
export async function migrateStore<T>(db: Kysely<T>, dialect: StoreDialect, target: MigrationName = MIGRATION_NAMES[MIGRATION_NAMES.length - 1] ?? '001-initial'): Promise<MigrationReport> {
  const migrator = new Migrator({ db, provider: migrationProvider(dialect) });
  const { error, results } = await migrator.migrateTo(target);
  if (error !== undefined) {
    const message = error instanceof Error ? error.message : String(error);
    // kysely names the missing migration when the store has one this build does not know.
    if (/previously executed migration .* is missing/.test(message)) {
      throw new StoreError(StoreErrorCode.TooNew, `the store was written by a newer diskless (${message}); upgrade diskless, or point --store at another database`);
    }
    const failed = results?.find((r) => r.status === 'Error')?.migrationName ?? 'unknown';
    throw new StoreError(StoreErrorCode.MigrationFailed, `store migration ${failed} failed: ${message}; the store is left at the migration before it`);
  }
  return { applied: (results ?? []).filter((r) => r.status === 'Success').map((r) => r.migrationName) };
}

/** The migrations applied to the store so far, oldest first. */
export async function appliedMigrations<T>(db: Kysely<T>, dialect: StoreDialect): Promise<readonly string[]> {
  const migrator = new Migrator({ db, provider: migrationProvider(dialect) });
  return (await migrator.getMigrations()).filter((m) => m.executedAt !== undefined).map((m) => m.name);
}
