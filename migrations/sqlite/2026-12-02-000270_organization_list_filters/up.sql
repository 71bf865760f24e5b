-- The list's filters (type, status, linked to a PSA) are tested in its sort indexes: a filtered
-- page walks the index and reads from the table only the rows it shows. With the filters'
-- columns outside the index, each organization the walk passed over was looked up in the table
-- to be tested (a Prospect filter's page 300 took 856 ms at a million organizations, page 1 of
-- Vendors that are Inactive 18 ms; 48 and 2 ms with them in the index).
DROP INDEX organizations_alive_by_name;
DROP INDEX organizations_alive_by_update;
CREATE INDEX organizations_alive_by_name
    ON organizations(deleted_at, search_text, id, type_id, status_id, psa_company_id);
CREATE INDEX organizations_alive_by_update
    ON organizations(deleted_at, updated_at, id, type_id, status_id, psa_company_id);
-- New indexes have no statistics until analyzed, and without them the planner takes an equality
-- on an index's first column for a handful of rows: the list's lookup of parent names by id read
-- every organization through these indexes (113 ms at a million) until a connection opened after
-- this migration ran PRAGMA optimize. Analyzed here, as far as the connection's analysis_limit.
ANALYZE organizations;
