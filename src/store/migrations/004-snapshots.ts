// 004: snapshots of copy-on-write disks. A snapshot is a frozen copy of the disk's overlay
// (only what the machine changed) over the image version the disk had then; rolling back
// copies it back and moves the disk to that version again. A version a snapshot needs is kept
// like one a disk uses.
import type { Migration } from 'kysely';
import { addIdColumn, type StoreDialect, type UntypedDb } from '../dialect.ts';

export function snapshotsSchema(dialect: StoreDialect): Migration {
  return {
    async up(db: UntypedDb): Promise<void> {
      await addIdColumn(db.schema.createTable('disk_snapshots'), dialect)
        .addColumn('disk_id', 'bigint', (c) => c.notNull().references('disks.id').onDelete('cascade'))
        .addColumn('name', 'text', (c) => c.notNull())
        .addColumn('path', 'text', (c) => c.notNull())
        .addColumn('image_id', 'bigint', (c) => c.notNull().references('images.id').onDelete('restrict'))
        .addColumn('size_bytes', 'bigint', (c) => c.notNull())
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addUniqueConstraint('disk_snapshots_disk_name', ['disk_id', 'name'])
        .execute();
      await db.schema.createIndex('disk_snapshots_image_id').on('disk_snapshots').column('image_id').execute();
    },
  };
}
