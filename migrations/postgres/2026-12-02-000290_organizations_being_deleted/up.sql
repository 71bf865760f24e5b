-- The organizations being deleted, few (until their purge), by type and status: a type or status
-- is in use by the visible organizations the maintained counts hold and by these
-- (src/orgs/kinds.rs). The list's indexes leave them out; counting them read every organization.
CREATE INDEX organizations_being_deleted ON organizations(type_id, status_id)
    WHERE deleted_at IS NOT NULL;
