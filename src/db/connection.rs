//! One connection type over SQLite and PostgreSQL, chosen by the database URL.

use diesel::connection::SimpleConnection;
use diesel::prelude::*;

#[derive(diesel::MultiConnection)]
pub enum DbConn {
    Sqlite(diesel::SqliteConnection),
    Pg(diesel::PgConnection),
}

/// Which backend a database URL names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

impl Backend {
    /// `postgres://` and `postgresql://` are PostgreSQL; `sqlite://path` and a plain path are SQLite.
    pub fn of_url(url: &str) -> Result<Self, String> {
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Ok(Self::Postgres)
        } else if url.starts_with("sqlite://") || !url.contains("://") {
            Ok(Self::Sqlite)
        } else {
            Err(format!(
                "unsupported database URL scheme in {:?}: use postgres://... or a SQLite file path",
                url.split("://").next().unwrap_or_default()
            ))
        }
    }
}

/// The SQLite file path inside a `sqlite://` URL (or the URL itself when it is a plain path).
pub fn sqlite_path(url: &str) -> &str {
    url.strip_prefix("sqlite://").unwrap_or(url)
}

/// Settings applied to every SQLite connection the pool hands out.
/// `busy_timeout` comes first so that the switch to WAL waits for other new connections. An 8 MB
/// page cache and memory-mapped reads keep the organization indexes of a large client base in
/// memory instead of re-reading them through system calls on every page. `optimize` (bounded by
/// `analysis_limit`) refreshes the planner's statistics, without which it picks the wrong index
/// once the tables are large.
const SQLITE_PRAGMAS: &str = "PRAGMA busy_timeout = 10000; PRAGMA foreign_keys = ON; \
     PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; \
     PRAGMA cache_size = -8000; PRAGMA mmap_size = 268435456; \
     PRAGMA analysis_limit = 1000; PRAGMA optimize = 0x10002;";

/// Settings of every PostgreSQL connection. No JIT compilation: it starts for any statement the
/// planner costs above `jit_above_cost`, and the planner costs the climb up a page's parents (a
/// recursive statement whose loop it cannot foresee) far above it: 25 ms of compiling for a
/// statement that runs in 3. Roster's statements read few rows; none gains from it.
const PG_SETTINGS: &str = "SET jit = off";

impl DbConn {
    pub fn open(url: &str) -> ConnectionResult<Self> {
        match Backend::of_url(url).map_err(ConnectionError::BadConnection)? {
            Backend::Postgres => {
                let mut conn = diesel::PgConnection::establish(url)?;
                conn.batch_execute(PG_SETTINGS)
                    .map_err(|e| ConnectionError::BadConnection(e.to_string()))?;
                Ok(Self::Pg(conn))
            }
            Backend::Sqlite => {
                let mut conn = diesel::SqliteConnection::establish(sqlite_path(url))?;
                conn.batch_execute(SQLITE_PRAGMAS)
                    .map_err(|e| ConnectionError::BadConnection(e.to_string()))?;
                Ok(Self::Sqlite(conn))
            }
        }
    }

    pub fn backend(&self) -> Backend {
        match self {
            Self::Sqlite(_) => Backend::Sqlite,
            Self::Pg(_) => Backend::Postgres,
        }
    }
}

#[cfg(test)]
mod tests {
    use diesel::dsl::sql;
    use diesel::prelude::*;
    use diesel::sql_types::Integer;

    use super::DbConn;

    /// `.cargo/config.toml` builds SQLite with the query planner stability guarantee: without it,
    /// every statement with a `LIMIT ?` is compiled twice per execution.
    #[test]
    fn sqlite_keeps_its_plans() {
        let mut conn = DbConn::open(":memory:").expect("in-memory database");
        let used: i32 = diesel::select(sql::<Integer>(
            "sqlite_compileoption_used('SQLITE_ENABLE_QPSG')",
        ))
        .get_result(&mut conn)
        .expect("compile options");
        assert_eq!(used, 1, "SQLite was built without SQLITE_ENABLE_QPSG");
    }

    /// `.cargo/config.toml` builds SQLite multi-thread: no mutex taken on every call (each column
    /// of each row) on a connection that one thread uses at a time.
    #[test]
    fn sqlite_is_built_multi_thread() {
        let mut conn = DbConn::open(":memory:").expect("in-memory database");
        let used: i32 = diesel::select(sql::<Integer>(
            "sqlite_compileoption_used('SQLITE_THREADSAFE=2')",
        ))
        .get_result(&mut conn)
        .expect("compile options");
        assert_eq!(used, 1, "SQLite was not built with SQLITE_THREADSAFE=2");
    }

    /// `.cargo/config.toml` builds SQLite without a page cache shared by every connection behind
    /// one mutex, and without allocation statistics behind another.
    #[test]
    fn sqlite_shares_no_cache() {
        let mut conn = DbConn::open(":memory:").expect("in-memory database");
        let mut used = |option: &str| -> i32 {
            diesel::select(sql::<Integer>(&format!(
                "sqlite_compileoption_used('{option}')"
            )))
            .get_result(&mut conn)
            .expect("compile options")
        };
        assert_eq!(
            used("SQLITE_ENABLE_MEMORY_MANAGEMENT"),
            0,
            "one shared page cache"
        );
        assert_eq!(
            used("SQLITE_DEFAULT_MEMSTATUS=0"),
            1,
            "allocation statistics kept"
        );
    }
}
