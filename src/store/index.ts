// The store's public surface: what main.ts, the CLI and the API import.
export { openStore, openDatabase, parseStoreLocation, type Store, type StoreLocation, type OpenStoreOptions } from './open-store.ts';
export { migrateStore, appliedMigrations, type MigrationReport } from './migrate.ts';
export { MIGRATION_NAMES, type MigrationName } from './migrations/index.ts';
export { StoreError, StoreErrorCode } from './errors.ts';
export { Secret, REDACTED, SECRET_LOG_PATHS, generateSecret, toPublicCredentials, type Credentials, type PublicCredentials } from './secret.ts';
export { toPublicMachine, defaultInitiatorIqn, type Machine, type PublicMachine, type NewMachine, type MachinePatch, type MachineBoot, MachineRepository } from './repositories/machines.ts';
export { type Disk, type NewDisk, type DiskPatch, type DiskMode, DiskRepository } from './repositories/disks.ts';
export { type Image, type NewImage, ImageRepository } from './repositories/images.ts';
export { toPublicTarget, type Target, type PublicTarget, type NewTarget, type TargetPatch, type Lun, type NewLun, TargetRepository } from './repositories/targets.ts';
export { BootOutcome, BootEventLog, DEFAULT_EVENTS_PER_MAC, type BootEvent, type NewBootEvent, type EventQuery } from './repositories/events.ts';
export { StoreLeaseStore } from './repositories/leases.ts';
export type { StoreDialect } from './dialect.ts';
