-- An organization's records (contacts, configurations, documents, passwords, flexible assets) share
-- one table: one lifecycle, one purge path. Values are JSON text checked by kind in src/records;
-- a password's secret is stored apart, encrypted (src/records/crypto.rs).
CREATE TABLE flexible_asset_types (
    id INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    name TEXT NOT NULL UNIQUE,
    fields TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL
);

CREATE TABLE records (
    id INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    organization_id BIGINT NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
    kind TEXT NOT NULL,
    title TEXT NOT NULL,
    field_values TEXT NOT NULL,
    asset_type_id BIGINT REFERENCES flexible_asset_types(id),
    secret_nonce BLOB,
    secret_sealed BLOB,
    created_by BIGINT REFERENCES users(id) ON DELETE SET NULL,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE INDEX records_organization ON records(organization_id, kind, title);
CREATE INDEX records_asset_type_id ON records(asset_type_id);
CREATE INDEX records_created_by ON records(created_by);
