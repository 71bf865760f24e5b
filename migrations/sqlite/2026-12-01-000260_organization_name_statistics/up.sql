-- PostgreSQL only (the statistics its organization search reads; see its migration). SQLite's
-- search counts through its FTS5 trigram index.
SELECT 1;
