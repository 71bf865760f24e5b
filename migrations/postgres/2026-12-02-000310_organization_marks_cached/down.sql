DROP TRIGGER organization_update_marks_version ON organization_update_marks;
DROP TRIGGER organization_name_marks_version ON organization_name_marks;
DROP FUNCTION organization_marks_bump();
DROP TABLE organization_marks_version;

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

