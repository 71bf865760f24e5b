DROP INDEX organizations_sync_off;
DROP INDEX organizations_orphans;
