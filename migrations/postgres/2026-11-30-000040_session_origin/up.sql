-- Where a session was started from, for the user's list of their sessions (My account): the
-- client address the sign-in computed and the browser's User-Agent, capped in length.
ALTER TABLE sessions ADD COLUMN client_address TEXT;
ALTER TABLE sessions ADD COLUMN user_agent TEXT;
