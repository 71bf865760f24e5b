-- Failed sign-ins per (email, client address) and per email ('*'), for known and unknown emails
-- alike. The email is stored only as a keyed hash; rows expire a day after their last failure.
CREATE TABLE login_failures (
    email_hash TEXT NOT NULL,
    address TEXT NOT NULL,
    failures INTEGER NOT NULL DEFAULT 0,
    locked_until TIMESTAMP,
    last_failure_at TIMESTAMP NOT NULL,
    PRIMARY KEY (email_hash, address)
);
CREATE INDEX login_failures_last_failure_at ON login_failures(last_failure_at);
