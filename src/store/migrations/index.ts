// Every migration, in order, listed by hand (a static provider rather than a folder scan: no
// file system access at run time, and nothing changes behaviour by appearing in a folder).
// Names sort in order; kysely refuses to run a store that has a migration missing from here.
import type { Migration, MigrationProvider } from 'kysely';
import type { StoreDialect } from '../dialect.ts';
import { initialSchema } from './001-initial.ts';
import { groupsAndEventIndex } from './002-groups-and-event-index.ts';
import { imagesSchema } from './003-images.ts';
import { snapshotsSchema } from './004-snapshots.ts';

export const MIGRATION_NAMES = ['001-initial', '002-groups-and-event-index', '003-images', '004-snapshots'] as const;
export type MigrationName = (typeof MIGRATION_NAMES)[number];

export function storeMigrations(dialect: StoreDialect): Record<MigrationName, Migration> {
  return {
    '001-initial': initialSchema(dialect),
    '002-groups-and-event-index': groupsAndEventIndex,
    '003-images': imagesSchema(dialect),
    '004-snapshots': snapshotsSchema(dialect),
  };
}

export function migrationProvider(dialect: StoreDialect): MigrationProvider {
  return { getMigrations: () => Promise.resolve(storeMigrations(dialect)) };
}
