-- The durable job queue (src/jobs): work that outlives a request, such as purging deleted
-- organizations. A worker leases a job; a job whose worker died is taken up again when the
-- lease runs out.
CREATE TABLE jobs (
    id INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    kind TEXT NOT NULL,
    payload TEXT NOT NULL,
    -- the organization the job is about; not a reference, because the job outlives it
    organization_id BIGINT,
    state TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    run_after TIMESTAMP NOT NULL,
    lease_owner TEXT,
    lease_until TIMESTAMP,
    progress_done BIGINT NOT NULL DEFAULT 0,
    progress_total BIGINT NOT NULL DEFAULT 0,
    last_error TEXT,
    created_by BIGINT REFERENCES users(id) ON DELETE SET NULL,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    finished_at TIMESTAMP
);
CREATE INDEX jobs_due ON jobs(state, run_after);
CREATE INDEX jobs_organization_id ON jobs(organization_id);
CREATE INDEX jobs_created_by ON jobs(created_by);

-- The deletion (a purge job) that an organization is waiting for; not a reference, so that the
-- column can be dropped again on SQLite.
ALTER TABLE organizations ADD COLUMN deletion_job_id BIGINT;
CREATE INDEX organizations_deletion_job_id ON organizations(deletion_job_id);
