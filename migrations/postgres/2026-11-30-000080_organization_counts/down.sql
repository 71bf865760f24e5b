DROP TRIGGER organization_counts_delete ON organizations;
DROP TRIGGER organization_counts_update ON organizations;
DROP TRIGGER organization_counts_insert ON organizations;
DROP FUNCTION organization_counts_apply();
DROP TABLE organization_counts;
