-- The marks of migration 000300 kept in each server process between writes (src/orgs/marks.rs),
-- and intervals of 500 to 1,000 organizations instead of 2,000 to 4,000: read from the process,
-- the marks cost nothing however many they are, and a typed page walks less than a quarter as
-- far from its mark (2,000 to 4,000 index entries passed over were most of such a page's time).
--
-- The version counts the statements that wrote to the marks; a process reads it for each typed
-- page (one row) and reads the marks again only when it moved, so an instance sees another's
-- writes at its next typed page. Writers of the marks already queue on the advisory lock of
-- migration 000190 (they are the triggers of `organizations`), so its row adds no waiting.
CREATE TABLE organization_marks_version (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    version BIGINT NOT NULL
);
INSERT INTO organization_marks_version (id, version) VALUES (1, 1);

CREATE FUNCTION organization_marks_bump() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE organization_marks_version SET version = version + 1 WHERE id = 1;
    RETURN NULL;
END;
$$;

CREATE TRIGGER organization_name_marks_version AFTER INSERT OR UPDATE OR DELETE
ON organization_name_marks FOR EACH STATEMENT EXECUTE FUNCTION organization_marks_bump();

CREATE TRIGGER organization_update_marks_version AFTER INSERT OR UPDATE OR DELETE
ON organization_update_marks FOR EACH STATEMENT EXECUTE FUNCTION organization_marks_bump();

-- An interval of 1,000 is split at its 501st row (as in migration 000300, at other sizes).
CREATE OR REPLACE FUNCTION organization_name_marks_add(keys TEXT[], ids BIGINT[], deltas BIGINT[])
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
        WHILE m.total >= 1000 LOOP
            SELECT o.search_text, o.id INTO cut FROM organizations o
            WHERE o.deleted_at IS NULL AND (o.search_text, o.id) >= (m.search_text, m.id)
            ORDER BY o.search_text, o.id OFFSET 500 LIMIT 1;
            INSERT INTO organization_name_marks (search_text, id, total)
            VALUES (cut.search_text, cut.id, m.total - 500);
            UPDATE organization_name_marks SET total = 500
            WHERE search_text = m.search_text AND id = m.id;
            m.search_text := cut.search_text;
            m.id := cut.id;
            m.total := m.total - 500;
        END LOOP;
    END LOOP;
END;
$$;

CREATE OR REPLACE FUNCTION organization_update_marks_add(keys TIMESTAMP[], ids BIGINT[], deltas BIGINT[])
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
        WHILE m.total >= 1000 LOOP
            SELECT o.updated_at, o.id INTO cut FROM organizations o
            WHERE o.deleted_at IS NULL AND (o.updated_at, o.id) >= (m.updated_at, m.id)
            ORDER BY o.updated_at, o.id OFFSET 500 LIMIT 1;
            INSERT INTO organization_update_marks (updated_at, id, total)
            VALUES (cut.updated_at, cut.id, m.total - 500);
            UPDATE organization_update_marks SET total = 500
            WHERE updated_at = m.updated_at AND id = m.id;
            m.updated_at := cut.updated_at;
            m.id := cut.id;
            m.total := m.total - 500;
        END LOOP;
    END LOOP;
END;
$$;

-- The marks again, one every 500 visible organizations.
DELETE FROM organization_name_marks;
INSERT INTO organization_name_marks (search_text, id, total)
SELECT '', 0, LEAST(COUNT(*), 500) FROM organizations WHERE deleted_at IS NULL;
INSERT INTO organization_name_marks (search_text, id, total)
SELECT search_text, id, LEAST(n - row + 1, 500) FROM (
    SELECT search_text, id, ROW_NUMBER() OVER (ORDER BY search_text, id) AS row,
           COUNT(*) OVER () AS n
    FROM organizations WHERE deleted_at IS NULL
) AS numbered WHERE row % 500 = 1 AND row > 1;

DELETE FROM organization_update_marks;
INSERT INTO organization_update_marks (updated_at, id, total)
SELECT '0001-01-01 00:00:00', 0, LEAST(COUNT(*), 500) FROM organizations WHERE deleted_at IS NULL;
INSERT INTO organization_update_marks (updated_at, id, total)
SELECT updated_at, id, LEAST(n - row + 1, 500) FROM (
    SELECT updated_at, id, ROW_NUMBER() OVER (ORDER BY updated_at, id) AS row,
           COUNT(*) OVER () AS n
    FROM organizations WHERE deleted_at IS NULL
) AS numbered WHERE row % 500 = 1 AND row > 1;
