-- Transactions that write organizations queue for the count rows before their first write.
--
-- The counts' statement-level upsert locks its rows in key order, but a transaction of several
-- statements (a bulk delete marks one selected organization per statement) takes them across its
-- statements in any order: deleting a Vendor then a Customer while an edit re-types a Customer
-- into a Vendor deadlocked, and PostgreSQL aborted one of them. A transaction-scoped advisory
-- lock taken before each writing statement (before its rows are locked) makes writers of
-- organizations take their turn, as SQLite's BEGIN IMMEDIATE already does; readers never wait.
CREATE FUNCTION organization_writers_queue() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_advisory_xact_lock(7395013288541960219);
    RETURN NULL;
END;
$$;

CREATE TRIGGER organization_writers_queue BEFORE INSERT OR UPDATE OR DELETE ON organizations
FOR EACH STATEMENT EXECUTE FUNCTION organization_writers_queue();
