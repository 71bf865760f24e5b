//! The audit trail: who did what, when. Names are copied in so the trail outlives what it names;
//! a change of parent keeps ids instead, named with the reader's access when shown (a reader
//! restricted to a list must not learn the name of an organization outside it).

use diesel::prelude::*;

use chrono::NaiveDateTime;

use crate::auth::{User, UserId};
use crate::db::schema::audit_events;
use crate::db::{DbConn, now};

pub fn record(
    conn: &mut DbConn,
    actor: Option<&User>,
    action: &str,
    summary: &str,
) -> QueryResult<()> {
    Row {
        action,
        summary,
        ..Row::default()
    }
    .insert(conn, actor)
}

/// An event about a user's account (two-factor sign-in, sessions), listed on their page under
/// "Account history"; `actor` is who did it (`None`: the command line).
pub fn account_event(
    conn: &mut DbConn,
    actor: Option<&User>,
    subject: UserId,
    action: &str,
    summary: &str,
) -> QueryResult<()> {
    Row {
        action,
        summary,
        subject: Some(subject),
        ..Row::default()
    }
    .insert(conn, actor)
}

/// An event about an organization; its name is copied so the trail outlives it.
pub fn record_org(
    conn: &mut DbConn,
    actor: Option<&User>,
    org: (i64, &str),
    action: &str,
    summary: &str,
) -> QueryResult<()> {
    Row {
        org: Some(org),
        action,
        summary,
        ..Row::default()
    }
    .insert(conn, actor)
}

/// The action of a change of parent; its summary is written when it is shown.
pub const PARENT_CHANGED: &str = "organization.parent";

/// An organization moved from the parent `from` to `to` (ids; `None`: no parent).
pub fn record_parent(
    conn: &mut DbConn,
    actor: Option<&User>,
    org: (i64, &str),
    (from, to): (Option<i64>, Option<i64>),
) -> QueryResult<()> {
    Row {
        org: Some(org),
        action: PARENT_CHANGED,
        summary: "parent changed",
        parents: (from, to),
        ..Row::default()
    }
    .insert(conn, actor)
}

/// One event as stored; what is not given stays empty.
#[derive(Default)]
struct Row<'a> {
    org: Option<(i64, &'a str)>,
    action: &'a str,
    summary: &'a str,
    parents: (Option<i64>, Option<i64>),
    subject: Option<UserId>,
}

impl Row<'_> {
    fn insert(&self, conn: &mut DbConn, actor: Option<&User>) -> QueryResult<()> {
        let (from, to) = self.parents;
        diesel::insert_into(audit_events::table)
            .values((
                audit_events::at.eq(now()),
                audit_events::actor_id.eq(actor.map(|u| u.id.0)),
                audit_events::actor_email.eq(actor.map_or("system", |u| u.email.as_str())),
                audit_events::action.eq(self.action),
                audit_events::summary.eq(self.summary),
                audit_events::organization_id.eq(self.org.map(|o| o.0)),
                audit_events::organization_name.eq(self.org.map(|o| o.1)),
                audit_events::parent_from.eq(from),
                audit_events::parent_to.eq(to),
                audit_events::subject_user_id.eq(self.subject.map(|u| u.0)),
            ))
            .execute(conn)
            .map(|_| ())
    }
}

/// One line of a user's account history.
#[derive(Debug, Clone)]
pub struct AccountEvent {
    pub at: NaiveDateTime,
    pub actor_email: String,
    pub summary: String,
}

/// The latest `limit` account events about `user`, newest first.
pub fn for_user(conn: &mut DbConn, user: UserId, limit: i64) -> QueryResult<Vec<AccountEvent>> {
    let rows: Vec<(NaiveDateTime, String, String)> = audit_events::table
        .filter(audit_events::subject_user_id.eq(user.0))
        .order_by((audit_events::at.desc(), audit_events::id.desc()))
        .limit(limit)
        .select((
            audit_events::at,
            audit_events::actor_email,
            audit_events::summary,
        ))
        .load(conn)?;
    Ok(rows
        .into_iter()
        .map(|(at, actor_email, summary)| AccountEvent {
            at,
            actor_email,
            summary,
        })
        .collect())
}

/// One line of an organization's history.
#[derive(Debug, Clone)]
pub struct Event {
    pub at: NaiveDateTime,
    pub actor_email: String,
    pub summary: String,
    /// A change of parent (from, to), still to be named for the reader.
    pub parents: Option<(Option<i64>, Option<i64>)>,
    /// What a reader who does not see all organizations reads instead of `summary`, for lines
    /// written before names of other organizations were kept out of the text.
    pub restricted: Option<String>,
}

