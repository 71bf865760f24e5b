//! Checking a form's values against the fields of its kind: a map of clean values, or messages
//! beside the fields. Secrets are returned apart and never enter the map.

use std::collections::{BTreeMap, HashMap};
use std::net::IpAddr;

use super::fields::{Field, Input};
use crate::validation::FieldErrors;

pub const TEXT_MAX: usize = 500;
pub const LONG_MAX: usize = 100_000;

/// Clean values, and the secret when the form carried one.
#[derive(Debug, Default)]
pub struct Checked {
    pub values: BTreeMap<String, String>,
    pub secret: Option<String>,
}

fn too_long(text: &str, max: usize) -> Option<String> {
    let n = text.chars().count();
    (n > max).then(|| format!("Use at most {max} characters (this has {n})."))
}

fn check_one(field: &Field, raw: &str) -> Result<String, String> {
    let text = if matches!(
        field.input,
        Input::LongText | Input::Markdown | Input::Secret
    ) {
        raw.to_owned()
    } else {
        raw.trim().to_owned()
    };
    if let Some(message) = too_long(
        &text,
        if matches!(
            field.input,
            Input::LongText | Input::Markdown | Input::Emails
        ) {
            LONG_MAX
        } else {
            TEXT_MAX
        },
    ) {
        return Err(message);
    }
    if text.trim().is_empty() {
        return Ok(String::new());
    }
    match &field.input {
        Input::Text | Input::LongText | Input::Markdown | Input::Secret => Ok(text),
        Input::Emails => {
            let mut clean = Vec::new();
            for line in text.lines().map(str::trim).filter(|l| !l.is_empty()) {
                let mut errors = FieldErrors::default();
                let email = crate::validation::email(&mut errors, "email", line);
                if !errors.is_empty() {
                    return Err(format!("\u{201c}{line}\u{201d} is not an email address."));
                }
                clean.push(email);
            }
            Ok(clean.join("\n"))
        }
        Input::Url => {
            let lower = text.to_lowercase();
            if (lower.starts_with("https://") || lower.starts_with("http://"))
                && text.len() > 8
                && !text.chars().any(char::is_whitespace)
            {
                Ok(text)
            } else {
                Err("Enter an address that starts with https:// or http://.".into())
            }
        }
        Input::Ip => text
            .parse::<IpAddr>()
            .map(|ip| ip.to_string())
            .map_err(|_| "Enter an IPv4 address such as 192.0.2.10, or an IPv6 address.".into()),
        Input::Number => text
            .parse::<f64>()
            .ok()
            .filter(|n| n.is_finite())
            .map(|_| text.clone())
            .ok_or_else(|| "Enter a number, such as 12 or 3.5.".into()),
        Input::Date => chrono::NaiveDate::parse_from_str(&text, "%Y-%m-%d")
            .map(|d| d.format("%Y-%m-%d").to_string())
            .map_err(|_| "Enter a date as YYYY-MM-DD.".into()),
        Input::Checkbox => Ok("yes".into()),
        Input::Choice(options) => options
            .iter()
            .find(|o| **o == text)
            .cloned()
            .ok_or_else(|| format!("Choose one of: {}.", options.join(", "))),
    }
}

/// Checks `form` against `fields`. `keep_secret` (editing a password) lets an empty secret mean "unchanged".
pub fn check(
    fields: &[Field],
    form: &HashMap<String, String>,
    keep_secret: bool,
) -> Result<Checked, FieldErrors> {
    let mut errors = FieldErrors::default();
    let mut checked = Checked::default();
    for field in fields {
        let raw = form
            .get(&field.name)
            .map(String::as_str)
            .unwrap_or_default();
        match check_one(field, raw) {
            Err(message) => errors.add(&field.name, message),
            Ok(value) if value.is_empty() => {
                let secret_kept = field.input == Input::Secret && keep_secret;
                if field.required && !secret_kept {
                    errors.add(&field.name, "This field is required.");
                }
            }
            Ok(value) if field.input == Input::Secret => checked.secret = Some(value),
            Ok(value) => {
                checked.values.insert(field.name.clone(), value);
            }
        }
    }
    errors.into_result(|| checked)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::records::{Kind, fields};

    fn form(pairs: &[(&str, &str)]) -> HashMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    #[test]
    fn configurations_check_their_ip_and_choices() {
        let fields = fields::of(Kind::Configuration);
        let ok = check(
            &fields,
            &form(&[
                ("name", "srv1"),
                ("kind", "Server"),
                ("status", "Active"),
                ("ip_address", " 10.0.0.5 "),
            ]),
            false,
        )
        .unwrap();
        assert_eq!(ok.values["ip_address"], "10.0.0.5");
        let bad = check(
            &fields,
            &form(&[
                ("name", "srv1"),
                ("kind", "Toaster"),
                ("status", "Active"),
                ("ip_address", "10.0.0.500"),
            ]),
            false,
        )
        .unwrap_err();
        assert!(bad.get("ip_address").is_some() && bad.get("kind").is_some());
    }

    #[test]
    fn password_urls_are_http_only_and_secrets_stay_apart() {
        let fields = fields::of(Kind::Password);
        let bad = check(
            &fields,
            &form(&[
                ("name", "x"),
                ("secret", "s3cret"),
                ("url", "javascript:alert(1)"),
            ]),
            false,
        )
        .unwrap_err();
        assert!(bad.get("url").is_some());
        let ok = check(
            &fields,
            &form(&[
                ("name", "x"),
                ("secret", "s3cret"),
                ("url", "https://portal.example.com"),
            ]),
            false,
        )
        .unwrap();
        assert_eq!(ok.secret.as_deref(), Some("s3cret"));
        assert!(!ok.values.contains_key("secret"));
        assert!(
            check(&fields, &form(&[("name", "x")]), true).is_ok(),
            "editing keeps the secret"
        );
        assert!(
            check(&fields, &form(&[("name", "x")]), false).is_err(),
            "a new password needs one"
        );
    }
}
