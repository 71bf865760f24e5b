//! How the PSA's company types and statuses map to Roster's: each Roster value may list the PSA
//! names that mean it (else its own name does), and whether it syncs. Read by the data load and
//! the push; changed on the PSA settings page.

use diesel::prelude::*;

use super::settings::SaveError;
use crate::audit;
use crate::auth::User;
use crate::db::schema::{psa_status_map, psa_type_map};
use crate::db::{DbConn, write};
use crate::orgs::kinds::{self, Kind};
use crate::validation::FieldErrors;

/// A Roster type or status, and the PSA names mapped to it (none: its own name).
#[derive(Debug, Clone)]
pub struct MappedValue {
    pub id: i64,
    pub name: String,
    pub synced: bool,
    pub psa_names: Vec<String>,
}

/// How the PSA's names map to Roster's types and statuses.
#[derive(Debug, Clone, Default)]
pub struct Mapping {
    types: Vec<MappedValue>,
    statuses: Vec<MappedValue>,
}

/// What a PSA name maps to: the Roster id and whether it syncs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Mapped {
    pub id: i64,
    pub synced: bool,
}

/// The value a PSA name means: one it is mapped to, else the one of the same name.
fn find(list: &[MappedValue], psa_name: &str) -> Option<Mapped> {
    let psa_name = psa_name.trim();
    list.iter()
        .find(|v| v.psa_names.iter().any(|p| p.eq_ignore_ascii_case(psa_name)))
        .or_else(|| list.iter().find(|v| v.name.eq_ignore_ascii_case(psa_name)))
        .map(|v| Mapped {
            id: v.id,
            synced: v.synced,
        })
}

/// The PSA's name for a Roster value: the first mapped to it, else its own.
fn psa_name_of(list: &[MappedValue], id: i64) -> Option<String> {
    list.iter()
        .find(|v| v.id == id)
        .map(|v| v.psa_names.first().unwrap_or(&v.name).clone())
}

fn synced(list: &[MappedValue], id: Option<i64>) -> bool {
    id.is_some_and(|id| list.iter().any(|v| v.id == id && v.synced))
}

fn values(all: Vec<(i64, String, bool)>, explicit: &[(String, i64)]) -> Vec<MappedValue> {
    all.into_iter()
        .map(|(id, name, synced)| MappedValue {
            psa_names: explicit
                .iter()
                .filter(|(_, i)| *i == id)
                .map(|(p, _)| p.clone())
                .collect(),
            id,
            name,
            synced,
        })
        .collect()
}

impl Mapping {
    /// A mapping of these values (for tests of the decision).
    #[cfg(test)]
    pub fn of(types: Vec<MappedValue>, statuses: Vec<MappedValue>) -> Self {
        Self { types, statuses }
    }

    pub fn load(conn: &mut DbConn) -> QueryResult<Self> {
        let explicit_types: Vec<(String, i64)> = psa_type_map::table
            .order_by(psa_type_map::psa_name)
            .select((psa_type_map::psa_name, psa_type_map::type_id))
            .load(conn)?;
        let explicit_statuses: Vec<(String, i64)> = psa_status_map::table
            .order_by(psa_status_map::psa_name)
            .select((psa_status_map::psa_name, psa_status_map::status_id))
            .load(conn)?;
        Ok(Self {
            types: values(kinds::all(conn, Kind::Type)?, &explicit_types),
            statuses: values(kinds::all(conn, Kind::Status)?, &explicit_statuses),
        })
    }

    /// Roster's types or statuses, by name, with their PSA names.
    pub fn values(&self, kind: Kind) -> &[MappedValue] {
        match kind {
            Kind::Type => &self.types,
            Kind::Status => &self.statuses,
        }
    }

    pub fn type_of(&self, psa_name: &str) -> Option<Mapped> {
        find(&self.types, psa_name)
    }

    pub fn status_of(&self, psa_name: &str) -> Option<Mapped> {
        find(&self.statuses, psa_name)
    }

    /// The PSA's name for a Roster type (for pushing).
    pub fn psa_type(&self, type_id: i64) -> Option<String> {
        psa_name_of(&self.types, type_id)
    }

    pub fn psa_status(&self, status_id: i64) -> Option<String> {
        psa_name_of(&self.statuses, status_id)
    }