impl Event {
    /// The organization ids the line names.
    pub fn names(&self) -> impl Iterator<Item = i64> {
        self.parents
            .into_iter()
            .flat_map(|(a, b)| a.into_iter().chain(b))
    }

    /// Writes a change of parent's summary with `name` (which decides what the reader may see);
    /// `all`: the reader sees all organizations.
    pub fn resolve(&mut self, all: bool, name: impl Fn(Option<i64>) -> String) {
        if let Some((from, to)) = self.parents {
            self.summary = format!("parent: {} \u{2192} {}", name(from), name(to));
        } else if let Some(text) = self.restricted.take().filter(|_| !all) {
            self.summary = text;
        }
    }
}

/// The text of an older line for a restricted reader, when it named other organizations: an
/// update that changed the parent ("...; parent: A → B; ..."), or a deletion that listed its
/// sub-organizations ("Deleted X and 2 sub-organizations (A, B) with all their data; ..."), or a
/// merge that names the other organization ("Merged X into this organization: 3 records, ...").
fn restricted_text(action: &str, summary: &str) -> Option<String> {
    match action {
        "organization.update"
            if summary.starts_with("parent: ") || summary.contains("; parent: ") =>
        {
            Some("changed this organization, including its parent".to_owned())
        }
        "organization.deleted" => {
            let start = summary.find(" sub-organization")?;
            let open = start + summary[start..].find(" (")?;
            let close = summary.rfind(") with all their data")?;
            (open < close).then(|| format!("{}{}", &summary[..open], &summary[close + 1..]))
        }
        // A merge names the other organization: kept out, the counts stay.
        "organization.merged_in" | "organization.merged_away" | "organization.merge_undone" => {
            let (_, what) = summary.rsplit_once(": ")?;
            let lead = match action {
                "organization.merged_in" => "Merged another organization into this one",
                "organization.merged_away" => "Merged into another organization",
                _ => "A restore undid a merge",
            };
            Some(format!("{lead}: {what}"))
        }
        _ => None,
    }
}

/// The latest `limit` events about an organization, newest first (changes of parent unnamed:
/// see `Event::resolve`).
pub fn for_organization(conn: &mut DbConn, id: i64, limit: i64) -> QueryResult<Vec<Event>> {
    type Row = (
        NaiveDateTime,
        String,
        String,
        String,
        Option<i64>,
        Option<i64>,
    );
    let rows: Vec<Row> = crate::native!(conn, |c| audit_events::table
        .filter(audit_events::organization_id.eq(id))
        .order_by((audit_events::at.desc(), audit_events::id.desc()))
        .limit(limit)
        .select((
            audit_events::at,
            audit_events::actor_email,
            audit_events::action,
            audit_events::summary,
            audit_events::parent_from,
            audit_events::parent_to,
        ))
        .load(c))?;
    Ok(rows
        .into_iter()
        .map(|(at, actor_email, action, summary, from, to)| Event {
            at,
            actor_email,
            parents: (action == PARENT_CHANGED).then_some((from, to)),
            restricted: restricted_text(&action, &summary),
            summary,
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::restricted_text;

    #[test]
    fn older_lines_lose_the_names_of_other_organizations() {
        let update =
            "name: \u{201c}A\u{201d} \u{2192} \u{201c}B\u{201d}; parent: Secret \u{2192} none";
        assert_eq!(
            restricted_text("organization.update", update).as_deref(),
            Some("changed this organization, including its parent")
        );
        assert_eq!(
            restricted_text("organization.update", "alert changed"),
            None
        );
        let deleted = "Deleted Root and 2 sub-organizations (Sub (one), Two) with all their data; \
                       purge from 2026-11-30 10:00 UTC";
        assert_eq!(
            restricted_text("organization.deleted", deleted).as_deref(),
            Some(
                "Deleted Root and 2 sub-organizations with all their data; purge from \
                 2026-11-30 10:00 UTC"
            )
        );
        let counted = "Deleted Root and 2 sub-organizations with all their data; purge from x";
        assert_eq!(restricted_text("organization.deleted", counted), None);
        let merged = "Merged Secret: Co into this organization: 2 records, 0 sub-organizations";
        assert_eq!(
            restricted_text("organization.merged_in", merged).as_deref(),
            Some("Merged another organization into this one: 2 records, 0 sub-organizations")
        );
    }
}
