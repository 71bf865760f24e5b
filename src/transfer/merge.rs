//! What an import does to a row Roster already has: a three-way merge per field between what the
//! last import brought (remembered as keyed hashes in `import_sources.fingerprint`), what Roster
//! holds now and what the export says. The export wins where only it changed; a person's change
//! in Roster is never overwritten: where both changed, Roster's value stays and the field is named
//! for the report.

use std::collections::BTreeMap;

use crate::config::SecretKey;

/// Field name -> value, as imported (a password's secret under `secret`).
pub type Values = BTreeMap<String, String>;

/// Keyed, so that the hash of a password kept in the database tells nothing about it.
fn hash(key: &SecretKey, field: &str, value: &str) -> String {
    let mac = key.mac(
        b"roster-import-fingerprint",
        &[field.as_bytes(), value.as_bytes()],
    );
    hex::encode(&mac[..10])
}

/// The fingerprint stored for `values`: each field's hash, as JSON.
pub fn fingerprint(key: &SecretKey, values: &Values) -> String {
    let hashes: BTreeMap<&str, String> = values
        .iter()
        .map(|(field, value)| (field.as_str(), hash(key, field, value)))
        .collect();
    serde_json::to_string(&hashes).unwrap_or_default()
}

/// `fingerprint` with `field` now `now`, when it still held `was` (else `None`: a person changed
/// it since, and the next import must see that).
pub fn refingerprint(
    key: &SecretKey,
    fingerprint: &str,
    field: &str,
    (was, now): (&str, &str),
) -> Option<String> {
    let mut hashes: BTreeMap<String, String> = serde_json::from_str(fingerprint).ok()?;
    let slot = hashes.get_mut(field)?;
    if *slot != hash(key, field, was) {
        return None;
    }
    *slot = hash(key, field, now);
    serde_json::to_string(&hashes).ok()
}

/// What the merge decided.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Merged {
    /// The values to write (Roster's where the export did not change or a person changed them).
    pub values: Values,
    /// Some field takes the export's value.
    pub changed: bool,
    /// Fields changed both in Roster and in the export: Roster's value was kept.
    pub kept: Vec<String>,
}

/// Merges `incoming` into `current` field by field; `last` is the fingerprint stored by the last
/// import (`None` when the row was matched by name and never imported: a non-empty Roster value
/// then counts as a person's).
pub fn merge(key: &SecretKey, last: Option<&str>, current: &Values, incoming: &Values) -> Merged {
    let base: Option<BTreeMap<String, String>> =
        last.map(|text| serde_json::from_str(text).unwrap_or_default());
    let mut out = Merged {
        values: current.clone(),
        ..Merged::default()
    };
    for (field, new) in incoming {
        let now = current.get(field).map_or("", String::as_str);
        if now == new {
            continue;
        }
        let was = base.as_ref().and_then(|b| b.get(field));
        let export_changed = was != Some(&hash(key, field, new));
        // A field the last import did not bring (an older version of it) counts as never
        // imported: a non-empty value there is a person's.
        let person_changed = match was {
            Some(was) => *was != hash(key, field, now),
            None => !now.is_empty(),
        };
        if !export_changed {
            continue;
        }
        if person_changed {
            out.kept.push(field.clone());
        } else {
            out.values.insert(field.clone(), new.clone());
            out.changed = true;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn values(pairs: &[(&str, &str)]) -> Values {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    #[test]
    fn the_export_wins_where_only_it_changed_and_a_person_where_only_they_did() {
        let key = SecretKey::new(vec![3; 32]);
        let first = values(&[("name", "Acme"), ("notes", "old"), ("city", "Paris")]);
        let last = fingerprint(&key, &first);
        let roster = values(&[
            ("name", "Acme"),
            ("notes", "typed by a person"),
            ("city", "Lyon"),
        ]);
        let newer = values(&[("name", "Acme Ltd"), ("notes", "old"), ("city", "Nice")]);
        let merged = merge(&key, Some(&last), &roster, &newer);
        assert_eq!(merged.values["name"], "Acme Ltd");
        assert_eq!(merged.values["notes"], "typed by a person");
        assert_eq!(
            merged.values["city"], "Lyon",
            "both changed: Roster's stays"
        );
        assert_eq!(merged.kept, vec!["city".to_owned()]);
        assert!(merged.changed);
    }

    #[test]
    fn the_same_export_twice_changes_nothing() {
        let key = SecretKey::new(vec![3; 32]);
        let row = values(&[("name", "Acme"), ("secret", "hunter2")]);
        let merged = merge(&key, Some(&fingerprint(&key, &row)), &row, &row);
        assert!(!merged.changed && merged.kept.is_empty());
        assert!(!fingerprint(&key, &row).contains("hunter2"));
    }

    #[test]
    fn a_row_matched_by_name_fills_only_empty_fields() {
        let key = SecretKey::new(vec![3; 32]);
        let roster = values(&[("name", "Acme"), ("notes", "")]);
        let export = values(&[("name", "Acme"), ("notes", "from IT Glue"), ("alert", "")]);
        let merged = merge(&key, None, &roster, &export);
        assert_eq!(merged.values["notes"], "from IT Glue");
        let roster = values(&[("name", "Acme"), ("notes", "mine")]);
        let merged = merge(&key, None, &roster, &export);
        assert_eq!(merged.kept, vec!["notes".to_owned()]);
    }
}
