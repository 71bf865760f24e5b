-- Each whole value of the search index (a search_terms line: a name, an email, a serial, a phone's
-- digits...) with the row it belongs to, ordered: an exact value or a value's prefix is a range of
-- this index, where a trigram match of a common value (an address, a domain) reads long lists.
-- Byte order ("C"): a prefix is the range from itself to itself followed by the highest character.
CREATE TABLE search_values (
    value TEXT COLLATE "C" NOT NULL,
    terms_id BIGINT NOT NULL REFERENCES search_terms(id) ON DELETE CASCADE,
    PRIMARY KEY (value, terms_id)
);
CREATE INDEX search_values_terms_id ON search_values(terms_id);

-- Values longer than a search (200 characters) are left to the trigram index.
-- The values of rows indexed before this table existed: `terms` holds them one a line.
INSERT INTO search_values (value, terms_id)
SELECT DISTINCT v, t.id FROM search_terms t, unnest(string_to_array(t.terms, E'\n')) AS v
WHERE v <> '' AND length(v) <= 200;
