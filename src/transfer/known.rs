//! What Roster already holds that an import is matched against: rows remembered from an earlier
//! import (`import_sources`), organizations by name, records by title. Read once per preview or
//! batch, not once per row. `remember` writes what an import brought in.

use std::collections::HashMap;

use diesel::prelude::*;

use crate::db::DbConn;
use crate::db::schema::{import_sources as s, organizations as o, records as r};

/// The Roster id each IT Glue id of `kind` was imported as, for rows that still exist.
pub fn remembered_orgs(conn: &mut DbConn) -> QueryResult<HashMap<String, i64>> {
    let rows: Vec<(String, i64)> = s::table
        .inner_join(o::table.on(o::id.eq(s::target_id)))
        .filter(s::kind.eq(super::itglue::ORG_SOURCE_KIND))
        .filter(o::deleted_at.is_null())
        .select((s::source_id, s::target_id))
        .load(conn)?;
    Ok(rows.into_iter().collect())
}

/// Live organizations by exact name: the ids having it.
pub fn orgs_by_name(conn: &mut DbConn) -> QueryResult<HashMap<String, Vec<i64>>> {
    let rows: Vec<(i64, String)> = o::table
        .filter(o::deleted_at.is_null())
        .select((o::id, o::name))
        .load(conn)?;
    let mut out: HashMap<String, Vec<i64>> = HashMap::new();
    for (id, name) in rows {
        out.entry(name).or_default().push(id);
    }
    Ok(out)
}

/// Records of a kind having these (organization, exact title) pairs: the ids of each.
pub fn records_titled(
    conn: &mut DbConn,
    kind: &str,
    pairs: &[(i64, String)],
) -> QueryResult<HashMap<(i64, String), Vec<i64>>> {
    let mut out: HashMap<(i64, String), Vec<i64>> = HashMap::new();
    if pairs.is_empty() {
        return Ok(out);
    }
    let orgs: Vec<i64> = pairs.iter().map(|(org, _)| *org).collect();
    let titles: Vec<&str> = pairs.iter().map(|(_, title)| title.as_str()).collect();
    let rows: Vec<(i64, i64, String)> = r::table
        .filter(r::kind.eq(kind))
        .filter(r::organization_id.eq_any(&orgs))
        .filter(r::title.eq_any(&titles))
        .select((r::id, r::organization_id, r::title))
        .load(conn)?;
    for (id, org, title) in rows {
        if pairs.iter().any(|(o, t)| *o == org && *t == title) {
            out.entry((org, title)).or_default().push(id);
        }
    }
    Ok(out)
}

/// What the last import of these IT Glue ids (of `kind`) became, for rows that still exist:
/// source id -> (Roster id, fingerprint).
pub fn remembered_batch(
    conn: &mut DbConn,
    kind: &str,
    ids: &[&str],
) -> QueryResult<HashMap<String, (i64, String)>> {
    let rows: Vec<(String, i64, String)> = if kind == super::itglue::ORG_SOURCE_KIND {
        s::table
            .inner_join(o::table.on(o::id.eq(s::target_id)))
            .filter(s::kind.eq(kind))
            .filter(s::source_id.eq_any(ids))
            .filter(o::deleted_at.is_null())
            .select((s::source_id, s::target_id, s::fingerprint))
            .load(conn)?
    } else {
        s::table
            .inner_join(r::table.on(r::id.eq(s::target_id)))
            .filter(s::kind.eq(kind))
            .filter(s::source_id.eq_any(ids))
            .select((s::source_id, s::target_id, s::fingerprint))
            .load(conn)?
    };
    Ok(rows.into_iter().map(|(s, t, f)| (s, (t, f))).collect())
}

/// Remembers (or remembers anew) what these IT Glue ids became: (source id, Roster id, fingerprint).
/// In chunks, so that a long list stays within the backends' limits on bound values.
pub fn remember(conn: &mut DbConn, kind: &str, rows: &[(String, i64, String)]) -> QueryResult<()> {
    for chunk in rows.chunks(500) {
        remember_chunk(conn, kind, chunk)?;
    }
    Ok(())
}

fn remember_chunk(
    conn: &mut DbConn,
    kind: &str,
    rows: &[(String, i64, String)],
) -> QueryResult<()> {
    let ids: Vec<&str> = rows.iter().map(|(id, _, _)| id.as_str()).collect();
    diesel::delete(
        s::table
            .filter(s::kind.eq(kind))
            .filter(s::source_id.eq_any(&ids)),
    )
    .execute(conn)?;
    let at = crate::db::now();
    let values: Vec<_> = rows
        .iter()
        .map(|(source, target, fingerprint)| {
            (
                s::kind.eq(kind),
                s::source_id.eq(source),
                s::target_id.eq(target),
                s::fingerprint.eq(fingerprint),
                s::imported_at.eq(at),
            )
        })
        .collect();
    // MultiBackend has no multi-row insert: each backend builds its own.
    match conn {
        DbConn::Sqlite(c) => diesel::insert_into(s::table).values(values).execute(c)?,
        DbConn::Pg(c) => diesel::insert_into(s::table).values(values).execute(c)?,
    };
    Ok(())
}

/// Documents imported earlier, by IT Glue id: the Roster address of each (links are rewritten
/// to it).
pub fn documents(conn: &mut DbConn, ids: &[String]) -> QueryResult<HashMap<String, String>> {
    let kind = super::itglue::source_kind(crate::records::Kind::Document);
    let rows: Vec<(String, i64, i64)> = s::table
        .inner_join(r::table.on(r::id.eq(s::target_id)))
        .filter(s::kind.eq(kind))
        .filter(s::source_id.eq_any(ids))
        .select((s::source_id, r::organization_id, r::id))
        .load(conn)?;
    Ok(rows
        .into_iter()
        .map(|(source, org, id)| (source, format!("/organizations/{org}/records/{kind}/{id}")))
        .collect())
}
