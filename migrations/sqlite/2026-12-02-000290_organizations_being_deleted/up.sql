-- PostgreSQL only (an index of the organizations being deleted; see its migration). SQLite's
-- sort indexes lead with deleted_at and hold the type and status (migration 000270): they serve.
SELECT 1;
