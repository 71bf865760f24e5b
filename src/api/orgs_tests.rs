//! The SQLite plans of the API's organization pages (under the statistics of a large table).

use super::{OrgListQuery, SortKey, page_rows};
use crate::db::sqlite_plans::{plan, skewed, statements_of};
use crate::orgs::access::Scope;

/// SQLite's plans of the API's first page in each order, under the statistics of 100,000
/// organizations (`sqlite_plans`).
fn plans(sort: SortKey, descending: bool) -> Vec<String> {
    plans_of(&OrgListQuery {
        sort,
        descending,
        page: 1,
        size: 50,
        ..OrgListQuery::default()
    })
}

fn plans_of(q: &OrgListQuery) -> Vec<String> {
    let mut conn = skewed();
    let all = Scope {
        user_id: 0,
        all: true,
    };
    let statements = statements_of(&mut conn, |c| {
        page_rows(c, all, q, 50, 0).expect("page");
    });
    assert!(!statements.is_empty());
    statements
        .iter()
        .flat_map(|sql| plan(&mut conn, sql))
        .collect()
}

/// A page in an order no index led by `deleted_at` serves reads along the table (by id) or
/// sorts the table's rows, never every organization through such an index; by name it walks
/// the name index.
#[test]
fn sqlite_reads_a_page_by_id_along_the_table() {
    for descending in [false, true] {
        let by_id = plans(SortKey::Id, descending);
        assert!(
            by_id.iter().any(|s| s.contains("SCAN organizations")),
            "{by_id:#?}"
        );
        assert!(
            !by_id.iter().any(|s| s.contains("TEMP B-TREE")),
            "{by_id:#?}"
        );
    }
    let by_creation = plans(SortKey::CreatedAt, false);
    assert!(
        !by_creation
            .iter()
            .any(|s| s.contains("organizations_alive_by")),
        "{by_creation:#?}"
    );
    let by_name = plans(SortKey::Name, false);
    assert!(
        by_name
            .iter()
            .any(|s| s.contains("organizations_alive_by_name")),
        "{by_name:#?}"
    );
}

/// `filter[name]` (an integration looking up one organization by its name) reads the
/// organizations of the name's key, never the trigram index's matches of its text.
#[test]
fn sqlite_reads_a_name_filter_by_the_names_key() {
    let steps = plans_of(&OrgListQuery {
        name: Some("Northwind Dental LLC (Denver)".to_owned()),
        page: 1,
        size: 50,
        ..OrgListQuery::default()
    });
    assert!(
        steps.iter().any(|s| s.contains("organizations_name_key")),
        "{steps:#?}"
    );
    assert!(!steps.iter().any(|s| s.contains("fts")), "{steps:#?}");
}
