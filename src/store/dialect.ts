// The two engines the store runs on. Almost every query is the same for both; the differences
// (how an auto-increment key is declared, when a commit is durable) are decided from this.
import type { ColumnDefinitionBuilder, CreateTableBuilder, Kysely } from 'kysely';

export type StoreDialect = 'sqlite' | 'postgres';

/** Adds an auto-increment integer primary key named `id`, as each engine spells it. */
export function addIdColumn<T extends string>(table: CreateTableBuilder<T, never>, dialect: StoreDialect): CreateTableBuilder<T, 'id'> {
  switch (dialect) {
    case 'sqlite':
      // AUTOINCREMENT: ids are never reused, so boot event ids stay in insertion order after pruning.
      return table.addColumn('id', 'integer', (c: ColumnDefinitionBuilder) => c.primaryKey().autoIncrement());
    case 'postgres':
      return table.addColumn('id', 'bigint', (c: ColumnDefinitionBuilder) => c.primaryKey().generatedByDefaultAsIdentity());
  }
}

/** A kysely instance whose migrations have not run yet: its table types are unknown. */
export type UntypedDb = Kysely<unknown>;
