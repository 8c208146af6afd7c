// 002: machine groups, and the index behind every timeline query ("this MAC's events between
// two times", and pruning a MAC's oldest events). 001 shipped without both.
import type { Migration } from 'kysely';
import type { UntypedDb } from '../dialect.ts';

export const groupsAndEventIndex: Migration = {
  async up(db: UntypedDb): Promise<void> {
    // Nullable: machines that existed before groups belong to none.
    await db.schema.alterTable('machines').addColumn('group', 'text').execute();
    await db.schema.createIndex('boot_events_mac_at').on('boot_events').columns(['mac', 'at']).execute();
    // Finding the LUNs that use a disk (refusing to remove it) would otherwise scan all LUNs.
    await db.schema.createIndex('luns_disk_id').on('luns').column('disk_id').execute();
  },
};
