DROP TRIGGER organization_writers_queue ON organizations;
DROP FUNCTION organization_writers_queue();
