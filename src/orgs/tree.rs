//! Sub-organizations: the ancestry of an organization (for the breadcrumb) and the check that a
//! new parent does not make a loop. Walks up one parent at a time: trees are shallow, and this
//! stays the same SQL on both backends.

use diesel::prelude::*;

use super::{OrgId, OrgRef};
use crate::db::DbConn;
use crate::db::schema::organizations;

/// Deeper than any real tree; stops a walk on data that already loops.
const MAX_DEPTH: usize = 64;

/// An organization (id, name, short name) and its parent's id: one step of a breadcrumb.
pub type Link = (i64, String, String, Option<i64>);

/// The step of organization `id`, when it is not being deleted.
pub fn parent_of(conn: &mut DbConn, id: i64) -> QueryResult<Option<Link>> {
    crate::native!(conn, |c| organizations::table
        .find(id)
        .filter(organizations::deleted_at.is_null())
        .select((
            organizations::id,
            organizations::name,
            organizations::short_name,
            organizations::parent_id,
        ))
        .first(c)
        .optional())
}

/// The ancestors of an organization whose parent is `parent`, root first.
pub fn ancestry(conn: &mut DbConn, parent: Option<i64>) -> QueryResult<Vec<OrgRef>> {
    let first = match parent {
        Some(id) => parent_of(conn, id)?,
        None => None,
    };
    ancestry_from(conn, first)
}

/// The ancestors from a parent already read (`store::find_with_parent`) up, root first.
pub fn ancestry_from(conn: &mut DbConn, parent: Option<Link>) -> QueryResult<Vec<OrgRef>> {
    let mut chain = Vec::new();
    let mut link = parent;
    while let Some((id, name, short_name, up)) = link {
        chain.push(OrgRef {
            id,
            name,
            short_name,
        });
        link = match up {
            Some(up) if chain.len() < MAX_DEPTH => parent_of(conn, up)?,
            _ => None,
        };
    }
    chain.reverse();
    Ok(chain)
}

/// True when making `parent` the parent of `org` would make a loop (`parent` is `org` or below it).
pub fn would_loop(conn: &mut DbConn, org: OrgId, parent: i64) -> QueryResult<bool> {
    if parent == org.0 {
        return Ok(true);
    }
    Ok(ancestry(conn, Some(parent))?.iter().any(|a| a.id == org.0))
}
