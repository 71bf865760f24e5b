DROP TRIGGER organization_marks_delete ON organizations;
DROP TRIGGER organization_marks_update ON organizations;
DROP TRIGGER organization_marks_insert ON organizations;
DROP FUNCTION organization_marks_apply();
DROP FUNCTION organization_update_marks_add(TIMESTAMP[], BIGINT[], BIGINT[]);
DROP FUNCTION organization_name_marks_add(TEXT[], BIGINT[], BIGINT[]);
DROP TABLE organization_update_marks;
DROP TABLE organization_name_marks;
