ALTER TABLE organizations ALTER COLUMN search_text SET STATISTICS -1;
