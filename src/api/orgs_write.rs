//! Organizations written through the API: the attributes a request gives (IT Glue's PATCH leaves
//! the others as they are) laid over the stored organization, parsed as the web form is parsed and
//! saved by the same use cases (`orgs::create`); bulk writes are all or nothing.

use std::time::Duration;

use crate::auth::User;
use crate::db::DbConn;
use crate::orgs::create::{self, FieldOwner, Owned};
use crate::orgs::delete::{self, Bulk};
use crate::orgs::logos::LogoChange;
use crate::orgs::model::OrgInput;
use crate::orgs::{
    FormProblem, OrgError, OrgForm, OrgId, OrgRef, OrgRow, ParentChoice, Scope, store,
};

/// The writable attributes a request gave; `None`: not given (kept as stored).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OrgPatch {
    pub name: Option<String>,
    pub short_name: Option<String>,
    pub description: Option<String>,
    pub quick_notes: Option<String>,
    pub alert: Option<String>,
    pub type_id: Option<Option<i64>>,
    pub status_id: Option<Option<i64>>,
    pub parent_id: Option<Option<i64>>,
}

/// An organization saved, and the names that look like its name (a warning, not a refusal).
#[derive(Debug, Clone)]
pub struct Saved {
    pub id: OrgId,
    pub similar: Vec<OrgRef>,
}

/// An error of one item of a bulk request (its index in `data`).
#[derive(Debug)]
pub struct AtItem(pub usize, pub OrgError);

impl From<diesel::result::Error> for AtItem {
    fn from(e: diesel::result::Error) -> Self {
        AtItem(0, e.into())
    }
}

fn id_text(id: Option<i64>) -> String {
    id.map(|i| i.to_string()).unwrap_or_default()
}

/// The form the web page would have sent: the stored values, then those the request gave.
fn form(before: Option<&OrgRow>, patch: &OrgPatch) -> OrgForm {
    let stored = |f: fn(&OrgRow) -> &String| before.map(|b| f(b).clone()).unwrap_or_default();
    let given =
        |v: &Option<String>, f: fn(&OrgRow) -> &String| v.clone().unwrap_or_else(|| stored(f));
    let id = |v: Option<Option<i64>>, f: fn(&OrgRow) -> Option<i64>| {
        id_text(v.unwrap_or_else(|| before.and_then(f)))
    };
    OrgForm {
        name: given(&patch.name, |b| &b.name),
        short_name: given(&patch.short_name, |b| &b.short_name),
        type_id: id(patch.type_id, |b| b.type_id),
        status_id: id(patch.status_id, |b| b.status_id),
        description: given(&patch.description, |b| &b.description),
        quick_notes: given(&patch.quick_notes, |b| &b.quick_notes),
        alert: given(&patch.alert, |b| &b.alert),
        ..OrgForm::default()
    }
}

/// The checked input: the form's own parsing, and the parent by id. A parent not given stays;
/// one the user cannot see is kept by `create::update` (it is not theirs to move).
fn input(
    conn: &mut DbConn,
    scope: Scope,
    before: Option<&OrgRow>,
    patch: &OrgPatch,
) -> Result<OrgInput, OrgError> {
    let mut input = OrgInput::try_from(&form(before, patch)).map_err(|errors| {
        OrgError::Invalid(FormProblem {
            errors,
            parent_candidates: Vec::new(),
        })
    })?;
    let parent = match patch.parent_id {
        Some(given) => given,
        None => match before.and_then(|b| b.parent_id) {
            Some(old) if store::find(conn, scope, OrgId(old))?.is_some() => Some(old),
            _ => None,
        },
    };
    input.parent = parent.map_or(ParentChoice::None, ParentChoice::Id);
    Ok(input)
}

/// Runs `save`; when the name looks like others, saves anyway and names them.
fn warned(
    input: &mut OrgInput,
    mut save: impl FnMut(&OrgInput) -> Result<OrgId, OrgError>,
) -> Result<Saved, OrgError> {
    match save(input) {
        Ok(id) => Ok(Saved {
            id,
            similar: Vec::new(),
        }),
        Err(OrgError::LooksLike(similar)) => {
            input.confirm_similar = true;
            Ok(Saved {
                id: save(input)?,
                similar,
            })
        }
        Err(e) => Err(e),
    }
}

pub fn create(conn: &mut DbConn, actor: &User, patch: &OrgPatch) -> Result<Saved, OrgError> {
    let scope = Scope::of(actor);
    let mut input = input(conn, scope, None, patch)?;
    warned(&mut input, |input| {
        create::create(conn, actor, input, &LogoChange::Keep)
    })
}

pub fn update(
    conn: &mut DbConn,
    actor: &User,
    id: OrgId,
    patch: &OrgPatch,
    fields: &dyn FieldOwner,
) -> Result<Saved, OrgError> {
    let scope = Scope::of(actor);
    crate::db::write(conn, |conn| {
        let before = store::find(conn, scope, id)?.ok_or(OrgError::NotFound)?;
        let mut input = input(conn, scope, Some(&before), patch)?;
        warned(&mut input, |input| {
            create::update_owned(
                conn,
                actor,
                id,
                input,
                &LogoChange::Keep,
                (fields, Owned::Refuse),
            )
        })
    })
}

/// Several updates in one transaction: the first that fails undoes them all.
pub fn update_many(
    conn: &mut DbConn,
    actor: &User,
    items: &[(i64, OrgPatch)],
    fields: &dyn FieldOwner,
) -> Result<Vec<Saved>, AtItem> {
    crate::db::write(conn, |conn| {
        items
            .iter()
            .enumerate()
            .map(|(i, (id, patch))| {
                update(conn, actor, OrgId(*id), patch, fields).map_err(|e| AtItem(i, e))
            })
            .collect()
    })
}

/// Deletes as the bulk delete page does (sub-organizations, grace period, purge job), but all or
/// nothing: an organization the user cannot see, or one that must not be deleted (it syncs, or
/// has sub-organizations outside the user's access), undoes the request.
pub fn delete_many(
    conn: &mut DbConn,
    actor: &User,
    ids: &[i64],
    grace: Duration,
) -> Result<Bulk, AtItem> {
    let scope = Scope::of(actor);
    crate::db::write(conn, |conn| {
        for (i, id) in ids.iter().enumerate() {
            if store::find(conn, scope, OrgId(*id))?.is_none() {
                return Err(AtItem(i, OrgError::NotFound));
            }
        }
        let bulk = delete::request_many(conn, actor, ids, grace).map_err(|e| AtItem(0, e))?;
        if let Some((org, why)) = bulk.skipped.first() {
            let at = ids.iter().position(|id| *id == org.id).unwrap_or(0);
            return Err(AtItem(at, OrgError::Conflict(why.clone())));
        }
        Ok(bulk)
    })
}
