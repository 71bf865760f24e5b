-- Manage Data reads the orphans and the linked organizations whose sync is off, both few, from
-- indexes of their own; the synced organizations' counts are the maintained counts of linked ones
-- less those (src/psa/orphans.rs). It read every organization for each (680 ms at a million).
-- The statements write the partial indexes' conditions as they are written here.
CREATE INDEX organizations_orphans ON organizations(orphaned_at, id) WHERE orphaned_at IS NOT NULL;
CREATE INDEX organizations_sync_off ON organizations(type_id, status_id)
    WHERE psa_company_id IS NOT NULL AND NOT sync_enabled;
-- New indexes have no statistics until analyzed (see migration 000270).
ANALYZE organizations;
