-- A change of parent is stored by id and named with the reader's access when shown, so History
-- never names an organization the reader cannot see.
ALTER TABLE audit_events ADD COLUMN parent_from BIGINT;
ALTER TABLE audit_events ADD COLUMN parent_to BIGINT;
