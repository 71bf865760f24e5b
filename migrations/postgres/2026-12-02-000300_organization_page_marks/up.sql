-- Marks along the Organizations list's two sort orders, so that a page number typed far from
-- both ends is read without walking the rows in front of it (src/orgs/marks.rs). Each mark is
-- the key of the first row of an interval of the order, [this mark, the next mark), and holds
-- how many visible (not deleted) organizations the interval has; the first mark is below every
-- key. A page is found by summing the totals up to it (300 to 500 marks at a million
-- organizations) and walking less than one interval from its mark. Intervals of 2,000 to 4,000
-- weigh the two: a mark read and summed costs about as much as five index entries walked.
--
-- Statement-level triggers keep the totals in the same transaction as every write to
-- `organizations` (as for `organization_counts`, migration 000080; writers queue on the advisory
-- lock of migration 000190), then split each interval that reached 4,000 rows into intervals of
-- 2,000 and remove the mark of each interval left empty (its range joins the interval before it).
CREATE TABLE organization_name_marks (
    search_text TEXT NOT NULL,
    id BIGINT NOT NULL,
    total BIGINT NOT NULL,
    PRIMARY KEY (search_text, id)
);

CREATE TABLE organization_update_marks (
    updated_at TIMESTAMP NOT NULL,
    id BIGINT NOT NULL,
    total BIGINT NOT NULL,
    PRIMARY KEY (updated_at, id)
);

-- The first marks, below every key, then one mark every 2,000 visible organizations.
INSERT INTO organization_name_marks (search_text, id, total)
SELECT '', 0, LEAST(COUNT(*), 2000) FROM organizations WHERE deleted_at IS NULL;
INSERT INTO organization_name_marks (search_text, id, total)
SELECT search_text, id, LEAST(n - row + 1, 2000) FROM (
    SELECT search_text, id, ROW_NUMBER() OVER (ORDER BY search_text, id) AS row,
           COUNT(*) OVER () AS n
    FROM organizations WHERE deleted_at IS NULL
) AS numbered WHERE row % 2000 = 1 AND row > 1;

INSERT INTO organization_update_marks (updated_at, id, total)
SELECT '0001-01-01 00:00:00', 0, LEAST(COUNT(*), 2000) FROM organizations WHERE deleted_at IS NULL;
INSERT INTO organization_update_marks (updated_at, id, total)
SELECT updated_at, id, LEAST(n - row + 1, 2000) FROM (
    SELECT updated_at, id, ROW_NUMBER() OVER (ORDER BY updated_at, id) AS row,
           COUNT(*) OVER () AS n
    FROM organizations WHERE deleted_at IS NULL
) AS numbered WHERE row % 2000 = 1 AND row > 1;

