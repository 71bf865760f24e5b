DROP TABLE user_organizations;
DROP TABLE organizations;
DROP TABLE organization_statuses;
DROP TABLE organization_types;
