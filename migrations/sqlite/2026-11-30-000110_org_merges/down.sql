DROP TABLE organization_merges;
