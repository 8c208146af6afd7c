// The store's error catalogue. Messages say what to do next, in CLI terms, because the CLI and
// the API show them as they are. They never contain a CHAP secret.
import { DisklessError } from '../lib/errors.ts';

export const StoreErrorCode = {
  /** The --store value is neither a file path, sqlite: URL nor postgres:// URL. */
  BadUrl: 'STORE_BAD_URL',
  /** A migration failed; the store is left at the last one that succeeded. */
  MigrationFailed: 'STORE_MIGRATION_FAILED',
  /** The store was written by a newer diskless (it has migrations this one does not know). */
  TooNew: 'STORE_TOO_NEW',
  /** Input that fails validation; the message names the field. */
  Invalid: 'STORE_INVALID',
  DuplicateMac: 'STORE_DUPLICATE_MAC',
  DuplicateName: 'STORE_DUPLICATE_NAME',
  DuplicateIqn: 'STORE_DUPLICATE_IQN',
  DuplicateLun: 'STORE_DUPLICATE_LUN',
  NotFound: 'STORE_NOT_FOUND',
  /** A disk still referenced by a LUN. */
  InUse: 'STORE_IN_USE',
  /** A row that no longer parses (edited by hand, or by a newer version). */
  CorruptRow: 'STORE_CORRUPT_ROW',
  Closed: 'STORE_CLOSED',
} as const;
export type StoreErrorCode = (typeof StoreErrorCode)[keyof typeof StoreErrorCode];

export class StoreError extends DisklessError {
  constructor(
    override readonly code: StoreErrorCode,
    message: string,
  ) {
    super(code, message);
    this.name = 'StoreError';
  }
}

/** A UNIQUE or PRIMARY KEY violation from either engine (lost race after our own pre-check). */
export function isUniqueViolation(err: unknown): boolean {
  if (typeof err !== 'object' || err === null || !('code' in err)) return false;
  const code = (err as { code: unknown }).code;
  // better-sqlite3 reports SQLITE_CONSTRAINT_UNIQUE / _PRIMARYKEY; pg reports SQLSTATE 23505.
  return code === 'SQLITE_CONSTRAINT_UNIQUE' || code === 'SQLITE_CONSTRAINT_PRIMARYKEY' || code === '23505';
}
