-- Two-factor sign-in: a TOTP secret per user (sealed with the data key), passkeys, recovery codes
-- (hashed), the short-lived state between the password step and the second step (not a session),
-- and the user an account event is about, so that a user's page can list them.
CREATE TABLE totp_factors (
    user_id BIGINT PRIMARY KEY NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    secret_nonce BLOB NOT NULL,
    secret_sealed BLOB NOT NULL,
    confirmed_at TIMESTAMP,
    last_step BIGINT,
    created_at TIMESTAMP NOT NULL
);

CREATE TABLE passkeys (
    id INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    user_id BIGINT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    credential_id TEXT NOT NULL UNIQUE,
    credential TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    last_used_at TIMESTAMP
);
CREATE INDEX passkeys_user_id ON passkeys(user_id);

CREATE TABLE recovery_codes (
    id INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    user_id BIGINT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    code_hash TEXT NOT NULL,
    used_at TIMESTAMP
);
CREATE INDEX recovery_codes_user_id ON recovery_codes(user_id);

CREATE TABLE pending_signins (
    id INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    token_hash TEXT NOT NULL UNIQUE,
    user_id BIGINT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    purpose TEXT NOT NULL,
    next_path TEXT NOT NULL,
    ceremony TEXT,
    created_at TIMESTAMP NOT NULL,
    expires_at TIMESTAMP NOT NULL
);
CREATE INDEX pending_signins_user_id ON pending_signins(user_id);
CREATE INDEX pending_signins_expires_at ON pending_signins(expires_at);

ALTER TABLE audit_events ADD COLUMN subject_user_id BIGINT;
CREATE INDEX audit_events_subject_user_id ON audit_events(subject_user_id);
