-- Marks along the Organizations list's two sort orders, so that a page number typed far from
-- both ends is read without walking the rows in front of it (src/orgs/marks.rs). Each mark is
-- the key of the first row of an interval of the order, [this mark, the next mark), and holds
-- how many visible (not deleted) organizations the interval has; the first mark is below every
-- key. A page is found by summing the totals up to it (300 to 500 marks at a million
-- organizations) and walking less than one interval from its mark. Intervals of 2,000 to 4,000
-- weigh the two: a mark read and summed costs about as much as five index entries walked.
--
-- Triggers keep the totals in the same transaction as every write to `organizations` (as for
-- `organization_counts`, migration 000080); an interval that reaches 4,000 rows is split in two
-- of 2,000 by a trigger on the marks themselves (recursive triggers are off: its own writes to
-- the marks do not fire it again), and the mark of an interval left empty is removed (its range
-- joins the interval before it).
CREATE TABLE organization_name_marks (
    search_text TEXT NOT NULL,
    id BIGINT NOT NULL,
    total BIGINT NOT NULL,
    PRIMARY KEY (search_text, id)
) WITHOUT ROWID;

CREATE TABLE organization_update_marks (
    updated_at TIMESTAMP NOT NULL,
    id BIGINT NOT NULL,
    total BIGINT NOT NULL,
    PRIMARY KEY (updated_at, id)
) WITHOUT ROWID;

-- The first marks, below every key, then one mark every 2,000 visible organizations.
INSERT INTO organization_name_marks (search_text, id, total)
SELECT '', 0, MIN(COUNT(*), 2000) FROM organizations WHERE deleted_at IS NULL;
INSERT INTO organization_name_marks (search_text, id, total)
SELECT search_text, id, MIN(n - row + 1, 2000) FROM (
    SELECT search_text, id, ROW_NUMBER() OVER (ORDER BY search_text, id) AS row,
           COUNT(*) OVER () AS n
    FROM organizations WHERE deleted_at IS NULL
) WHERE row % 2000 = 1 AND row > 1;

INSERT INTO organization_update_marks (updated_at, id, total)
SELECT '0001-01-01 00:00:00', 0, MIN(COUNT(*), 2000) FROM organizations WHERE deleted_at IS NULL;
INSERT INTO organization_update_marks (updated_at, id, total)
SELECT updated_at, id, MIN(n - row + 1, 2000) FROM (
    SELECT updated_at, id, ROW_NUMBER() OVER (ORDER BY updated_at, id) AS row,
           COUNT(*) OVER () AS n
    FROM organizations WHERE deleted_at IS NULL
) WHERE row % 2000 = 1 AND row > 1;

-- An organization counts in the interval of the greatest mark at or below its key.
CREATE TRIGGER organization_marks_insert AFTER INSERT ON organizations
WHEN new.deleted_at IS NULL BEGIN
    UPDATE organization_name_marks SET total = total + 1
    WHERE (search_text, id) = (
        SELECT search_text, id FROM organization_name_marks
        WHERE (search_text, id) <= (new.search_text, new.id)
        ORDER BY search_text DESC, id DESC LIMIT 1);
    UPDATE organization_update_marks SET total = total + 1
    WHERE (updated_at, id) = (
        SELECT updated_at, id FROM organization_update_marks
        WHERE (updated_at, id) <= (new.updated_at, new.id)
        ORDER BY updated_at DESC, id DESC LIMIT 1);
END;

CREATE TRIGGER organization_marks_delete AFTER DELETE ON organizations
WHEN old.deleted_at IS NULL BEGIN
    UPDATE organization_name_marks SET total = total - 1
    WHERE (search_text, id) = (
        SELECT search_text, id FROM organization_name_marks
        WHERE (search_text, id) <= (old.search_text, old.id)
        ORDER BY search_text DESC, id DESC LIMIT 1);
    UPDATE organization_update_marks SET total = total - 1
    WHERE (updated_at, id) = (
        SELECT updated_at, id FROM organization_update_marks
        WHERE (updated_at, id) <= (old.updated_at, old.id)
        ORDER BY updated_at DESC, id DESC LIMIT 1);
