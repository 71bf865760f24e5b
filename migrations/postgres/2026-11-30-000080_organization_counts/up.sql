-- How many visible (not deleted) organizations there are, per type, status and PSA link (0 stands
-- for "none"), so that the list's counts read a few rows instead of every organization. Triggers
-- keep it right in the same transaction as every write, bulk ones included (see src/orgs/counts.rs).
CREATE TABLE organization_counts (
    type_id BIGINT NOT NULL,
    status_id BIGINT NOT NULL,
    psa_linked BOOLEAN NOT NULL,
    total BIGINT NOT NULL,
    PRIMARY KEY (type_id, status_id, psa_linked)
);

INSERT INTO organization_counts (type_id, status_id, psa_linked, total)
SELECT COALESCE(type_id, 0), COALESCE(status_id, 0), psa_company_id IS NOT NULL, COUNT(*)
FROM organizations WHERE deleted_at IS NULL
GROUP BY 1, 2, 3;

-- Statement-level triggers with transition tables: a statement that writes a thousand rows
-- applies its changes to the counts in one grouped upsert, in key order (so that two writers
-- lock the count rows in the same order and cannot deadlock).
CREATE FUNCTION organization_counts_apply() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        INSERT INTO organization_counts (type_id, status_id, psa_linked, total)
        SELECT COALESCE(type_id, 0), COALESCE(status_id, 0), psa_company_id IS NOT NULL, COUNT(*)
        FROM new_rows WHERE deleted_at IS NULL
        GROUP BY 1, 2, 3 ORDER BY 1, 2, 3
        ON CONFLICT (type_id, status_id, psa_linked)
        DO UPDATE SET total = organization_counts.total + EXCLUDED.total;
    ELSIF TG_OP = 'DELETE' THEN
        INSERT INTO organization_counts (type_id, status_id, psa_linked, total)
        SELECT COALESCE(type_id, 0), COALESCE(status_id, 0), psa_company_id IS NOT NULL, -COUNT(*)
        FROM old_rows WHERE deleted_at IS NULL
        GROUP BY 1, 2, 3 ORDER BY 1, 2, 3
        ON CONFLICT (type_id, status_id, psa_linked)
        DO UPDATE SET total = organization_counts.total + EXCLUDED.total;
    ELSE
        INSERT INTO organization_counts (type_id, status_id, psa_linked, total)
        SELECT t, s, l, SUM(d) FROM (
            SELECT COALESCE(type_id, 0) AS t, COALESCE(status_id, 0) AS s,
                   psa_company_id IS NOT NULL AS l, 1 AS d
            FROM new_rows WHERE deleted_at IS NULL
            UNION ALL
            SELECT COALESCE(type_id, 0), COALESCE(status_id, 0), psa_company_id IS NOT NULL, -1
            FROM old_rows WHERE deleted_at IS NULL
        ) AS changes
        GROUP BY t, s, l HAVING SUM(d) <> 0 ORDER BY t, s, l
        ON CONFLICT (type_id, status_id, psa_linked)
        DO UPDATE SET total = organization_counts.total + EXCLUDED.total;
    END IF;
    RETURN NULL;
END;
$$;

CREATE TRIGGER organization_counts_insert AFTER INSERT ON organizations
REFERENCING NEW TABLE AS new_rows
FOR EACH STATEMENT EXECUTE FUNCTION organization_counts_apply();

CREATE TRIGGER organization_counts_update AFTER UPDATE ON organizations
REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
FOR EACH STATEMENT EXECUTE FUNCTION organization_counts_apply();

CREATE TRIGGER organization_counts_delete AFTER DELETE ON organizations
REFERENCING OLD TABLE AS old_rows
FOR EACH STATEMENT EXECUTE FUNCTION organization_counts_apply();
