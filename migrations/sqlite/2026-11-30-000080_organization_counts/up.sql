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

CREATE TRIGGER organization_counts_insert AFTER INSERT ON organizations
WHEN new.deleted_at IS NULL BEGIN
    INSERT INTO organization_counts (type_id, status_id, psa_linked, total)
    VALUES (COALESCE(new.type_id, 0), COALESCE(new.status_id, 0), new.psa_company_id IS NOT NULL, 1)
    ON CONFLICT (type_id, status_id, psa_linked) DO UPDATE SET total = total + 1;
END;

CREATE TRIGGER organization_counts_delete AFTER DELETE ON organizations
WHEN old.deleted_at IS NULL BEGIN
    UPDATE organization_counts SET total = total - 1
    WHERE type_id = COALESCE(old.type_id, 0) AND status_id = COALESCE(old.status_id, 0)
      AND psa_linked = (old.psa_company_id IS NOT NULL);
END;

-- An update moves the organization from its old key to its new one when the key or its
-- visibility changes; the WHEN clauses skip every other update (names, notes, times).
CREATE TRIGGER organization_counts_update AFTER UPDATE OF type_id, status_id, psa_company_id, deleted_at
ON organizations
WHEN (old.deleted_at IS NULL) <> (new.deleted_at IS NULL)
  OR (new.deleted_at IS NULL AND (
      COALESCE(old.type_id, 0) <> COALESCE(new.type_id, 0)
      OR COALESCE(old.status_id, 0) <> COALESCE(new.status_id, 0)
      OR (old.psa_company_id IS NULL) <> (new.psa_company_id IS NULL)))
BEGIN
    UPDATE organization_counts SET total = total - 1
    WHERE old.deleted_at IS NULL
      AND type_id = COALESCE(old.type_id, 0) AND status_id = COALESCE(old.status_id, 0)
      AND psa_linked = (old.psa_company_id IS NOT NULL);
    INSERT INTO organization_counts (type_id, status_id, psa_linked, total)
    SELECT COALESCE(new.type_id, 0), COALESCE(new.status_id, 0), new.psa_company_id IS NOT NULL, 1
    WHERE new.deleted_at IS NULL
    ON CONFLICT (type_id, status_id, psa_linked) DO UPDATE SET total = total + 1;
END;
