DROP INDEX audit_events_subject_user_id;
ALTER TABLE audit_events DROP COLUMN subject_user_id;
DROP TABLE pending_signins;
DROP TABLE recovery_codes;
DROP TABLE passkeys;
DROP TABLE totp_factors;
