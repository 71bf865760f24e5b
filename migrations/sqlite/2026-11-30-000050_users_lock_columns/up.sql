-- Sign-in failures and locks live in login_failures (per email and client address) now.
ALTER TABLE users DROP COLUMN failed_logins;
ALTER TABLE users DROP COLUMN locked_until;
