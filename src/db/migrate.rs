//! Migrations of each backend, embedded in the binary and run at start.

use diesel_migrations::{EmbeddedMigrations, MigrationHarness, embed_migrations};

use super::{DbConn, DbError};

const SQLITE: EmbeddedMigrations = embed_migrations!("migrations/sqlite");
const POSTGRES: EmbeddedMigrations = embed_migrations!("migrations/postgres");

pub fn run_migrations(conn: &mut DbConn) -> Result<(), DbError> {
    let result = match conn {
        DbConn::Sqlite(c) => c.run_pending_migrations(SQLITE).map(|_| ()),
        DbConn::Pg(c) => c.run_pending_migrations(POSTGRES).map(|_| ()),
    };
    result.map_err(|e| DbError::Migration(e.to_string()))
}

/// Undo every migration, then apply them again (used by the schema test).
pub fn redo_all(conn: &mut DbConn) -> Result<(), DbError> {
    let fail = |e: Box<dyn std::error::Error + Send + Sync>| DbError::Migration(e.to_string());
    match conn {
        DbConn::Sqlite(c) => {
            c.revert_all_migrations(SQLITE).map_err(fail)?;
            c.run_pending_migrations(SQLITE).map_err(fail)?;
        }
        DbConn::Pg(c) => {
            c.revert_all_migrations(POSTGRES).map_err(fail)?;
            c.run_pending_migrations(POSTGRES).map_err(fail)?;
        }
    }
    Ok(())
}
