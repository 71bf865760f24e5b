-- PostgreSQL only (the statistics its planner reads for a search; see its migration). SQLite
-- keeps no statistics of column values here.
SELECT 1;
