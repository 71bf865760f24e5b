DROP INDEX organizations_deletion_job_id;
ALTER TABLE organizations DROP COLUMN deletion_job_id;
DROP TABLE jobs;
