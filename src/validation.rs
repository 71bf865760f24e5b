//! Messages about form fields, gathered while a form is parsed into a typed value, so that the
//! form can come back with each message beside its field.

use std::collections::BTreeMap;

#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct FieldErrors(BTreeMap<String, String>);

impl FieldErrors {
    pub fn add(&mut self, field: &str, message: impl Into<String>) {
        self.0
            .entry(field.to_owned())
            .or_insert_with(|| message.into());
    }

    pub fn get(&self, field: &str) -> Option<&str> {
        self.0.get(field).map(String::as_str)
    }

    /// (field, message) pairs, by field name.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        self.0.iter().map(|(k, v)| (k.as_str(), v.as_str()))
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// `Ok(value)` when nothing was reported, else the messages.
    pub fn into_result<T>(self, value: impl FnOnce() -> T) -> Result<T, FieldErrors> {
        if self.is_empty() {
            Ok(value())
        } else {
            Err(self)
        }
    }

    pub fn single(field: &'static str, message: impl Into<String>) -> Self {
        let mut errors = Self::default();
        errors.add(field, message);
        errors
    }
}

/// A trimmed, lower-cased email address with one `@` and a dot in its domain.
pub fn email(errors: &mut FieldErrors, field: &'static str, raw: &str) -> String {
    let email = raw.trim().to_lowercase();
    let valid = email.len() <= 254
        && email.split_once('@').is_some_and(|(local, domain)| {
            !local.is_empty()
                && domain.contains('.')
                && !domain.starts_with('.')
                && !domain.ends_with('.')
                && !domain.contains('@')
                && !email.chars().any(char::is_whitespace)
        });
    if !valid {
        errors.add(field, "Enter an email address such as name@example.com.");
    }
    email
}

/// A trimmed text that must not be empty and must fit `max` characters.
pub fn required_text(
    errors: &mut FieldErrors,
    field: &'static str,
    raw: &str,
    max: usize,
) -> String {
    let text = raw.trim().to_owned();
    if text.is_empty() {
        errors.add(field, "This field is required.");
    } else if text.chars().count() > max {
        errors.add(field, format!("Use at most {max} characters."));
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emails() {
        let mut e = FieldErrors::default();
        assert_eq!(
            email(&mut e, "email", "  Ann@Example.COM "),
            "ann@example.com"
        );
        assert!(e.is_empty());
        for bad in [
            "",
            "ann",
            "ann@",
            "@x.io",
            "a b@x.io",
            "ann@localhost",
            "a@b@c.io",
        ] {
            let mut e = FieldErrors::default();
            email(&mut e, "email", bad);
            assert!(e.get("email").is_some(), "{bad}");
        }
    }
}
