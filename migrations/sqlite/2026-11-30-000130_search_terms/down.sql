DROP TRIGGER search_terms_fts_update;
DROP TRIGGER search_terms_fts_delete;
DROP TRIGGER search_terms_fts_insert;
DROP TABLE search_terms_fts;
DROP TABLE search_terms;
