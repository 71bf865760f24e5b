-- A search_terms row's whole values go with it by one statement per delete instead of a foreign
-- key. The key checked each value as it was written, a lookup and a row lock per value (half of
-- what writing the index cost in bulk: a seed or an import writes two to five values a row), and
-- on a delete ran one cascading statement per row. Values are only ever written in the same
-- statement as their row (`search::bulk`, `search::index::insert_many`), so nothing can point at
-- a row that is not there; every search reads values through their rows.
ALTER TABLE search_values DROP CONSTRAINT search_values_terms_id_fkey;

CREATE FUNCTION search_values_follow_terms() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM search_values v USING gone g WHERE v.terms_id = g.id;
    RETURN NULL;
END;
$$;

CREATE TRIGGER search_values_follow_terms AFTER DELETE ON search_terms
REFERENCING OLD TABLE AS gone FOR EACH STATEMENT EXECUTE FUNCTION search_values_follow_terms();
