//! The use cases that save an organization: create (B2, B6) and update. Both check the type,
//! status and parent, warn about names that look like an existing one, and write the audit trail.

use super::access::Scope;
use super::kinds::{self, Kind};
use super::logos::{self, LogoChange};
use super::model::{OrgInput, OrgRow, ParentChoice, name_key};
use super::store::{self, OrgValues};
use super::{FormProblem, OrgError, OrgId, tree};
use crate::audit;
use crate::auth::User;
use crate::db::{DbConn, DbError};

/// Who owns an organization's mapped fields (name, short name, type, status) besides Roster:
/// under one-way sync, the PSA. `orgs` asks; the layer above answers (`psa::settings::OneWay`),
/// so that `orgs` does not reach up into `psa`.
pub trait FieldOwner {
    /// The owner's name, when someone else owns `org`'s mapped fields.
    fn owner(&self, conn: &mut DbConn, org: &OrgRow) -> Result<Option<&'static str>, DbError>;
}

/// Roster owns every field (no PSA sync in play: seeding, imports, tests).
pub struct RosterOwns;

impl FieldOwner for RosterOwns {
    fn owner(&self, _: &mut DbConn, _: &OrgRow) -> Result<Option<&'static str>, DbError> {
        Ok(None)
    }
}

/// The parent's id, after checking it exists for this user and makes no loop.
fn resolve_parent(
    conn: &mut DbConn,
    scope: Scope,
    org: Option<OrgId>,
    choice: &ParentChoice,
) -> Result<Option<i64>, OrgError> {
    let id = match choice {
        ParentChoice::None => return Ok(None),
        ParentChoice::Id(id) => by_id(conn, scope, *id)?,
        ParentChoice::Named { id, name } => by_name(conn, scope, *id, name)?,
    };
    if let Some(org) = org
        && tree::would_loop(conn, org, id)?
    {
        return Err(OrgError::field(
            "parent_name",
            "An organization cannot be its own parent, nor sit below one of its own sub-organizations.",
        ));
    }
    Ok(Some(id))
}

/// A parent given by id: one the user may see.
fn by_id(conn: &mut DbConn, scope: Scope, id: i64) -> Result<i64, OrgError> {
    match store::find(conn, scope, OrgId(id))? {
        Some(_) => Ok(id),
        None => Err(OrgError::field(
            "parent_name",
            format!("There is no organization {id} (or you do not have access to it)."),
        )),
    }
}

/// A parent given by the name typed, and the id a chooser attached to it.
fn by_name(conn: &mut DbConn, scope: Scope, id: Option<i64>, name: &str) -> Result<i64, OrgError> {
    let chosen = match id {
        Some(id) => store::find(conn, scope, OrgId(id))?
            .filter(|p| p.name.to_lowercase() == name.to_lowercase()),
        None => None,
    };
    Ok(match chosen {
        Some(parent) => parent.id,
        None => {
            let mut found = store::named(conn, scope, name)?;
            match found.len() {
                0 => {
                    return Err(OrgError::field(
                        "parent_name",
                        format!(
                            "No organization is named \u{201c}{name}\u{201d}. Check the spelling, or leave it empty."
                        ),
                    ));
                }
                1 => found.remove(0).id,
                _ => {
                    let mut problem = FormProblem::default();
                    problem.errors.add(
                        "parent_name",
                        format!(
                            "Several organizations are named \u{201c}{name}\u{201d}: choose one."
                        ),
                    );
                    problem.parent_candidates = found;
                    return Err(OrgError::Invalid(problem));
                }
            }
        }
    })
}

fn check_kind(
    conn: &mut DbConn,
    kind: Kind,
    field: &'static str,
    id: Option<i64>,
) -> Result<(), OrgError> {
    match id {
        Some(id) if !kinds::exists(conn, kind, id)? => {
            Err(OrgError::field(field, "Choose one of the listed values."))
        }
        _ => Ok(()),
    }
}

