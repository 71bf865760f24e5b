//! The part of a hit that matched, cut out of the text as written so that a template can escape
//! each piece and put `<mark>` around the middle one; long text is shortened around the match.

use super::fold::find;
use super::query::Query;

/// Characters kept on each side of a match in a long text.
const CONTEXT: usize = 60;

/// `before`, `hit` (marked) and `after`: text as written, to be escaped by the template.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct Marked {
    pub before: String,
    pub hit: String,
    pub after: String,
}

impl Marked {
    pub fn plain(text: &str) -> Marked {
        Marked {
            before: shorten_end(text),
            ..Marked::default()
        }
    }
}

fn shorten_start(text: &str) -> String {
    let n = text.chars().count();
    if n <= CONTEXT {
        return text.to_owned();
    }
    let kept: String = text.chars().skip(n - CONTEXT).collect();
    format!("…{kept}")
}

fn shorten_end(text: &str) -> String {
    if text.chars().count() <= CONTEXT * 2 {
        return text.to_owned();
    }
    let kept: String = text.chars().take(CONTEXT * 2).collect();
    format!("{kept}…")
}

/// `text` with the first match of the query marked, or `None` when it does not match.
pub fn mark(text: &str, query: &Query) -> Option<Marked> {
    let range = query.needles.iter().find_map(|needle| {
        let digits = needle.chars().all(|c| c.is_ascii_digit());
        find(text, needle, false).or_else(|| digits.then(|| find(text, needle, true)).flatten())
    })?;
    let (start, end) = range;
    let after = &text[end..];
    let after = if after.chars().count() > CONTEXT {
        format!("{}…", after.chars().take(CONTEXT).collect::<String>())
    } else {
        after.to_owned()
    };
    Some(Marked {
        before: shorten_start(&text[..start]),
        hit: text[start..end].to_owned(),
        after,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn marks_the_text_as_written() {
        let q = Query::parse("muller").unwrap();
        let m = mark("Dr. <b>Müller</b>", &q).unwrap();
        assert_eq!(
            (m.before.as_str(), m.hit.as_str(), m.after.as_str()),
            ("Dr. <b>", "Müller", "</b>")
        );
        let q = Query::parse("555-010-2030").unwrap();
        assert_eq!(mark("+1 (555) 010 2030", &q).unwrap().hit, "555) 010 2030");
        assert!(mark("nothing", &q).is_none());
    }
}
