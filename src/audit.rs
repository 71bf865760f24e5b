//! The audit trail: who did what, when. Names are copied in so the trail outlives what it names.

use diesel::prelude::*;

use crate::auth::User;
use crate::db::schema::audit_events;
use crate::db::{DbConn, now};

pub fn record(
    conn: &mut DbConn,
    actor: Option<&User>,
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
        ))
        .execute(conn)
        .map(|_| ())
}
