// A transaction that is on stable storage when it resolves, on either engine.
//
// The SQLite connection runs WAL with synchronous=NORMAL (open-store.ts): a commit survives a
// crash of diskless but may be lost with the last few others on power failure, which is fine for
// the inventory and boot events and keeps them cheap. A DHCP ACK promises an address, so lease
// commits switch the connection to synchronous=FULL, which syncs the WAL at that commit. kysely
// gives the SQLite dialect one connection; reserving it keeps other queries from running between
// the pragmas. PostgreSQL commits are durable by default (synchronous_commit=on).
import { sql, type Kysely, type Transaction } from 'kysely';
import type { StoreDialect } from './dialect.ts';

export async function durableTransaction<DB, R>(db: Kysely<DB>, dialect: StoreDialect, body: (trx: Transaction<DB>) => Promise<R>): Promise<R> {
  switch (dialect) {
    case 'postgres':
      return db.transaction().execute(body);
    case 'sqlite':
      return db.connection().execute(async (conn) => {
        await sql`pragma synchronous = FULL`.execute(conn);
        try {
          return await conn.transaction().execute(body);
        } finally {
          await sql`pragma synchronous = NORMAL`.execute(conn);
        }
      });
  }
}
