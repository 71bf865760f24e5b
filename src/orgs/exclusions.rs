//! PSA companies that data loads leave alone: Disable sync and the delete of an organization that
//! was linked record its company here, so that no load re-links it, creates it again or matches
//! another organization to it by name, until someone clicks Include again (PSA settings).

use std::collections::HashSet;

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::audit;
use crate::auth::User;
use crate::db::schema::psa_exclusions;
use crate::db::{DbConn, now, write};

/// One excluded company, as the PSA settings page lists it.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = psa_exclusions)]
pub struct Exclusion {
    pub id: i64,
    pub psa_kind: String,
    pub company_id: String,
    pub name: String,
    pub organization_id: Option<i64>,
    pub excluded_by: String,
    pub excluded_at: NaiveDateTime,
}

/// The company `company` of the PSA `psa_kind` (as stored in `organizations.psa_kind`), named
/// `name`, that organization `org` was linked to.
pub struct Excluded<'a> {
    pub psa_kind: &'a str,
    pub company: &'a str,
    pub name: &'a str,
    pub org: Option<i64>,
}

/// Records an exclusion (inside the caller's transaction); one already there is kept as it was.
pub fn exclude(conn: &mut DbConn, what: &Excluded<'_>, by: &User) -> QueryResult<()> {
    let there: i64 = psa_exclusions::table
        .filter(psa_exclusions::psa_kind.eq(what.psa_kind))
        .filter(psa_exclusions::company_id.eq(what.company))
        .count()
        .get_result(conn)?;
    if there > 0 {
        return Ok(());
    }
    diesel::insert_into(psa_exclusions::table)
        .values((
            psa_exclusions::psa_kind.eq(what.psa_kind),
            psa_exclusions::company_id.eq(what.company),
            psa_exclusions::name.eq(what.name),
            psa_exclusions::organization_id.eq(what.org),
            psa_exclusions::excluded_by.eq(&by.email),
            psa_exclusions::excluded_at.eq(now()),
        ))
        .execute(conn)
        .map(|_| ())
}

/// Every exclusion, newest first.
pub fn list(conn: &mut DbConn) -> QueryResult<Vec<Exclusion>> {
    psa_exclusions::table
        .order_by((
            psa_exclusions::excluded_at.desc(),
            psa_exclusions::id.desc(),
        ))
        .select(Exclusion::as_select())
        .load(conn)
}

/// The ids of the excluded companies of one PSA.
pub fn excluded_companies(conn: &mut DbConn, psa_kind: &str) -> QueryResult<HashSet<String>> {
    Ok(psa_exclusions::table
        .filter(psa_exclusions::psa_kind.eq(psa_kind))
        .select(psa_exclusions::company_id)
        .load::<String>(conn)?
        .into_iter()
        .collect())
}

/// The exclusions recorded for any of the organizations `ids` (their delete confirmation offers
/// to bring the companies back).
pub fn of_organizations(conn: &mut DbConn, ids: &[i64]) -> QueryResult<Vec<Exclusion>> {
    psa_exclusions::table
        .filter(psa_exclusions::organization_id.eq_any(ids))
        .order_by(psa_exclusions::id.asc())
        .select(Exclusion::as_select())
        .load(conn)
}

/// Forgets the exclusions of the organizations `ids` (inside the caller's transaction): the next
/// data load brings their companies back.
pub fn forget_for(conn: &mut DbConn, actor: &User, ids: &[i64]) -> QueryResult<()> {
    for gone in of_organizations(conn, ids)? {
        forget(conn, actor, &gone, "at its organization's delete")?;
    }
    Ok(())
}

fn forget(conn: &mut DbConn, actor: &User, gone: &Exclusion, when: &str) -> QueryResult<()> {
    diesel::delete(psa_exclusions::table.find(gone.id)).execute(conn)?;
    audit::record(
        conn,
        Some(actor),
        "psa.included",
        &format!(
            "Included again {} (company {}) {when}: the next data load brings it back",
            gone.name, gone.company_id
        ),
    )
}

/// Include again: the exclusion goes (whether the PSA still has the company or not), nothing
/// else. `None` when it was gone already.
pub fn include_again(conn: &mut DbConn, actor: &User, id: i64) -> QueryResult<Option<Exclusion>> {
    write(conn, |conn| {
        let Some(gone) = psa_exclusions::table
            .find(id)
            .select(Exclusion::as_select())
            .first(conn)
            .optional()?
        else {
            return Ok(None);
        };
        forget(conn, actor, &gone, "on the PSA settings page")?;
        Ok(Some(gone))
    })
}
