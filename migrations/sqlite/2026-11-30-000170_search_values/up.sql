-- Each whole value of the search index (a search_terms line: a name, an email, a serial, a phone's
-- digits...) with the row it belongs to, ordered: an exact value or a value's prefix is a range of
-- this index, where a trigram match of a common value (an address, a domain) reads long lists.
CREATE TABLE search_values (
    value TEXT NOT NULL,
    terms_id BIGINT NOT NULL REFERENCES search_terms(id) ON DELETE CASCADE,
    PRIMARY KEY (value, terms_id)
) WITHOUT ROWID;
CREATE INDEX search_values_terms_id ON search_values(terms_id);

-- Values longer than a search (200 characters) are left to the trigram index.
-- The values of rows indexed before this table existed: `terms` holds them one a line.
WITH RECURSIVE split(terms_id, value, rest) AS (
    SELECT id, NULL, substr(terms, 2) FROM search_terms
    UNION ALL
    SELECT terms_id, substr(rest, 1, instr(rest, char(10)) - 1), substr(rest, instr(rest, char(10)) + 1)
    FROM split WHERE instr(rest, char(10)) > 0
)
INSERT OR IGNORE INTO search_values (value, terms_id)
SELECT value, terms_id FROM split WHERE value IS NOT NULL AND value <> '' AND length(value) <= 200;