    /// Whether a Roster type and status both sync.
    pub fn syncs(&self, type_id: Option<i64>, status_id: Option<i64>) -> bool {
        synced(&self.types, type_id) && synced(&self.statuses, status_id)
    }
}

/// The mapping form's field of a Roster value (`type_3`, `status_1`).
pub fn field_of(kind: Kind, id: i64) -> String {
    match kind {
        Kind::Type => format!("type_{id}"),
        Kind::Status => format!("status_{id}"),
    }
}

/// The PSA names typed in one field (comma-separated).
pub fn split_names(text: &str) -> Vec<String> {
    text.split(',')
        .map(|n| n.trim().to_owned())
        .filter(|n| !n.is_empty())
        .collect()
}

/// One PSA name mapped to a Roster type or status.
pub type MapRow = (Kind, String, i64);

/// The mapping typed in the form's fields (`type_{id}`, `status_{id}`: PSA names,
/// comma-separated), checked: a PSA name may mean one type and one status, not two of either.
pub fn parse_fields(
    mapping: &Mapping,
    fields: &std::collections::HashMap<String, String>,
) -> Result<Vec<MapRow>, FieldErrors> {
    let mut errors = FieldErrors::default();
    let mut rows: Vec<MapRow> = Vec::new();
    for kind in [Kind::Type, Kind::Status] {
        for value in mapping.values(kind) {
            let field = field_of(kind, value.id);
            let typed = fields.get(&field).map(String::as_str).unwrap_or_default();
            for name in split_names(typed) {
                let taken = rows
                    .iter()
                    .find(|(k, n, _)| *k == kind && n.eq_ignore_ascii_case(&name));
                if name.chars().count() > 100 {
                    errors.add(&field, "PSA names are at most 100 characters.");
                } else if let Some((_, _, other)) = taken {
                    let other = mapping
                        .values(kind)
                        .iter()
                        .find(|v| v.id == *other)
                        .map_or("", |v| v.name.as_str());
                    errors.add(
                        &field,
                        format!("\u{201c}{name}\u{201d} already means {other}."),
                    );
                } else {
                    rows.push((kind, name, value.id));
                }
            }
        }
    }
    if errors.is_empty() {
        Ok(rows)
    } else {
        Err(errors)
    }
}

impl Mapping {
    /// This mapping with `rows` instead of its PSA names (a mapping typed but not saved).
    #[must_use]
    pub fn with_rows(mut self, rows: &[MapRow]) -> Self {
        for kind in [Kind::Type, Kind::Status] {
            let list = match kind {
                Kind::Type => &mut self.types,
                Kind::Status => &mut self.statuses,
            };
            for value in list.iter_mut() {
                value.psa_names = rows
                    .iter()
                    .filter(|(k, _, id)| *k == kind && *id == value.id)
                    .map(|(_, n, _)| n.clone())
                    .collect();
            }
        }
        self
    }
}

/// Inside the caller's transaction: the mapping becomes `rows`.
pub fn replace(conn: &mut DbConn, rows: &[MapRow]) -> QueryResult<()> {
    diesel::delete(psa_type_map::table).execute(conn)?;
    diesel::delete(psa_status_map::table).execute(conn)?;
    for (kind, name, id) in rows {
        match kind {
            Kind::Type => diesel::insert_into(psa_type_map::table)
                .values((
                    psa_type_map::psa_name.eq(name),
                    psa_type_map::type_id.eq(id),
                ))
                .execute(conn)?,
            Kind::Status => diesel::insert_into(psa_status_map::table)
                .values((
                    psa_status_map::psa_name.eq(name),
                    psa_status_map::status_id.eq(id),
                ))
                .execute(conn)?,
        };
    }
    Ok(())
}

/// Replaces the mapping from the form's fields (see `parse_fields`).
pub fn save_mapping(
    conn: &mut DbConn,
    actor: &User,
    fields: &std::collections::HashMap<String, String>,
) -> Result<(), SaveError> {
    write(conn, |conn| {
        let mapping = Mapping::load(conn)?;
        let rows = parse_fields(&mapping, fields).map_err(SaveError::Invalid)?;
        replace(conn, &rows)?;
        audit::record(
            conn,
            Some(actor),
            "psa.mapping",
            "Changed how PSA types and statuses map to Roster's",
        )?;
        Ok(())
    })
}
