//! Organization types and statuses: the same shape in two tables, handled by one set of functions.
//! Each is marked "sync" or not; that decides what syncs with a PSA.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};

use diesel::prelude::*;

use super::OrgError;
use crate::audit;
use crate::auth::User;
use crate::db::{DbConn, now};
use crate::validation::{self, FieldErrors};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Type,
    Status,
}

/// Runs `$body` with `$t` naming the kind's table and `$col` the organizations column that refers to it.
macro_rules! with_kind {
    ($kind:expr, $t:ident, $col:ident => $body:expr) => {
        match $kind {
            Kind::Type => {
                #[allow(unused_imports)]
                use crate::db::schema::organization_types as $t;
                #[allow(unused_imports)]
                use crate::db::schema::organizations::type_id as $col;
                $body
            }
            Kind::Status => {
                #[allow(unused_imports)]
                use crate::db::schema::organization_statuses as $t;
                #[allow(unused_imports)]
                use crate::db::schema::organizations::status_id as $col;
                $body
            }
        }
    };
}

impl Kind {
    pub fn parse(slug: &str) -> Option<Kind> {
        match slug {
            "types" => Some(Kind::Type),
            "statuses" => Some(Kind::Status),
            _ => None,
        }
    }

    pub fn slug(self) -> &'static str {
        match self {
            Kind::Type => "types",
            Kind::Status => "statuses",
        }
    }

    /// "type" or "status", for sentences.
    pub fn noun(self) -> &'static str {
        match self {
            Kind::Type => "type",
            Kind::Status => "status",
        }
    }

    pub fn title(self) -> &'static str {
        match self {
            Kind::Type => "Organization types",
            Kind::Status => "Organization statuses",
        }
    }
}

#[derive(Debug, Clone)]
pub struct KindRow {
    pub id: i64,
    pub name: String,
    pub synced: bool,
    pub in_use: i64,
}

/// All of a kind, by name: (id, name, synced).
pub fn all(conn: &mut DbConn, kind: Kind) -> QueryResult<Vec<(i64, String, bool)>> {
    with_kind!(kind, t, _col => t::table.order_by(t::name).select((t::id, t::name, t::synced)).load(conn))
}

/// Every type and every status, by name: (id, name, synced).
#[derive(Debug, Default)]
pub struct KindLists {
    pub types: Vec<(i64, String, bool)>,
    pub statuses: Vec<(i64, String, bool)>,
}

/// The `app_settings` row whose value changes (in the same transaction) whenever a type or
/// status is added, changed or removed. Every session lookup reads it in the same statement
/// (`auth::session::lookup`), so each instance learns of a change made by another one with the
/// next signed-in request, and its cached lists are reloaded.
pub const VERSION_KEY: &str = "kinds_version";

/// Types and statuses kept in the process (they are read on many pages and rarely change),
/// labelled with the version the database had when they were loaded.
#[derive(Debug, Default)]
pub struct KindsCache {
    state: Mutex<CacheState>,
}

#[derive(Debug, Default)]
struct CacheState {
    /// The version the last session lookup read (`None`: never changed since installation).
    latest: Option<String>,
    entry: Option<(Option<String>, Arc<KindLists>)>,
}

impl KindsCache {
    fn state(&self) -> std::sync::MutexGuard<'_, CacheState> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// What the database says the version is now (read with the session).
    pub fn observe(&self, version: Option<String>) {
        self.state().latest = version;
    }

    /// The lists, loaded (two statements) only when the version moved since they were cached.
    pub fn lists(&self, conn: &mut DbConn) -> QueryResult<Arc<KindLists>> {
        let latest = {
            let state = self.state();
            match &state.entry {
                Some((version, lists)) if *version == state.latest => return Ok(lists.clone()),
                _ => state.latest.clone(),
            }
        };
        // Loaded after `latest` was read, so the lists are at least as new as their label.
        let lists = Arc::new(KindLists {
            types: all(conn, Kind::Type)?,
            statuses: all(conn, Kind::Status)?,
        });
        self.state().entry = Some((latest, lists.clone()));
        Ok(lists)
    }
}

/// Marks a change of types or statuses for every instance's cache (inside the change's
/// transaction).
fn changed(conn: &mut DbConn) -> QueryResult<()> {
    use crate::db::schema::app_settings;
    let version = crate::auth::token::generate();
    let at = now();
    let updated = diesel::update(app_settings::table.find(VERSION_KEY))
        .set((
            app_settings::value.eq(&version),
            app_settings::updated_at.eq(at),
        ))
        .execute(conn)?;
    if updated == 0 {
        diesel::insert_into(app_settings::table)
            .values((
                app_settings::key.eq(VERSION_KEY),
                app_settings::value.eq(&version),
                app_settings::updated_at.eq(at),
            ))
            .execute(conn)?;
    }
    Ok(())
}

/// All of a kind with how many organizations use each (three statements).
pub fn list(conn: &mut DbConn, kind: Kind) -> QueryResult<Vec<KindRow>> {
    let rows = all(conn, kind)?;
    let used = in_use(conn, kind)?;
    Ok(rows
        .into_iter()
        .map(|(id, name, synced)| KindRow {
            in_use: used.get(&id).copied().unwrap_or(0),
            id,
            name,
            synced,
        })
        .collect())
}

