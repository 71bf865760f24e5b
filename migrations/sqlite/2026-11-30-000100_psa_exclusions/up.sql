-- PSA companies that data loads leave alone (src/orgs/exclusions.rs): recorded by Disable sync
-- and by deleting an organization that was linked; neither re-linked, re-created nor matched by
-- name until someone clicks Include again on the PSA settings page.
CREATE TABLE psa_exclusions (
    id INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    psa_kind TEXT NOT NULL,
    company_id TEXT NOT NULL,
    name TEXT NOT NULL,
    -- the organization that was linked (none once it is purged)
    organization_id BIGINT REFERENCES organizations(id) ON DELETE SET NULL,
    excluded_by TEXT NOT NULL,
    excluded_at TIMESTAMP NOT NULL,
    UNIQUE (psa_kind, company_id)
);
CREATE INDEX psa_exclusions_organization_id ON psa_exclusions(organization_id);
