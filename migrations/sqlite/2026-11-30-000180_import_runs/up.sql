-- An import being applied (one per job of kind 'itglue-import'): where it reads from, how far it
-- got (the stage, i.e. the file, and the rows of that file done), so that a job killed midway
-- resumes where it stopped, and what it did. import_notes hold the report: each failure and each
-- thing that needs a person's eye (a field changed in Roster since the import, an unknown column).
CREATE TABLE import_runs (
    job_id BIGINT PRIMARY KEY NOT NULL,
    source TEXT NOT NULL,
    started_at TIMESTAMP NOT NULL,
    stage INTEGER NOT NULL,
    stage_rows BIGINT NOT NULL,
    created BIGINT NOT NULL,
    updated BIGINT NOT NULL,
    unchanged BIGINT NOT NULL,
    failed BIGINT NOT NULL,
    kept BIGINT NOT NULL
);
CREATE TABLE import_notes (
    id INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    job_id BIGINT NOT NULL REFERENCES import_runs(job_id) ON DELETE CASCADE,
    file TEXT NOT NULL,
    line BIGINT NOT NULL,
    note TEXT NOT NULL
);
CREATE INDEX import_notes_job_id ON import_notes(job_id);