fn values(input: &OrgInput, parent_id: Option<i64>) -> OrgValues<'_> {
    OrgValues {
        name: &input.name,
        short_name: &input.short_name,
        type_id: input.type_id,
        status_id: input.status_id,
        parent_id,
        description: &input.description,
        quick_notes: &input.quick_notes,
        alert: &input.alert,
    }
}

/// Checks everything that needs the database; returns the parent's id.
fn check(
    conn: &mut DbConn,
    scope: Scope,
    org: Option<OrgId>,
    input: &OrgInput,
    old_name: Option<&str>,
) -> Result<Option<i64>, OrgError> {
    check_kind(conn, Kind::Type, "type_id", input.type_id)?;
    check_kind(conn, Kind::Status, "status_id", input.status_id)?;
    let parent = resolve_parent(conn, scope, org, &input.parent)?;
    let renamed = old_name.is_none_or(|old| name_key(old) != name_key(&input.name));
    if renamed && !input.confirm_similar {
        let similar = store::looking_like(conn, scope, &input.name, org)?;
        if !similar.is_empty() {
            return Err(OrgError::LooksLike(similar));
        }
    }
    Ok(parent)
}

pub fn create(
    conn: &mut DbConn,
    actor: &User,
    input: &OrgInput,
    logo: &LogoChange,
) -> Result<OrgId, OrgError> {
    let scope = Scope::of(actor);
    if !scope.all {
        return Err(OrgError::Forbidden(
            "Only users with access to all organizations can create organizations.".into(),
        ));
    }
    crate::db::write(conn, |conn| {
        let parent = check(conn, scope, None, input, None)?;
        let id = store::insert(conn, &values(input, parent), Some(actor.id.0))?;
        logos::apply(conn, id, logo)?;
        audit::record_org(
            conn,
            Some(actor),
            (id.0, &input.name),
            "organization.create",
            &format!("created {}", input.name),
        )?;
        Ok(id)
    })
}

/// What becomes of a change to the fields a PSA owns under one-way sync.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Owned {
    /// The Edit form shows them read-only: the PSA's values are kept whatever comes back.
    Keep,
    /// The API refuses a change to anything but alert, description and quick notes (as IT Glue).
    Refuse,
}

pub fn update(
    conn: &mut DbConn,
    actor: &User,
    id: OrgId,
    input: &OrgInput,
    logo: &LogoChange,
    fields: &dyn FieldOwner,
) -> Result<OrgId, OrgError> {
    update_owned(conn, actor, id, input, logo, (fields, Owned::Keep))
}

/// `update`, saying what becomes of a change to PSA-owned fields.
pub fn update_owned(
    conn: &mut DbConn,
    actor: &User,
    id: OrgId,
    input: &OrgInput,
    logo: &LogoChange,
    (fields, owned): (&dyn FieldOwner, Owned),
) -> Result<OrgId, OrgError> {
    let scope = Scope::of(actor);
    crate::db::write(conn, |conn| {
        let before = store::find(conn, scope, id)?.ok_or(OrgError::NotFound)?;
        let pinned = owner_wins(conn, fields, &before, input, owned)?;
        let input = &pinned;
        let mut parent = check(conn, scope, Some(id), input, Some(&before.name))?;
        // A parent outside the user's access is not shown to them, so an empty field keeps it.
        if parent.is_none()
            && let Some(old) = before.parent_id
            && store::find(conn, scope, OrgId(old))?.is_none()
        {
            parent = Some(old);
        }
        store::update(conn, id, &values(input, parent))?;
        let mut changes = describe_changes(conn, &before, input)?;
        changes.extend(logos::apply(conn, id, logo)?.map(str::to_owned));
        if before.parent_id != parent {
            // By id: History names it with each reader's access.
            audit::record_parent(
                conn,
                Some(actor),
                (id.0, &input.name),
                (before.parent_id, parent),
            )?;
        }
        if !changes.is_empty() {
            audit::record_org(
                conn,
                Some(actor),
                (id.0, &input.name),
                "organization.update",
                &changes.join("; "),
            )?;
        }
        Ok(id)
    })
}

