ALTER TABLE audit_events DROP COLUMN parent_to;
ALTER TABLE audit_events DROP COLUMN parent_from;
