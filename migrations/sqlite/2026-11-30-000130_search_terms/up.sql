-- The global search's index (src/search): one row per organization and per record with what is
-- searched, folded (lower case, accents off) into `terms`, one value a line between newlines, so
-- exact ("\nq\n"), prefix ("\nq") and substring matches are LIKE patterns over a trigram index.
-- `shown` holds the same values as written (for the marked excerpt); never a password's secret.
CREATE TABLE search_terms (
    id INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    organization_id BIGINT NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
    record_id BIGINT REFERENCES records(id) ON DELETE CASCADE,
    kind TEXT NOT NULL,
    title TEXT NOT NULL,
    shown TEXT NOT NULL,
    terms TEXT NOT NULL,
    -- an IPv4 address as a number: exact, prefix and CIDR queries are ranges over this index
    ipv4 BIGINT,
    -- 0 primary, 1 ordinary, 2 archived: ranks hits that match equally well
    standing INTEGER NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE INDEX search_terms_organization_id ON search_terms(organization_id, record_id);
CREATE INDEX search_terms_record_id ON search_terms(record_id);
CREATE INDEX search_terms_ipv4 ON search_terms(ipv4);

CREATE VIRTUAL TABLE search_terms_fts USING fts5(
    terms, content='search_terms', content_rowid='id', tokenize='trigram'
);
CREATE TRIGGER search_terms_fts_insert AFTER INSERT ON search_terms BEGIN
    INSERT INTO search_terms_fts(rowid, terms) VALUES (new.id, new.terms);
END;
CREATE TRIGGER search_terms_fts_delete AFTER DELETE ON search_terms BEGIN
    INSERT INTO search_terms_fts(search_terms_fts, rowid, terms) VALUES ('delete', old.id, old.terms);
END;
CREATE TRIGGER search_terms_fts_update AFTER UPDATE OF terms ON search_terms BEGIN
    INSERT INTO search_terms_fts(search_terms_fts, rowid, terms) VALUES ('delete', old.id, old.terms);
    INSERT INTO search_terms_fts(rowid, terms) VALUES (new.id, new.terms);
END;
