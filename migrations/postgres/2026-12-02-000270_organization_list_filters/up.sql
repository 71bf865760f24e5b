-- The list's filters (type, status, linked to a PSA) are tested in its sort indexes: a filtered
-- page walks the index (the filters are index conditions on its trailing columns) and reads from
-- the table only the rows it shows. With the filters' columns outside the index, each
-- organization the walk passed over was read from the table to be tested (page 1 of Vendors that
-- are Inactive: 6.6 ms at 100,000 organizations, 0.7 ms with them in the index).
DROP INDEX organizations_alive_by_name;
DROP INDEX organizations_alive_by_update;
CREATE INDEX organizations_alive_by_name
    ON organizations(search_text, id, type_id, status_id, psa_company_id) WHERE deleted_at IS NULL;
CREATE INDEX organizations_alive_by_update
    ON organizations(updated_at, id, type_id, status_id, psa_company_id) WHERE deleted_at IS NULL;
