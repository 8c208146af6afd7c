// 001: the first schema. Kept as it shipped, forever: a store created by this version must
// migrate forward from exactly this (tests open a store at 001, fill it, and migrate it).
import type { Migration } from 'kysely';
import { addIdColumn, type StoreDialect, type UntypedDb } from '../dialect.ts';

export function initialSchema(dialect: StoreDialect): Migration {
  return {
    async up(db: UntypedDb): Promise<void> {
      await addIdColumn(db.schema.createTable('machines'), dialect)
        .addColumn('mac', 'text', (c) => c.notNull().unique())
        .addColumn('name', 'text', (c) => c.notNull().unique())
        .addColumn('boot', 'text', (c) => c.notNull())
        .addColumn('initiator_iqn', 'text')
        .addColumn('chap_user', 'text')
        .addColumn('chap_secret', 'text')
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('updated_at', 'bigint', (c) => c.notNull())
        .execute();

      await addIdColumn(db.schema.createTable('disks'), dialect)
        .addColumn('name', 'text', (c) => c.notNull().unique())
        .addColumn('path', 'text', (c) => c.notNull())
        .addColumn('size_bytes', 'bigint', (c) => c.notNull())
        .addColumn('read_only', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('image_id', 'bigint')
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .execute();

      await addIdColumn(db.schema.createTable('targets'), dialect)
        .addColumn('iqn', 'text', (c) => c.notNull().unique())
        .addColumn('alias', 'text')
        .addColumn('chap_user', 'text')
        .addColumn('chap_secret', 'text')
        .addColumn('mutual_chap_user', 'text')
        .addColumn('mutual_chap_secret', 'text')
        .addColumn('allowed_initiators', 'text')
        .execute();

      await db.schema
        .createTable('luns')
        .addColumn('target_id', 'bigint', (c) => c.notNull().references('targets.id').onDelete('cascade'))
        .addColumn('lun', 'integer', (c) => c.notNull())
        // restrict: a disk in use by a target cannot vanish under an initiator.
        .addColumn('disk_id', 'bigint', (c) => c.notNull().references('disks.id').onDelete('restrict'))
        .addColumn('read_only', 'integer', (c) => c.notNull().defaultTo(0))
        .addPrimaryKeyConstraint('luns_pk', ['target_id', 'lun'])
        .execute();

      await db.schema
        .createTable('leases')
        .addColumn('ip', 'text', (c) => c.primaryKey())
        .addColumn('mac', 'text', (c) => c.notNull())
        .addColumn('state', 'text', (c) => c.notNull())
        .addColumn('expires_at', 'bigint', (c) => c.notNull())
        .addColumn('hostname', 'text')
        .execute();

      await addIdColumn(db.schema.createTable('boot_events'), dialect)
        .addColumn('mac', 'text', (c) => c.notNull())
        .addColumn('at', 'bigint', (c) => c.notNull())
        .addColumn('kind', 'text', (c) => c.notNull())
        .addColumn('outcome', 'text', (c) => c.notNull())
        .addColumn('detail', 'text', (c) => c.notNull().defaultTo('{}'))
        .execute();
    },
  };
}
