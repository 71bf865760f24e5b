//! Attachments of an IT Glue export (`attachments/{entity}/{id}/{file}`): Roster has no attachment
//! storage, so they are not imported. The report names each record's files (at the record's file
//! and line) so that a person can carry them over by hand; the preview counts them.

use std::collections::HashMap;

/// The files under `attachments/`, by (entity, IT Glue id).
#[derive(Debug, Default)]
pub struct Attachments {
    by_record: HashMap<(String, String), Vec<String>>,
}

/// An entity folder or a CSV file's stem, compared loosely: `Configurations`, `configuration`
/// and `flexible_assets` / `flexible-asset` are each one entity.
fn entity(name: &str) -> String {
    let lower = name.to_lowercase().replace(['_', ' '], "-");
    lower.strip_suffix('s').unwrap_or(&lower).to_owned()
}

/// Flexible assets may be filed under their type's slug or as flexible assets.
const FLEXIBLE: &str = "flexible-asset";

impl Attachments {
    /// The attachments among the export's file names (any folder named `attachments`).
    pub fn new(names: &[String]) -> Attachments {
        let mut out = Attachments::default();
        for name in names {
            let parts: Vec<&str> = name.split('/').collect();
            let Some(at) = parts
                .iter()
                .position(|p| p.eq_ignore_ascii_case("attachments"))
            else {
                continue;
            };
            if let [kind, id, file @ ..] = &parts[at + 1..]
                && !file.is_empty()
            {
                out.by_record
                    .entry((entity(kind), (*id).to_owned()))
                    .or_default()
                    .push(file.join("/"));
            }
        }
        out
    }

    /// (records having attachments, files).
    pub fn count(&self) -> (usize, usize) {
        (
            self.by_record.len(),
            self.by_record.values().map(Vec::len).sum(),
        )
    }

    /// The report's line for record `id` of the CSV `file` (`flexible`: a flexible asset file),
    /// when it has attachments.
    pub fn note(&self, file: &str, id: &str, flexible: bool) -> Option<String> {
        let base = file.rsplit('/').next().unwrap_or(file);
        let stem = base.strip_suffix(".csv").unwrap_or(base);
        let mut kinds = vec![entity(stem)];
        if flexible {
            kinds.push(FLEXIBLE.to_owned());
        }
        let files = kinds
            .into_iter()
            .find_map(|kind| self.by_record.get(&(kind, id.to_owned())))?;
        Some(format!(
            "its {} attachment(s) were not imported (Roster has no attachment storage): {}; \
             they are in the export under attachments/",
            files.len(),
            files.join(", ")
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn files_are_found_per_record() {
        let names: Vec<String> = [
            "export/attachments/configurations/31/diagram.pdf",
            "export/attachments/configurations/31/scans/front.png",
            "export/attachments/Flexible_Assets/7/cert.pem",
            "export/attachments/passwords/8",
            "export/contacts.csv",
        ]
        .map(str::to_owned)
        .into();
        let found = Attachments::new(&names);
        assert_eq!(found.count(), (2, 3));
        let note = found
            .note("export/configurations.csv", "31", false)
            .unwrap();
        assert!(note.contains("2 attachment(s)") && note.contains("diagram.pdf, scans/front.png"));
        assert_eq!(found.note("contacts.csv", "31", false), None);
        assert!(found.note("ssl-certificates.csv", "7", true).is_some());
        assert_eq!(found.note("ssl-certificates.csv", "7", false), None);
        assert_eq!(found.note("passwords.csv", "8", false), None);
    }
}
