-- API keys: each acts as one user (its role and organization access apply). The key itself is
-- random and long, so it is stored as a keyed hash (HMAC-SHA256 under the session key), never as
-- text; the prefix is shown to tell keys apart. Revoked keys stay for the record.
CREATE TABLE api_keys (
    id INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    name TEXT NOT NULL,
    prefix TEXT NOT NULL UNIQUE,
    key_hash TEXT NOT NULL UNIQUE,
    user_id BIGINT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    password_access BOOLEAN NOT NULL,
    expires_at TIMESTAMP,
    revoked_at TIMESTAMP,
    last_used_at TIMESTAMP,
    last_used_from TEXT,
    created_by BIGINT REFERENCES users(id) ON DELETE SET NULL,
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX api_keys_user_id ON api_keys(user_id);
CREATE INDEX api_keys_created_by ON api_keys(created_by);
