-- Organizations, their types and statuses, and who may see which.
CREATE TABLE organization_types (
    id INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    name TEXT NOT NULL UNIQUE,
    synced BOOLEAN NOT NULL DEFAULT 0,
    created_at TIMESTAMP NOT NULL
);

CREATE TABLE organization_statuses (
    id INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    name TEXT NOT NULL UNIQUE,
    synced BOOLEAN NOT NULL DEFAULT 0,
    created_at TIMESTAMP NOT NULL
);

INSERT INTO organization_types (name, synced, created_at) VALUES
    ('Customer', 1, CURRENT_TIMESTAMP),
    ('Prospect', 0, CURRENT_TIMESTAMP),
    ('Vendor', 0, CURRENT_TIMESTAMP),
    ('Partner', 0, CURRENT_TIMESTAMP),
    ('Internal', 0, CURRENT_TIMESTAMP);

INSERT INTO organization_statuses (name, synced, created_at) VALUES
    ('Active', 1, CURRENT_TIMESTAMP),
    ('Inactive', 0, CURRENT_TIMESTAMP);

CREATE TABLE organizations (
    id INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    name TEXT NOT NULL,
    -- lower-cased, letters and digits only: finds names that look alike
    name_key TEXT NOT NULL,
    -- lower-cased name and short name: what search and sorting read
    search_text TEXT NOT NULL,
    short_name TEXT NOT NULL DEFAULT '',
    description TEXT NOT NULL DEFAULT '',
    quick_notes TEXT NOT NULL DEFAULT '',
    alert TEXT NOT NULL DEFAULT '',
    type_id BIGINT REFERENCES organization_types(id),
    status_id BIGINT REFERENCES organization_statuses(id),
    parent_id BIGINT REFERENCES organizations(id),
    psa_kind TEXT,
    psa_company_id TEXT,
    sync_enabled BOOLEAN NOT NULL DEFAULT 0,
    orphaned_at TIMESTAMP,
    orphan_reason TEXT,
    deleted_at TIMESTAMP,
    created_by BIGINT REFERENCES users(id) ON DELETE SET NULL,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE INDEX organizations_type_id ON organizations(type_id);
CREATE INDEX organizations_status_id ON organizations(status_id);
CREATE INDEX organizations_parent_id ON organizations(parent_id);
CREATE INDEX organizations_created_by ON organizations(created_by);
CREATE INDEX organizations_name_key ON organizations(name_key);
-- The list reads organizations that are not being deleted, in name or update order; leading with
-- deleted_at lets it count, sort and skip pages in the index alone.
CREATE INDEX organizations_alive_by_name ON organizations(deleted_at, search_text, id);
CREATE INDEX organizations_alive_by_update ON organizations(deleted_at, updated_at, id);
CREATE INDEX organizations_psa ON organizations(psa_kind, psa_company_id);

CREATE TABLE user_organizations (
    user_id BIGINT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    organization_id BIGINT NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
    PRIMARY KEY (user_id, organization_id)
);
CREATE INDEX user_organizations_organization_id ON user_organizations(organization_id);

-- Substring search that does not read every row: a trigram index (see src/orgs/search.rs).
CREATE VIRTUAL TABLE organizations_fts USING fts5(
    search_text, content='organizations', content_rowid='id', tokenize='trigram'
);
CREATE TRIGGER organizations_fts_insert AFTER INSERT ON organizations BEGIN
    INSERT INTO organizations_fts(rowid, search_text) VALUES (new.id, new.search_text);
END;
CREATE TRIGGER organizations_fts_delete AFTER DELETE ON organizations BEGIN
    INSERT INTO organizations_fts(organizations_fts, rowid, search_text) VALUES ('delete', old.id, old.search_text);
END;
CREATE TRIGGER organizations_fts_update AFTER UPDATE OF search_text ON organizations BEGIN
    INSERT INTO organizations_fts(organizations_fts, rowid, search_text) VALUES ('delete', old.id, old.search_text);
    INSERT INTO organizations_fts(rowid, search_text) VALUES (new.id, new.search_text);
END;
