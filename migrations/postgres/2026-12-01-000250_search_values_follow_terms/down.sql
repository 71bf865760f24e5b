DROP TRIGGER search_values_follow_terms ON search_terms;
DROP FUNCTION search_values_follow_terms();
DELETE FROM search_values v WHERE NOT EXISTS (SELECT 1 FROM search_terms t WHERE t.id = v.terms_id);
ALTER TABLE search_values ADD CONSTRAINT search_values_terms_id_fkey
    FOREIGN KEY (terms_id) REFERENCES search_terms(id) ON DELETE CASCADE;
