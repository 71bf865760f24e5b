-- PostgreSQL only (its foreign key from search_values became a statement trigger; see its
-- migration). SQLite's key check is an index lookup without a row lock and stays.
SELECT 1;
