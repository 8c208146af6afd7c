// 003: golden images (read-only, versioned) and the per-disk mode of a copy-on-write disk.
// A disk with image_id is an overlay over that image version (storage/overlay/); its mode says
// whether it keeps its changes across boots ('persistent') or starts clean at every boot
// ('discard-on-reboot').
import type { Migration } from 'kysely';
import { addIdColumn, type StoreDialect, type UntypedDb } from '../dialect.ts';

export function imagesSchema(dialect: StoreDialect): Migration {
  return {
    async up(db: UntypedDb): Promise<void> {
      await addIdColumn(db.schema.createTable('images'), dialect)
        .addColumn('name', 'text', (c) => c.notNull())
        .addColumn('version', 'integer', (c) => c.notNull())
        .addColumn('path', 'text', (c) => c.notNull())
        .addColumn('size_bytes', 'bigint', (c) => c.notNull())
        // What the version came from: an imported file, or a disk promoted into it.
        .addColumn('source', 'text')
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addUniqueConstraint('images_name_version', ['name', 'version'])
        .execute();
      await db.schema.alterTable('disks').addColumn('mode', 'text', (c) => c.notNull().defaultTo('persistent')).execute();
      await db.schema.createIndex('disks_image_id').on('disks').column('image_id').execute();
    },
  };
}
