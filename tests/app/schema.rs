//! Both backends' migrations produce the same tables and columns, `schema.rs` reads them all, and
//! down-then-up leaves the same schema.

use std::collections::BTreeSet;

use diesel::prelude::*;
use diesel::sql_types::Text;
use roster::db::{DbConn, redo_all, run_migrations};

use crate::support::{PgDatabase, Store};

#[derive(QueryableByName)]
struct Column {
    #[diesel(sql_type = Text)]
    table_name: String,
    #[diesel(sql_type = Text)]
    column_name: String,
    #[diesel(sql_type = Text)]
    data_type: String,
    #[diesel(sql_type = Text)]
    is_nullable: String,
}

const SQLITE_COLUMNS: &str = "SELECT m.name AS table_name, p.name AS column_name, p.type AS data_type, \
    CASE WHEN p.\"notnull\" = 1 OR p.pk = 1 THEN 'NO' ELSE 'YES' END AS is_nullable \
    FROM sqlite_master m, pragma_table_info(m.name) p \
    WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite_%' AND m.name <> '__diesel_schema_migrations' \
    AND m.name NOT LIKE 'organizations_fts%' AND m.name NOT LIKE 'search_terms_fts%'";

const PG_COLUMNS: &str = "SELECT table_name::text AS table_name, column_name::text AS column_name, \
    data_type::text AS data_type, is_nullable::text AS is_nullable \
    FROM information_schema.columns \
    WHERE table_schema = 'public' AND table_name <> '__diesel_schema_migrations'";

fn kind(sql_type: &str) -> &'static str {
    let t = sql_type.to_lowercase();
    if t.contains("int") {
        "integer"
    } else if t.contains("char") || t.contains("text") {
        "text"
    } else if t.contains("bool") {
        "boolean"
    } else if t.contains("timestamp") {
        "timestamp"
    } else if t.contains("blob") || t.contains("bytea") {
        "binary"
    } else {
        "other"
    }
}

