//! The audit trail: who did what, when. Names are copied in so the trail outlives what it names.

use diesel::prelude::*;

use chrono::NaiveDateTime;

use crate::auth::User;
use crate::db::schema::audit_events;
use crate::db::{DbConn, now};

pub fn record(
    conn: &mut DbConn,
    actor: Option<&User>,
    action: &str,
    summary: &str,
) -> QueryResult<()> {
    insert(conn, actor, None, action, summary)
}

/// An event about an organization; its name is copied so the trail outlives it.
pub fn record_org(
    conn: &mut DbConn,
    actor: Option<&User>,
    org: (i64, &str),
    action: &str,
    summary: &str,
) -> QueryResult<()> {
    insert(conn, actor, Some(org), action, summary)
}

fn insert(
    conn: &mut DbConn,
    actor: Option<&User>,
    org: Option<(i64, &str)>,
    action: &str,
    summary: &str,
) -> QueryResult<()> {
    diesel::insert_into(audit_events::table)
        .values((
            audit_events::at.eq(now()),
            audit_events::actor_id.eq(actor.map(|u| u.id.0)),
            audit_events::actor_email.eq(actor.map_or("system", |u| u.email.as_str())),
            audit_events::action.eq(action),
            audit_events::summary.eq(summary),
            audit_events::organization_id.eq(org.map(|o| o.0)),
            audit_events::organization_name.eq(org.map(|o| o.1)),
        ))
        .execute(conn)
        .map(|_| ())
}

/// One line of an organization's history.
#[derive(Debug, Clone, Queryable)]
pub struct Event {
    pub at: NaiveDateTime,
    pub actor_email: String,
    pub summary: String,
}

/// The latest `limit` events about an organization, newest first.
pub fn for_organization(conn: &mut DbConn, id: i64, limit: i64) -> QueryResult<Vec<Event>> {
    audit_events::table
        .filter(audit_events::organization_id.eq(id))
        .order_by((audit_events::at.desc(), audit_events::id.desc()))
        .limit(limit)
        .select((
            audit_events::at,
            audit_events::actor_email,
            audit_events::summary,
        ))
        .load(conn)
}