-- Adds each delta to the interval of the greatest mark at or below its key, then splits every
-- interval that reached 4,000 at its 2,001st row (its rows are the first `total` visible ones
-- from its mark on, in the order's index) until none is left that long, and removes the marks of
-- intervals left empty (but the first).
CREATE FUNCTION organization_name_marks_add(keys TEXT[], ids BIGINT[], deltas BIGINT[])
RETURNS void LANGUAGE plpgsql AS $$
DECLARE
    m RECORD;
    cut RECORD;
BEGIN
    FOR m IN
        WITH moved AS (
            SELECT mark.search_text, mark.id, SUM(c.d) AS d
            FROM unnest(keys, ids, deltas) AS c(k, i, d)
            CROSS JOIN LATERAL (
                SELECT x.search_text, x.id FROM organization_name_marks x
                WHERE (x.search_text, x.id) <= (c.k, c.i)
                ORDER BY x.search_text DESC, x.id DESC LIMIT 1) AS mark
            GROUP BY mark.search_text, mark.id HAVING SUM(c.d) <> 0
            ORDER BY mark.search_text, mark.id
        )
        UPDATE organization_name_marks x SET total = x.total + moved.d FROM moved
        WHERE x.search_text = moved.search_text AND x.id = moved.id
        RETURNING x.search_text, x.id, x.total
    LOOP
        IF m.total = 0 AND m.id <> 0 THEN
            DELETE FROM organization_name_marks WHERE search_text = m.search_text AND id = m.id;
        END IF;
        WHILE m.total >= 4000 LOOP
            SELECT o.search_text, o.id INTO cut FROM organizations o
            WHERE o.deleted_at IS NULL AND (o.search_text, o.id) >= (m.search_text, m.id)
            ORDER BY o.search_text, o.id OFFSET 2000 LIMIT 1;
            INSERT INTO organization_name_marks (search_text, id, total)
            VALUES (cut.search_text, cut.id, m.total - 2000);
            UPDATE organization_name_marks SET total = 2000
            WHERE search_text = m.search_text AND id = m.id;
            m.search_text := cut.search_text;
            m.id := cut.id;
            m.total := m.total - 2000;
        END LOOP;
    END LOOP;
END;
$$;

CREATE FUNCTION organization_update_marks_add(keys TIMESTAMP[], ids BIGINT[], deltas BIGINT[])
RETURNS void LANGUAGE plpgsql AS $$
DECLARE
    m RECORD;
    cut RECORD;
BEGIN
    FOR m IN
        WITH moved AS (
            SELECT mark.updated_at, mark.id, SUM(c.d) AS d
            FROM unnest(keys, ids, deltas) AS c(k, i, d)
            CROSS JOIN LATERAL (
                SELECT x.updated_at, x.id FROM organization_update_marks x
                WHERE (x.updated_at, x.id) <= (c.k, c.i)
                ORDER BY x.updated_at DESC, x.id DESC LIMIT 1) AS mark
            GROUP BY mark.updated_at, mark.id HAVING SUM(c.d) <> 0
            ORDER BY mark.updated_at, mark.id
        )
        UPDATE organization_update_marks x SET total = x.total + moved.d FROM moved
        WHERE x.updated_at = moved.updated_at AND x.id = moved.id
        RETURNING x.updated_at, x.id, x.total
    LOOP
        IF m.total = 0 AND m.id <> 0 THEN
            DELETE FROM organization_update_marks WHERE updated_at = m.updated_at AND id = m.id;
        END IF;
        WHILE m.total >= 4000 LOOP
            SELECT o.updated_at, o.id INTO cut FROM organizations o
            WHERE o.deleted_at IS NULL AND (o.updated_at, o.id) >= (m.updated_at, m.id)
            ORDER BY o.updated_at, o.id OFFSET 2000 LIMIT 1;
            INSERT INTO organization_update_marks (updated_at, id, total)
            VALUES (cut.updated_at, cut.id, m.total - 2000);
            UPDATE organization_update_marks SET total = 2000
            WHERE updated_at = m.updated_at AND id = m.id;
            m.updated_at := cut.updated_at;
            m.id := cut.id;
            m.total := m.total - 2000;
        END LOOP;
    END LOOP;
END;
$$;

-- The rows a statement wrote, as deltas to the intervals of their old and new keys: an insert
-- adds its visible rows, a delete takes them away, an update moves the rows whose key or
-- visibility changed (a rename, an edit's new time, a deletion, a restore).
CREATE FUNCTION organization_marks_apply() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    name_keys TEXT[];
    name_ids BIGINT[];
    name_deltas BIGINT[];
    update_keys TIMESTAMP[];
    update_ids BIGINT[];
    update_deltas BIGINT[];
BEGIN
    IF TG_OP = 'INSERT' THEN
        SELECT array_agg(search_text), array_agg(updated_at), array_agg(id), array_agg(1::BIGINT)
        INTO name_keys, update_keys, name_ids, name_deltas
        FROM new_rows WHERE deleted_at IS NULL;
        update_ids := name_ids;
        update_deltas := name_deltas;
    ELSIF TG_OP = 'DELETE' THEN
        SELECT array_agg(search_text), array_agg(updated_at), array_agg(id), array_agg(-1::BIGINT)
        INTO name_keys, update_keys, name_ids, name_deltas
        FROM old_rows WHERE deleted_at IS NULL;
        update_ids := name_ids;
        update_deltas := name_deltas;
    ELSE
        WITH changed AS (
            SELECT o.id, o.search_text AS old_key, n.search_text AS new_key,
                   o.deleted_at IS NULL AS was_alive, n.deleted_at IS NULL AS is_alive
            FROM old_rows o JOIN new_rows n ON n.id = o.id
        ), moves AS (
            SELECT old_key AS k, id, -1::BIGINT AS d FROM changed
            WHERE was_alive AND (NOT is_alive OR old_key <> new_key)
            UNION ALL
            SELECT new_key, id, 1 FROM changed WHERE is_alive AND (NOT was_alive OR old_key <> new_key)
        )
        SELECT array_agg(k), array_agg(id), array_agg(d) INTO name_keys, name_ids, name_deltas
        FROM moves;
        WITH changed AS (
            SELECT o.id, o.updated_at AS old_key, n.updated_at AS new_key,
                   o.deleted_at IS NULL AS was_alive, n.deleted_at IS NULL AS is_alive
            FROM old_rows o JOIN new_rows n ON n.id = o.id
        ), moves AS (
            SELECT old_key AS k, id, -1::BIGINT AS d FROM changed
            WHERE was_alive AND (NOT is_alive OR old_key <> new_key)
            UNION ALL
            SELECT new_key, id, 1 FROM changed WHERE is_alive AND (NOT was_alive OR old_key <> new_key)
        )
        SELECT array_agg(k), array_agg(id), array_agg(d) INTO update_keys, update_ids, update_deltas
        FROM moves;
    END IF;
    IF name_ids IS NOT NULL THEN
        PERFORM organization_name_marks_add(name_keys, name_ids, name_deltas);
    END IF;
    IF update_ids IS NOT NULL THEN
        PERFORM organization_update_marks_add(update_keys, update_ids, update_deltas);
    END IF;
    RETURN NULL;
END;
$$;

CREATE TRIGGER organization_marks_insert AFTER INSERT ON organizations
REFERENCING NEW TABLE AS new_rows
FOR EACH STATEMENT EXECUTE FUNCTION organization_marks_apply();

CREATE TRIGGER organization_marks_update AFTER UPDATE ON organizations
REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
FOR EACH STATEMENT EXECUTE FUNCTION organization_marks_apply();

CREATE TRIGGER organization_marks_delete AFTER DELETE ON organizations
REFERENCING OLD TABLE AS old_rows
FOR EACH STATEMENT EXECUTE FUNCTION organization_marks_apply();
