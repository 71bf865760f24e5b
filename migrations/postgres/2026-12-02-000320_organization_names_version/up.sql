-- The version of migration 000310 also moves with every statement that may change the names of
-- the organizations not being deleted, so that what a process keeps of those names (the name
-- blocks of src/orgs/name_blocks.rs) is never used after such a change. Inserts, deletions and
-- restores already move it (they write to the marks); a rename that keeps an organization in the
-- same interval of both orders did not.
CREATE TRIGGER organization_names_version AFTER UPDATE OF search_text, deleted_at
ON organizations FOR EACH STATEMENT EXECUTE FUNCTION organization_marks_bump();
