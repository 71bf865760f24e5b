-- PSA sync (src/psa): the one PSA connection (a single row, id 1), how the PSA's company types
-- and statuses map to Roster's, and the history of data loads.
CREATE TABLE psa_settings (
    id BIGINT PRIMARY KEY NOT NULL,
    kind TEXT NOT NULL,
    base_url TEXT NOT NULL,
    codebase TEXT NOT NULL DEFAULT '',
    -- ConnectWise company id or Autotask user name: not secret, shown on the page
    account TEXT NOT NULL DEFAULT '',
    -- the secret parts, JSON, encrypted with the data key (src/secrets.rs)
    credentials_nonce BLOB NOT NULL,
    credentials_sealed BLOB NOT NULL,
    direction TEXT NOT NULL,
    interval_minutes INTEGER NOT NULL,
    default_site TEXT NOT NULL DEFAULT '',
    default_address TEXT NOT NULL DEFAULT '',
    default_owner TEXT NOT NULL DEFAULT '',
    default_phone TEXT NOT NULL DEFAULT '',
    next_load_at TIMESTAMP,
    updated_by BIGINT REFERENCES users(id) ON DELETE SET NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE INDEX psa_settings_updated_by ON psa_settings(updated_by);

CREATE TABLE psa_type_map (
    psa_name TEXT PRIMARY KEY NOT NULL,
    type_id BIGINT NOT NULL REFERENCES organization_types(id) ON DELETE CASCADE
);
CREATE INDEX psa_type_map_type_id ON psa_type_map(type_id);

CREATE TABLE psa_status_map (
    psa_name TEXT PRIMARY KEY NOT NULL,
    status_id BIGINT NOT NULL REFERENCES organization_statuses(id) ON DELETE CASCADE
);
CREATE INDEX psa_status_map_status_id ON psa_status_map(status_id);

CREATE TABLE psa_loads (
    id INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    kind TEXT NOT NULL,
    trigger TEXT NOT NULL,
    state TEXT NOT NULL,
    started_at TIMESTAMP NOT NULL,
    finished_at TIMESTAMP,
    companies INTEGER NOT NULL DEFAULT 0,
    created INTEGER NOT NULL DEFAULT 0,
    matched INTEGER NOT NULL DEFAULT 0,
    updated INTEGER NOT NULL DEFAULT 0,
    orphaned INTEGER NOT NULL DEFAULT 0,
    failed INTEGER NOT NULL DEFAULT 0,
    error TEXT,
    report TEXT NOT NULL DEFAULT ''
);
CREATE INDEX psa_loads_started_at ON psa_loads(started_at);
