//! Flexible asset types: a name and an ordered list of fields, written one per line as
//! `Label: kind` where kind is text, number, date, checkbox or `choice: a, b, c`.

use diesel::prelude::*;

use super::RecordError;
use super::fields::{Field, Input};
use crate::audit;
use crate::auth::User;
use crate::db::schema::{flexible_asset_types as t, records};
use crate::db::{DbConn, now};
use crate::validation::FieldErrors;

#[derive(Debug, Clone)]
pub struct AssetType {
    pub id: i64,
    pub name: String,
    pub fields: Vec<Field>,
    /// The definition as typed (for the edit form).
    pub definition: String,
}

/// Parses a definition; every line becomes a field named `f1`, `f2`, ... (stable across renames).
pub fn parse_definition(text: &str) -> Result<Vec<Field>, String> {
    let mut fields = Vec::new();
    for (n, line) in text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .enumerate()
    {
        let (label, rest) = line
            .split_once(':')
            .ok_or_else(|| format!("Line {}: write it as Label: kind.", n + 1))?;
        let (kind, options) = rest
            .trim()
            .split_once(':')
            .map_or((rest.trim(), ""), |(k, o)| (k.trim(), o));
        let input = match kind.to_lowercase().as_str() {
            "text" => Input::Text,
            "number" => Input::Number,
            "date" => Input::Date,
            "checkbox" => Input::Checkbox,
            "choice" => {
                let list: Vec<String> = options
                    .split(',')
                    .map(|o| o.trim().to_owned())
                    .filter(|o| !o.is_empty())
                    .collect();
                if list.is_empty() {
                    return Err(format!(
                        "Line {}: list the choices after a colon, separated by commas.",
                        n + 1
                    ));
                }
                Input::Choice(list)
            }
            other => {
                return Err(format!(
                    "Line {}: \u{201c}{other}\u{201d} is not a kind; use text, number, date, checkbox or choice.",
                    n + 1
                ));
            }
        };
        let label = label.trim();
        if label.is_empty() || label.chars().count() > 100 {
            return Err(format!(
                "Line {}: give the field a label of at most 100 characters.",
                n + 1
            ));
        }
        fields.push(Field {
            name: format!("f{}", n + 1),
            label: label.to_owned(),
            input,
            required: false,
        });
    }
    if fields.is_empty() {
        return Err("Give the type at least one field.".into());
    }
    Ok(fields)
}

fn definition_of(fields: &[Field]) -> String {
    fields
        .iter()
        .map(|f| match &f.input {
            Input::Number => format!("{}: number", f.label),
            Input::Date => format!("{}: date", f.label),
            Input::Checkbox => format!("{}: checkbox", f.label),
            Input::Choice(list) => format!("{}: choice: {}", f.label, list.join(", ")),
            _ => format!("{}: text", f.label),
        })
        .collect::<Vec<_>>()
        .join("\n")
}

fn row_to_type((id, name, fields): (i64, String, String)) -> AssetType {
    let fields: Vec<Field> = serde_json::from_str(&fields).unwrap_or_default();
    AssetType {
        definition: definition_of(&fields),
        id,
        name,
        fields,
    }
}

pub fn all(conn: &mut DbConn) -> QueryResult<Vec<AssetType>> {
    let rows: Vec<(i64, String, String)> = t::table
        .order_by(t::name)
        .select((t::id, t::name, t::fields))
        .load(conn)?;
    Ok(rows.into_iter().map(row_to_type).collect())
}

pub fn find(conn: &mut DbConn, id: i64) -> QueryResult<Option<AssetType>> {
    let row: Option<(i64, String, String)> = t::table
        .find(id)
        .select((t::id, t::name, t::fields))
        .first(conn)
        .optional()?;
    Ok(row.map(row_to_type))
}

fn checked(name: &str, definition: &str) -> Result<(String, String), RecordError> {
    let mut errors = FieldErrors::default();
    let name = crate::validation::required_text(&mut errors, "name", name, 100);
    let fields = parse_definition(definition).unwrap_or_else(|message| {
        errors.add("definition", message);
        Vec::new()
    });
    let json = serde_json::to_string(&fields).unwrap_or_default();
    errors
        .into_result(|| (name, json))
        .map_err(RecordError::Invalid)
}

pub fn add(
    conn: &mut DbConn,
    actor: &User,
    name: &str,
    definition: &str,
) -> Result<i64, RecordError> {
    let (name, json) = checked(name, definition)?;
    crate::db::write(conn, |conn| {
        let taken: i64 = t::table
            .filter(t::name.eq(&name))
            .count()
            .get_result(conn)?;
        if taken > 0 {
            return Err(RecordError::Invalid(FieldErrors::single(
                "name",
                "There is already a type with this name.",
            )));
        }
        let id = diesel::insert_into(t::table)
            .values((
                t::name.eq(&name),
                t::fields.eq(&json),
                t::created_at.eq(now()),
            ))
            .returning(t::id)
            .get_result(conn)?;
        audit::record(
            conn,
            Some(actor),
            "settings.asset_type",
            &format!("added the flexible asset type {name}"),
        )?;
        Ok(id)
    })
}

/// Removes a type no asset uses.
pub fn remove(conn: &mut DbConn, actor: &User, id: i64) -> Result<String, RecordError> {
    crate::db::write(conn, |conn| {
        let found = find(conn, id)?.ok_or(RecordError::NotFound)?;
        let used: i64 = records::table
            .filter(records::asset_type_id.eq(id))
            .count()
            .get_result(conn)?;
        if used > 0 {
            return Err(RecordError::Conflict(format!(
                "{} cannot be removed: {used} flexible assets use it.",
                found.name
            )));
        }
        diesel::delete(t::table.find(id)).execute(conn)?;
        audit::record(
            conn,
            Some(actor),
            "settings.asset_type",
            &format!("removed the flexible asset type {}", found.name),
        )?;
        Ok(found.name)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn definitions() {
        let fields = parse_definition("Licence key: text\nSeats: number\nRenews: date\nAuto-renew: checkbox\nTier: choice: Basic, Pro").unwrap();
        assert_eq!(fields.len(), 5);
        assert_eq!(
            fields[4].input,
            Input::Choice(vec!["Basic".into(), "Pro".into()])
        );
        assert!(parse_definition("Seats: numbr").is_err());
        assert!(parse_definition("").is_err());
    }
}
