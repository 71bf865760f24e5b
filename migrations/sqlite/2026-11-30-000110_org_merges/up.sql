-- Merges of duplicate organizations: what moved from the merged-away organization to the kept one,
-- so that a Restore of the merged-away organization (during the deletion's grace period) can move
-- it all back. The id lists are JSON arrays; before_merge holds the kept organization's alert,
-- quick notes, description and both PSA links as they were. undone_at is set by that Restore.
CREATE TABLE organization_merges (
    id INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    merged_id BIGINT NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
    kept_id BIGINT NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
    deletion_job_id BIGINT NOT NULL,
    merged_by BIGINT REFERENCES users(id) ON DELETE SET NULL,
    merged_at TIMESTAMP NOT NULL,
    record_ids TEXT NOT NULL,
    sub_ids TEXT NOT NULL,
    access_user_ids TEXT NOT NULL,
    logo_moved BOOLEAN NOT NULL,
    psa_moved BOOLEAN NOT NULL,
    before_merge TEXT NOT NULL,
    undone_at TIMESTAMP
);
CREATE INDEX organization_merges_merged_id ON organization_merges(merged_id);
CREATE INDEX organization_merges_kept_id ON organization_merges(kept_id);
CREATE INDEX organization_merges_merged_by ON organization_merges(merged_by);
CREATE INDEX organization_merges_deletion_job_id ON organization_merges(deletion_job_id);