/// How many organizations hold each of a kind: the visible ones from the maintained counts
/// (`orgs::counts`) and those being deleted, which hold it until their purge (few, read through
/// an index of their own on PostgreSQL, migration 000290, and SQLite's sort indexes, which lead
/// with `deleted_at`). Counting every organization took 70 ms a visit at a million.
fn in_use(conn: &mut DbConn, kind: Kind) -> QueryResult<HashMap<i64, i64>> {
    use crate::db::schema::organization_counts as c;
    use crate::db::schema::organizations;
    let visible: Vec<(i64, i64)> = match kind {
        Kind::Type => c::table.select((c::type_id, c::total)).load(conn)?,
        Kind::Status => c::table.select((c::status_id, c::total)).load(conn)?,
    };
    let being_deleted: Vec<Option<i64>> = with_kind!(kind, _t, col => organizations::table
        .filter(organizations::deleted_at.is_not_null())
        .select(col)
        .load(conn))?;
    let mut used: HashMap<i64, i64> = HashMap::new();
    for (id, n) in visible {
        *used.entry(id).or_default() += n;
    }
    for id in being_deleted.into_iter().flatten() {
        *used.entry(id).or_default() += 1;
    }
    Ok(used)
}

pub fn exists(conn: &mut DbConn, kind: Kind, id: i64) -> QueryResult<bool> {
    with_kind!(kind, t, _col => diesel::select(diesel::dsl::exists(t::table.find(id))).get_result(conn))
}

fn name_taken(conn: &mut DbConn, kind: Kind, name: &str, except: i64) -> QueryResult<bool> {
    let names = all(conn, kind)?;
    Ok(names
        .iter()
        .any(|(id, n, _)| *id != except && n.to_lowercase() == name.to_lowercase()))
}

fn checked_name(conn: &mut DbConn, kind: Kind, raw: &str, except: i64) -> Result<String, OrgError> {
    let mut errors = FieldErrors::default();
    let name = validation::required_text(&mut errors, "name", raw, 60);
    if errors.is_empty() && name_taken(conn, kind, &name, except)? {
        errors.add(
            "name",
            format!("There is already a {} named {name}.", kind.noun()),
        );
    }
    errors.into_result(|| name).map_err(|errors| {
        OrgError::Invalid(super::FormProblem {
            errors,
            ..Default::default()
        })
    })
}

/// The ids of `names` (matched ignoring case), adding those that are missing (an import names
/// types and statuses by name). Inside the caller's transaction.
pub fn ensure_named(
    conn: &mut DbConn,
    kind: Kind,
    names: &[String],
) -> QueryResult<std::collections::HashMap<String, i64>> {
    let mut ids: std::collections::HashMap<String, i64> = all(conn, kind)?
        .into_iter()
        .map(|(id, name, _)| (name.to_lowercase(), id))
        .collect();
    let mut added = false;
    for name in names {
        let name = name.trim();
        if name.is_empty() || ids.contains_key(&name.to_lowercase()) {
            continue;
        }
        let id: i64 = with_kind!(kind, t, _col => diesel::insert_into(t::table)
            .values((t::name.eq(name), t::synced.eq(false), t::created_at.eq(now())))
            .returning(t::id)
            .get_result(conn))?;
        ids.insert(name.to_lowercase(), id);
        added = true;
    }
    if added {
        changed(conn)?;
    }
    Ok(ids)
}

pub fn add(
    conn: &mut DbConn,
    actor: &User,
    kind: Kind,
    name: &str,
    synced: bool,
) -> Result<String, OrgError> {
    crate::db::write(conn, |conn| {
        let name = checked_name(conn, kind, name, -1)?;
        with_kind!(kind, t, _col => diesel::insert_into(t::table)
            .values((t::name.eq(&name), t::synced.eq(synced), t::created_at.eq(now())))
            .execute(conn))?;
        changed(conn)?;
        audit::record(
            conn,
            Some(actor),
            "settings.kind",
            &format!("added the organization {} {name}", kind.noun()),
        )?;
        Ok(name)
    })
}

pub fn change(
    conn: &mut DbConn,
    actor: &User,
    kind: Kind,
    id: i64,
    name: &str,
    synced: bool,
) -> Result<String, OrgError> {
    crate::db::write(conn, |conn| {
        if !exists(conn, kind, id)? {
            return Err(OrgError::NotFound);
        }
        let name = checked_name(conn, kind, name, id)?;
        with_kind!(kind, t, _col => diesel::update(t::table.find(id))
            .set((t::name.eq(&name), t::synced.eq(synced)))
            .execute(conn))?;
        changed(conn)?;
        let sync = if synced { "syncs" } else { "does not sync" };
        audit::record(
            conn,
            Some(actor),
            "settings.kind",
            &format!("organization {} {name} {sync}", kind.noun()),
        )?;
        Ok(name)
    })
}

/// Removes one that no organization uses; otherwise says how many do.
pub fn remove(conn: &mut DbConn, actor: &User, kind: Kind, id: i64) -> Result<String, OrgError> {
    crate::db::write(conn, |conn| {
        let row = list(conn, kind)?
            .into_iter()
            .find(|r| r.id == id)
            .ok_or(OrgError::NotFound)?;
        if row.in_use > 0 {
            let noun = if row.in_use == 1 {
                "organization uses"
            } else {
                "organizations use"
            };
            return Err(OrgError::Conflict(format!(
                "{} cannot be removed: {} {noun} it. Give them another {} first.",
                row.name,
                row.in_use,
                kind.noun()
            )));
        }
        with_kind!(kind, t, _col => diesel::delete(t::table.find(id)).execute(conn))?;
        changed(conn)?;
        audit::record(
            conn,
            Some(actor),
            "settings.kind",
            &format!("removed the organization {} {}", kind.noun(), row.name),
        )?;
        Ok(row.name)
    })
}
