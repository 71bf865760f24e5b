-- The version of migration 000310 also moves with every change to the names of the organizations
-- not being deleted, so that what a process keeps of those names (the name blocks of
-- src/orgs/name_blocks.rs) is never used after such a change. Inserts, deletions and restores
-- already move it (they change the marks' totals); a rename that keeps an organization in the
-- same interval of both orders did not.
CREATE TRIGGER organization_names_version AFTER UPDATE OF search_text, deleted_at ON organizations
WHEN OLD.search_text IS NOT NEW.search_text OR OLD.deleted_at IS NOT NEW.deleted_at
BEGIN
    UPDATE organization_marks_version SET version = version + 1 WHERE id = 1;
END;
