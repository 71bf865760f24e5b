DROP TRIGGER organization_update_marks_version;
DROP TRIGGER organization_name_marks_version;
DROP TABLE organization_marks_version;

DROP TRIGGER organization_name_marks_split;
DROP TRIGGER organization_update_marks_split;

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
