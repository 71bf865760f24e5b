-- Preview sync (src/psa/preview.rs): the dry run of a data load, its counts and fingerprints,
-- and one row per company or organization with what the load would do (the report page, Apply).
CREATE TABLE psa_previews (
    id INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    psa_kind TEXT NOT NULL,
    -- queued, running, done, incomplete (the PSA stopped answering), failed, applying, applied,
    -- stale (the PSA or Roster changed before Apply)
    state TEXT NOT NULL,
    requested_by TEXT NOT NULL,
    requested_at TIMESTAMP NOT NULL,
    finished_at TIMESTAMP,
    job_id BIGINT,
    -- the unsaved mapping previewed (the form's fields as JSON), none: the saved one
    mapping TEXT,
    companies INTEGER NOT NULL DEFAULT 0,
    -- what the PSA returned and what the plan does, compared again by Apply
    fingerprint TEXT NOT NULL DEFAULT '',
    plan_digest TEXT NOT NULL DEFAULT '',
    created INTEGER NOT NULL DEFAULT 0,
    linked INTEGER NOT NULL DEFAULT 0,
    updated INTEGER NOT NULL DEFAULT 0,
    unchanged INTEGER NOT NULL DEFAULT 0,
    orphaned INTEGER NOT NULL DEFAULT 0,
    same_name INTEGER NOT NULL DEFAULT 0,
    excluded INTEGER NOT NULL DEFAULT 0,
    not_syncing INTEGER NOT NULL DEFAULT 0,
    report TEXT NOT NULL DEFAULT '',
    error TEXT,
    -- the data load that applied it (or found it stale)
    load_id BIGINT
);
CREATE TABLE psa_preview_items (
    id INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    preview_id BIGINT NOT NULL REFERENCES psa_previews(id) ON DELETE CASCADE,
    position INTEGER NOT NULL,
    decision TEXT NOT NULL,
    company_id TEXT NOT NULL,
    company_name TEXT NOT NULL,
    -- no reference: the organization may be purged while the report is kept
    organization_id BIGINT,
    organization_name TEXT,
    detail TEXT NOT NULL
);
CREATE INDEX psa_preview_items_preview ON psa_preview_items(preview_id, decision, position);
