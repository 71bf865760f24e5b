-- A password's one-time-password secret (an IT Glue import brings it), sealed like the password.
ALTER TABLE records ADD COLUMN otp_nonce BYTEA;
ALTER TABLE records ADD COLUMN otp_sealed BYTEA;
