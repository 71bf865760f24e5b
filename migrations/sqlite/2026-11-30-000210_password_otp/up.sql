-- A password's one-time-password secret (an IT Glue import brings it), sealed like the password.
ALTER TABLE records ADD COLUMN otp_nonce BLOB;
ALTER TABLE records ADD COLUMN otp_sealed BLOB;
