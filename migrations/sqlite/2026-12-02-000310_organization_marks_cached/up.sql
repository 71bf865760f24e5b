-- The marks of migration 000300 kept in each server process between writes (src/orgs/marks.rs),
-- and intervals of 500 to 1,000 organizations instead of 2,000 to 4,000: read from the process,
-- the marks cost nothing however many they are, and a typed page walks less than a quarter as
-- far from its mark (2,000 to 4,000 index entries passed over were most of such a page's time).
--
-- The version counts the writes to the marks; a process reads it for each typed page (one row)
-- and reads the marks again only when it moved. Every change to the marks is an update of a
-- total fired by a write to `organizations` (a split or an empty interval's removal comes with
-- it, inside the same transaction), so the triggers on `total` bump it.
CREATE TABLE organization_marks_version (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    version BIGINT NOT NULL
);
INSERT INTO organization_marks_version (id, version) VALUES (1, 1);

CREATE TRIGGER organization_name_marks_version AFTER UPDATE OF total ON organization_name_marks
BEGIN
    UPDATE organization_marks_version SET version = version + 1 WHERE id = 1;
END;

CREATE TRIGGER organization_update_marks_version AFTER UPDATE OF total ON organization_update_marks
BEGIN
    UPDATE organization_marks_version SET version = version + 1 WHERE id = 1;
END;

-- An interval of 1,000 is split at its 501st row.
DROP TRIGGER organization_name_marks_split;
DROP TRIGGER organization_update_marks_split;

CREATE TRIGGER organization_name_marks_split AFTER UPDATE OF total ON organization_name_marks
WHEN new.total >= 1000 BEGIN
    INSERT INTO organization_name_marks (search_text, id, total)
    SELECT search_text, id, new.total - 500 FROM organizations
    WHERE deleted_at IS NULL AND (search_text, id) >= (new.search_text, new.id)
    ORDER BY search_text, id LIMIT 1 OFFSET 500;
    UPDATE organization_name_marks SET total = 500
    WHERE search_text = new.search_text AND id = new.id;
END;

CREATE TRIGGER organization_update_marks_split AFTER UPDATE OF total ON organization_update_marks
WHEN new.total >= 1000 BEGIN
    INSERT INTO organization_update_marks (updated_at, id, total)
    SELECT updated_at, id, new.total - 500 FROM organizations
    WHERE deleted_at IS NULL AND (updated_at, id) >= (new.updated_at, new.id)
    ORDER BY updated_at, id LIMIT 1 OFFSET 500;
    UPDATE organization_update_marks SET total = 500
    WHERE updated_at = new.updated_at AND id = new.id;
END;

-- The marks again, one every 500 visible organizations.
DELETE FROM organization_name_marks;
INSERT INTO organization_name_marks (search_text, id, total)
SELECT '', 0, MIN(COUNT(*), 500) FROM organizations WHERE deleted_at IS NULL;
INSERT INTO organization_name_marks (search_text, id, total)
SELECT search_text, id, MIN(n - row + 1, 500) FROM (
    SELECT search_text, id, ROW_NUMBER() OVER (ORDER BY search_text, id) AS row,
           COUNT(*) OVER () AS n
    FROM organizations WHERE deleted_at IS NULL
) WHERE row % 500 = 1 AND row > 1;

DELETE FROM organization_update_marks;
INSERT INTO organization_update_marks (updated_at, id, total)
SELECT '0001-01-01 00:00:00', 0, MIN(COUNT(*), 500) FROM organizations WHERE deleted_at IS NULL;
INSERT INTO organization_update_marks (updated_at, id, total)
SELECT updated_at, id, MIN(n - row + 1, 500) FROM (
    SELECT updated_at, id, ROW_NUMBER() OVER (ORDER BY updated_at, id) AS row,
           COUNT(*) OVER () AS n
    FROM organizations WHERE deleted_at IS NULL
) WHERE row % 500 = 1 AND row > 1;
