DROP INDEX organizations_alive_by_name;
DROP INDEX organizations_alive_by_update;
CREATE INDEX organizations_alive_by_name ON organizations(search_text, id) WHERE deleted_at IS NULL;
CREATE INDEX organizations_alive_by_update ON organizations(updated_at, id) WHERE deleted_at IS NULL;
