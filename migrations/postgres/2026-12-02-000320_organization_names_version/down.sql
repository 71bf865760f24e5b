DROP TRIGGER organization_names_version ON organizations;
