-- A passkey registration between its start and its finish: the WebAuthn state (with its
-- challenge) kept on the server, one per session (keyed by the session token's hash), taken once.
CREATE TABLE passkey_registrations (
    session_hash TEXT PRIMARY KEY NOT NULL,
    user_id BIGINT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    state TEXT NOT NULL,
    expires_at TIMESTAMP NOT NULL
);
CREATE INDEX passkey_registrations_user_id ON passkey_registrations(user_id);
CREATE INDEX passkey_registrations_expires_at ON passkey_registrations(expires_at);
