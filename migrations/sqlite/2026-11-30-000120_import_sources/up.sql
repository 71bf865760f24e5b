-- What an import brought in: the IT Glue id of each imported row (by kind: organization, contact,
-- configuration, password, ...) and the Roster row it became, so the next import of a newer export
-- matches it again, and a fingerprint of the values it was last imported with, so an unchanged
-- row is left alone (the second import of the same export changes nothing).
CREATE TABLE import_sources (
    kind TEXT NOT NULL,
    source_id TEXT NOT NULL,
    target_id BIGINT NOT NULL,
    fingerprint TEXT NOT NULL,
    imported_at TIMESTAMP NOT NULL,
    PRIMARY KEY (kind, source_id)
);
CREATE INDEX import_sources_target ON import_sources(kind, target_id);