type Shape = BTreeSet<(String, String, &'static str, bool)>;

fn shape(conn: &mut DbConn) -> Shape {
    let columns: Vec<Column> = match conn {
        DbConn::Sqlite(c) => diesel::sql_query(SQLITE_COLUMNS).load(c).unwrap(),
        DbConn::Pg(c) => diesel::sql_query(PG_COLUMNS).load(c).unwrap(),
    };
    columns
        .into_iter()
        .map(|c| {
            (
                c.table_name,
                c.column_name,
                kind(&c.data_type),
                c.is_nullable == "YES",
            )
        })
        .collect()
}

/// Every table of `schema.rs`, every column, read through diesel.
fn schema_rs_reads(conn: &mut DbConn) {
    use roster::db::schema::*;
    macro_rules! read_all {
        ($($table:ident),*) => {
            $($table::table.select($table::all_columns).limit(1).execute(conn).unwrap();)*
        };
    }
    read_all!(
        users,
        sessions,
        app_settings,
        audit_events,
        organization_types,
        organization_statuses,
        organization_counts,
        organizations,
        user_organizations,
        logos,
        flexible_asset_types,
        records,
        search_terms
    );
}

#[test]
fn both_backends_have_the_same_schema() {
    let sqlite_store = Store::new(crate::support::Backend::Sqlite);
    let pg = PgDatabase::create();
    let mut sqlite = DbConn::open(&sqlite_store.database_url).unwrap();
    let mut postgres = DbConn::open(&pg.url).unwrap();
    run_migrations(&mut sqlite).unwrap();
    run_migrations(&mut postgres).unwrap();

    let (a, b) = (shape(&mut sqlite), shape(&mut postgres));
    assert!(!a.is_empty());
    let only_sqlite: Vec<_> = a.difference(&b).collect();
    let only_pg: Vec<_> = b.difference(&a).collect();
    assert!(
        only_sqlite.is_empty() && only_pg.is_empty(),
        "SQLite only: {only_sqlite:?}\nPostgreSQL only: {only_pg:?}"
    );

    schema_rs_reads(&mut sqlite);
    schema_rs_reads(&mut postgres);

    for conn in [&mut sqlite, &mut postgres] {
        let before = shape(conn);
        redo_all(conn).unwrap();
        assert_eq!(shape(conn), before, "down then up changed the schema");
    }
}

/// SQLite: what `.lint fkey-indexes` checks, every foreign key column leads an index.
#[test]
fn every_foreign_key_column_has_an_index() {
    let store = Store::new(crate::support::Backend::Sqlite);
    let mut conn = DbConn::open(&store.database_url).unwrap();
    run_migrations(&mut conn).unwrap();
    let DbConn::Sqlite(c) = &mut conn else {
        unreachable!()
    };

    #[derive(QueryableByName)]
    struct Fk {
        #[diesel(sql_type = Text)]
        table_name: String,
        #[diesel(sql_type = Text)]
        column_name: String,
    }
    let fks: Vec<Fk> = diesel::sql_query(
        "SELECT m.name AS table_name, f.\"from\" AS column_name FROM sqlite_master m, pragma_foreign_key_list(m.name) f WHERE m.type = 'table'",
    )
    .load(c)
    .unwrap();
    assert!(!fks.is_empty());
    for fk in fks {
        let indexed: Vec<Fk> = diesel::sql_query(format!(
            "SELECT '{t}' AS table_name, i.name AS column_name FROM pragma_index_list('{t}') l, pragma_index_info(l.name) i WHERE i.name = '{c}' AND i.seqno = 0",
            t = fk.table_name,
            c = fk.column_name
        ))
        .load(c)
        .unwrap();
        assert!(
            !indexed.is_empty(),
            "{}.{} has no index",
            fk.table_name,
            fk.column_name
        );
    }
}

/// PostgreSQL: the same, from the catalog (an index whose first column is the key's column).
#[test]
fn every_foreign_key_column_has_an_index_on_postgres() {
    let pg = PgDatabase::create();
    let mut conn = DbConn::open(&pg.url).unwrap();
    run_migrations(&mut conn).unwrap();
    let DbConn::Pg(c) = &mut conn else {
        unreachable!()
    };

    #[derive(QueryableByName, Debug)]
    struct Fk {
        #[diesel(sql_type = Text)]
        table_name: String,
        #[diesel(sql_type = Text)]
        column_name: String,
        #[diesel(sql_type = diesel::sql_types::Bool)]
        indexed: bool,
    }
    let fks: Vec<Fk> = diesel::sql_query(
        "SELECT c.conrelid::regclass::text AS table_name, a.attname::text AS column_name, \
                EXISTS (SELECT 1 FROM pg_index i WHERE i.indrelid = c.conrelid AND i.indkey[0] = c.conkey[1]) AS indexed \
         FROM pg_constraint c \
         JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = c.conkey[1] \
         WHERE c.contype = 'f'",
    )
    .load(c)
    .unwrap();
    assert!(fks.len() >= 10, "{fks:?}");
    let missing: Vec<String> = fks
        .iter()
        .filter(|f| !f.indexed)
        .map(|f| format!("{}.{}", f.table_name, f.column_name))
        .collect();
    assert!(missing.is_empty(), "no index for {missing:?}");
}

#[test]
fn sqlite_connections_get_the_pragmas() {
    let store = Store::new(crate::support::Backend::Sqlite);
    let pool = roster::db::build_pool(&store.database_url, 2).unwrap();
    let mut conn = pool.get().unwrap();
    let DbConn::Sqlite(c) = &mut *conn else {
        unreachable!()
    };

    #[derive(QueryableByName)]
    struct Value {
        #[diesel(sql_type = Text)]
        value: String,
    }
    let mut read = |pragma: &str| -> String {
        diesel::sql_query(format!("SELECT CAST(({pragma}) AS TEXT) AS value"))
            .get_result::<Value>(c)
            .unwrap()
            .value
    };
    assert_eq!(read("SELECT foreign_keys FROM pragma_foreign_keys"), "1");
    assert_eq!(read("SELECT journal_mode FROM pragma_journal_mode"), "wal");
    assert_eq!(
        read("SELECT synchronous FROM pragma_synchronous"),
        "1",
        "NORMAL"
    );
    let timeout: i64 = read("SELECT timeout FROM pragma_busy_timeout")
        .parse()
        .unwrap();
    assert!(timeout >= 5000);
}