END;

-- An update moves the organization from its old interval to its new one when its key or its
-- visibility changes (a rename, an edit's new time, a deletion, a restore).
CREATE TRIGGER organization_name_marks_update AFTER UPDATE OF search_text, deleted_at
ON organizations
WHEN (old.deleted_at IS NULL) <> (new.deleted_at IS NULL)
  OR (new.deleted_at IS NULL AND old.search_text <> new.search_text)
BEGIN
    UPDATE organization_name_marks SET total = total - 1
    WHERE old.deleted_at IS NULL AND (search_text, id) = (
        SELECT search_text, id FROM organization_name_marks
        WHERE (search_text, id) <= (old.search_text, old.id)
        ORDER BY search_text DESC, id DESC LIMIT 1);
    UPDATE organization_name_marks SET total = total + 1
    WHERE new.deleted_at IS NULL AND (search_text, id) = (
        SELECT search_text, id FROM organization_name_marks
        WHERE (search_text, id) <= (new.search_text, new.id)
        ORDER BY search_text DESC, id DESC LIMIT 1);
END;

CREATE TRIGGER organization_update_marks_update AFTER UPDATE OF updated_at, deleted_at
ON organizations
WHEN (old.deleted_at IS NULL) <> (new.deleted_at IS NULL)
  OR (new.deleted_at IS NULL AND old.updated_at <> new.updated_at)
BEGIN
    UPDATE organization_update_marks SET total = total - 1
    WHERE old.deleted_at IS NULL AND (updated_at, id) = (
        SELECT updated_at, id FROM organization_update_marks
        WHERE (updated_at, id) <= (old.updated_at, old.id)
        ORDER BY updated_at DESC, id DESC LIMIT 1);
    UPDATE organization_update_marks SET total = total + 1
    WHERE new.deleted_at IS NULL AND (updated_at, id) = (
        SELECT updated_at, id FROM organization_update_marks
        WHERE (updated_at, id) <= (new.updated_at, new.id)
        ORDER BY updated_at DESC, id DESC LIMIT 1);
END;

-- An interval of 4,000 is split at its 2,001st row, which starts the new interval. Its rows are
-- the first `total` visible ones from its mark on, in the order's index.
CREATE TRIGGER organization_name_marks_split AFTER UPDATE OF total ON organization_name_marks
WHEN new.total >= 4000 BEGIN
    INSERT INTO organization_name_marks (search_text, id, total)
    SELECT search_text, id, new.total - 2000 FROM organizations
    WHERE deleted_at IS NULL AND (search_text, id) >= (new.search_text, new.id)
    ORDER BY search_text, id LIMIT 1 OFFSET 2000;
    UPDATE organization_name_marks SET total = 2000
    WHERE search_text = new.search_text AND id = new.id;
END;

CREATE TRIGGER organization_update_marks_split AFTER UPDATE OF total ON organization_update_marks
WHEN new.total >= 4000 BEGIN
    INSERT INTO organization_update_marks (updated_at, id, total)
    SELECT updated_at, id, new.total - 2000 FROM organizations
    WHERE deleted_at IS NULL AND (updated_at, id) >= (new.updated_at, new.id)
    ORDER BY updated_at, id LIMIT 1 OFFSET 2000;
    UPDATE organization_update_marks SET total = 2000
    WHERE updated_at = new.updated_at AND id = new.id;
END;

-- An interval left empty joins the one before it (the first mark stays).
CREATE TRIGGER organization_name_marks_empty AFTER UPDATE OF total ON organization_name_marks
WHEN new.total = 0 AND new.id <> 0 BEGIN
    DELETE FROM organization_name_marks WHERE search_text = new.search_text AND id = new.id;
END;

CREATE TRIGGER organization_update_marks_empty AFTER UPDATE OF total ON organization_update_marks
WHEN new.total = 0 AND new.id <> 0 BEGIN
    DELETE FROM organization_update_marks WHERE updated_at = new.updated_at AND id = new.id;
END;
