//! The `logos` table: one logo per organization, stored with its size, type and content hash.

use diesel::prelude::*;
use sha2::{Digest, Sha256};

use super::OrgId;
use super::access::Scope;
use crate::db::schema::logos;
use crate::db::{DbConn, any_of, now};
use crate::logo::Logo;

/// What a save does to the logo.
#[derive(Debug, Clone, Default)]
pub enum LogoChange {
    #[default]
    Keep,
    Remove,
    Replace(Logo),
}

/// A stored logo, as served.
#[derive(Debug, Clone, Queryable)]
pub struct StoredLogo {
    pub content_type: String,
    pub width: i32,
    pub height: i32,
    pub sha256: String,
    pub bytes: Vec<u8>,
}

/// Width and height of an organization's logo, for `<img>` tags.
#[derive(Debug, Clone, Copy, Queryable)]
pub struct LogoSize {
    pub organization_id: i64,
    pub width: i32,
    pub height: i32,
}

fn hex_sha256(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

fn side(n: u32) -> i32 {
    i32::try_from(n).unwrap_or(i32::MAX)
}

/// Applies a change; says what it did, for the history.
pub fn apply(
    conn: &mut DbConn,
    org: OrgId,
    change: &LogoChange,
) -> QueryResult<Option<&'static str>> {
    match change {
        LogoChange::Keep => Ok(None),
        LogoChange::Remove => {
            let removed = diesel::delete(logos::table.find(org.0)).execute(conn)?;
            Ok((removed > 0).then_some("logo removed"))
        }
        LogoChange::Replace(logo) => {
            let replaced = diesel::delete(logos::table.find(org.0)).execute(conn)?;
            diesel::insert_into(logos::table)
                .values((
                    logos::organization_id.eq(org.0),
                    logos::content_type.eq(logo.content_type),
                    logos::width.eq(side(logo.width)),
                    logos::height.eq(side(logo.height)),
                    logos::sha256.eq(hex_sha256(&logo.bytes)),
                    logos::bytes.eq(&logo.bytes),
                    logos::created_at.eq(now()),
                ))
                .execute(conn)?;
            Ok(Some(if replaced > 0 {
                "logo replaced"
            } else {
                "logo added"
            }))
        }
    }
}

/// The logo of an organization the scope may see.
pub fn get(conn: &mut DbConn, scope: Scope, org: OrgId) -> QueryResult<Option<StoredLogo>> {
    if super::store::find(conn, scope, org)?.is_none() {
        return Ok(None);
    }
    logos::table
        .filter(logos::organization_id.eq(org.0))
        .select((
            logos::content_type,
            logos::width,
            logos::height,
            logos::sha256,
            logos::bytes,
        ))
        .first(conn)
        .optional()
}

/// The sizes of the logos of these organizations (one statement for a whole page).
pub fn sizes(conn: &mut DbConn, ids: &[i64]) -> QueryResult<Vec<LogoSize>> {
    let columns = (logos::organization_id, logos::width, logos::height);
    match ids {
        [] => Ok(Vec::new()),
        // One organization's page.
        [id] => crate::native!(conn, |c| logos::table
            .filter(logos::organization_id.eq(*id))
            .select(columns)
            .load(c)),
        // A page of the list: one statement, prepared once, for any number of ids.
        ids => crate::native!(conn, |c| logos::table
            .filter(any_of(logos::organization_id, ids))
            .select(columns)
            .load(c)),
    }
}
