// The store's tables as kysely sees them (after the latest migration). Column names are
// snake_case as in SQL; repositories map rows to camelCase records.
//
// Portability rules, so one set of queries serves SQLite and PostgreSQL:
// - JSON is kept as text and parsed in the repositories (SQLite has no JSON type, and the
//   store never queries inside it);
// - timestamps are integers in milliseconds since the epoch (bigint in PostgreSQL, which the pg
//   pool parses back to number: open-store.ts);
// - booleans are integers 0/1 (SQLite has no boolean type).
import type { Generated, Insertable, Selectable } from 'kysely';

/** 0 or 1: SQLite has no boolean type. */
export type Flag = 0 | 1;

export interface MachinesTable {
  id: Generated<number>;
  /** Lower-case, colon-separated (52:54:00:12:34:56); unique. */
  mac: string;
  /** Unique; letters, digits, '.', '-' and '_' (used in IQNs and file names). */
  name: string;
  /** Free-form grouping for the console and bulk changes (added by migration 002). */
  group: string | null;
  /** The boot entry or menu (config/schema.ts bootEntryConfig | menuConfig), as JSON. */
  boot: string;
  initiator_iqn: string | null;
  chap_user: string | null;
  chap_secret: string | null;
  created_at: number;
  updated_at: number;
}

export interface DisksTable {
  id: Generated<number>;
  name: string;
  /** The backing file. */
  path: string;
  size_bytes: number;
  read_only: Flag;
  /** The golden image version this disk is an overlay of; null: a plain disk. */
  image_id: number | null;
  created_at: number;
  /** 'persistent' or 'discard-on-reboot' (migration 003); only overlays use the second. */
  mode: Generated<string>;
}

export interface ImagesTable {
  id: Generated<number>;
  name: string;
  /** 1, 2, ... per name; a disk stays on its version until moved. */
  version: number;
  /** The read-only base file. */
  path: string;
  size_bytes: number;
  /** Where the version came from, in words (an imported file, a promoted disk). */
  source: string | null;
  created_at: number;
}

export interface DiskSnapshotsTable {
  id: Generated<number>;
  disk_id: number;
  /** Unique per disk. */
  name: string;
  /** The frozen copy of the disk's overlay file. */
  path: string;
  /** The image version the overlay was over when the snapshot was taken. */
  image_id: number;
  size_bytes: number;
  created_at: number;
}

export interface TargetsTable {
  id: Generated<number>;
  iqn: string;
  alias: string | null;
  /** Incoming CHAP: the initiator proves it knows this secret (IET IncomingUser). */
  chap_user: string | null;
  chap_secret: string | null;
  /** Outgoing (mutual) CHAP: the target proves itself (IET OutgoingUser). */
  mutual_chap_user: string | null;
  mutual_chap_secret: string | null;
  /** JSON array of initiator IQNs allowed to log in; null: any. */
  allowed_initiators: string | null;
}

export interface LunsTable {
  target_id: number;
  lun: number;
  disk_id: number;
  read_only: Flag;
}

export interface LeasesTable {
  /** One row per address, as in the journal (dhcp/lease-store.ts). */
  ip: string;
  mac: string;
  /** dhcp/leases.ts LeaseState except 'offered', which is never persisted. */
  state: string;
  expires_at: number;
  hostname: string | null;
}

export interface BootEventsTable {
  id: Generated<number>;
  mac: string;
  /** When it happened, ms since the epoch. */
  at: number;
  kind: string;
  outcome: string;
  /** JSON object with the step's particulars (arch, file, login status...). */
  detail: string;
}

export interface Database {
  machines: MachinesTable;
  disks: DisksTable;
  images: ImagesTable;
  disk_snapshots: DiskSnapshotsTable;
  targets: TargetsTable;
  luns: LunsTable;
  leases: LeasesTable;
  boot_events: BootEventsTable;
}

export type MachineRow = Selectable<MachinesTable>;
export type DiskRow = Selectable<DisksTable>;
export type ImageRow = Selectable<ImagesTable>;
export type DiskSnapshotRow = Selectable<DiskSnapshotsTable>;
export type TargetRow = Selectable<TargetsTable>;
export type LunRow = Selectable<LunsTable>;
export type LeaseRow = Selectable<LeasesTable>;
export type BootEventRow = Selectable<BootEventsTable>;
export type NewBootEventRow = Insertable<BootEventsTable>;
