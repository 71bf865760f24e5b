-- PostgreSQL only (the trigram index's pending list; see its migration). SQLite's trigram table
-- merges its segments as it goes.
SELECT 1;
