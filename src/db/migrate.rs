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

#[cfg(test)]
mod tests {
    use diesel::connection::SimpleConnection;
    use diesel::prelude::*;
    use diesel::sql_types::Text;
    use diesel_migrations::MigrationHarness;

    use super::{SQLITE, run_migrations};
    use crate::db::DbConn;

    #[derive(QueryableByName)]
    struct Stat {
        #[diesel(sql_type = Text)]
        idx: String,
    }

    /// Migration 000270 rebuilds the list's sort indexes on an existing SQLite database and
    /// leaves them analyzed: without statistics the planner read every organization through
    /// them to look up a page's parents by id, until a later connection's `PRAGMA optimize`.
    #[test]
    fn sqlite_leaves_the_rebuilt_sort_indexes_analyzed() {
        let mut conn = DbConn::open(":memory:").expect("in-memory database");
        let DbConn::Sqlite(c) = &mut conn else {
            panic!("an SQLite connection")
        };
        while c
            .applied_migrations()
            .expect("applied")
            .iter()
            .all(|v| v.to_string() != "20261201000260")
        {
            c.run_next_migration(SQLITE).expect("migration");
        }
        c.batch_execute(
            "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 300) \
             INSERT INTO organizations (name, name_key, search_text, created_at, updated_at) \
             SELECT 'Org ' || i, 'org' || i, 'org ' || i, '2026-12-01', '2026-12-01' FROM n; \
             ANALYZE;",
        )
        .expect("organizations");
        run_migrations(&mut conn).expect("the rest");
        let DbConn::Sqlite(c) = &mut conn else {
            unreachable!()
        };
        let analyzed: Vec<String> =
            diesel::sql_query("SELECT idx FROM sqlite_stat1 WHERE idx LIKE 'organizations_alive%'")
                .load::<Stat>(c)
                .expect("statistics")
                .into_iter()
                .map(|s| s.idx)
                .collect();
        assert!(
            analyzed.contains(&"organizations_alive_by_name".to_owned())
                && analyzed.contains(&"organizations_alive_by_update".to_owned()),
            "{analyzed:?}"
        );
    }
}