/// Under one-way sync "the PSA always wins": a linked organization keeps the PSA's name, short
/// name, type and status whatever the form sends (the Edit form shows them read-only).
fn owner_wins(
    conn: &mut DbConn,
    fields: &dyn FieldOwner,
    before: &OrgRow,
    input: &OrgInput,
    owned: Owned,
) -> Result<OrgInput, OrgError> {
    let mut input = input.clone();
    if let Some(psa) = fields.owner(conn, before)? {
        if owned == Owned::Refuse {
            refuse_owned(psa, before, &input)?;
        }
        input.name.clone_from(&before.name);
        input.short_name.clone_from(&before.short_name);
        input.type_id = before.type_id;
        input.status_id = before.status_id;
    }
    Ok(input)
}

/// Under one-way sync the API may change only alert, description and quick notes of a linked
/// organization: any other change is an error naming the field and the PSA.
fn refuse_owned(psa: &str, before: &OrgRow, input: &OrgInput) -> Result<(), OrgError> {
    let parent_changed = match &input.parent {
        ParentChoice::None => before.parent_id.is_some(),
        ParentChoice::Id(id) => before.parent_id != Some(*id),
        ParentChoice::Named { .. } => true,
    };
    let changed = [
        ("name", before.name != input.name),
        ("short_name", before.short_name != input.short_name),
        ("type_id", before.type_id != input.type_id),
        ("status_id", before.status_id != input.status_id),
        ("parent_name", parent_changed),
    ];
    let mut problem = FormProblem::default();
    for (field, _) in changed.iter().filter(|(_, changed)| *changed) {
        problem.errors.add(
            field,
            format!(
                "This organization syncs one way from {psa}: change this there (here only the \
                 alert, description and quick notes can change)."
            ),
        );
    }
    if problem.errors.is_empty() {
        Ok(())
    } else {
        Err(OrgError::Invalid(problem))
    }
}

/// "type: Customer → Vendor" when `old` and `new` differ, naming them from `list` (one query for both).
fn kind_change(
    conn: &mut DbConn,
    kind: Kind,
    old: Option<i64>,
    new: Option<i64>,
) -> Result<Option<String>, OrgError> {
    if old == new {
        return Ok(None);
    }
    let all = kinds::all(conn, kind)?;
    let name = |id: Option<i64>| {
        id.and_then(|id| all.iter().find(|(k, _, _)| *k == id))
            .map_or("none", |(_, n, _)| n.as_str())
            .to_owned()
    };
    Ok(Some(format!(
        "{}: {} \u{2192} {}",
        kind.noun(),
        name(old),
        name(new)
    )))
}

/// "name: “A” → “B”; ..." for the history.
fn describe_changes(
    conn: &mut DbConn,
    before: &OrgRow,
    after: &OrgInput,
) -> Result<Vec<String>, OrgError> {
    let mut changes = Vec::new();
    let mut from_to = |label: &str, old: &str, new: &str| {
        if old != new {
            changes.push(format!(
                "{label}: \u{201c}{old}\u{201d} \u{2192} \u{201c}{new}\u{201d}"
            ));
        }
    };
    from_to("name", &before.name, &after.name);
    from_to("short name", &before.short_name, &after.short_name);
    changes.extend(kind_change(
        conn,
        Kind::Type,
        before.type_id,
        after.type_id,
    )?);
    changes.extend(kind_change(
        conn,
        Kind::Status,
        before.status_id,
        after.status_id,
    )?);
    for (label, old, new) in [
        ("description", &before.description, &after.description),
        ("quick notes", &before.quick_notes, &after.quick_notes),
        ("alert", &before.alert, &after.alert),
    ] {
        if old != new {
            changes.push(format!("{label} changed"));
        }
    }
    Ok(changes)
}
