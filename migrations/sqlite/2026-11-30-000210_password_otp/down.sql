ALTER TABLE records DROP COLUMN otp_sealed;
ALTER TABLE records DROP COLUMN otp_nonce;
