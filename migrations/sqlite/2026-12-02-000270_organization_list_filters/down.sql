DROP INDEX organizations_alive_by_name;
DROP INDEX organizations_alive_by_update;
CREATE INDEX organizations_alive_by_name ON organizations(deleted_at, search_text, id);
CREATE INDEX organizations_alive_by_update ON organizations(deleted_at, updated_at, id);
