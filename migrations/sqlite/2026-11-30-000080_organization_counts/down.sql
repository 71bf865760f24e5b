DROP TRIGGER organization_counts_update;
DROP TRIGGER organization_counts_delete;
DROP TRIGGER organization_counts_insert;
DROP TABLE organization_counts;
