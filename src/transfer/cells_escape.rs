//! Formula injection in CSV cells (OWASP's rule): a cell that a spreadsheet would run (starting
//! with `=`, `+`, `-`, `@`, a tab or a carriage return) is exported with a leading `'`, and the
//! importer takes exactly that `'` off again, so that a round trip gives the cell back unchanged.

use std::borrow::Cow;

/// The first characters a spreadsheet reads as the start of a formula.
const TRIGGERS: [char; 6] = ['=', '+', '-', '@', '\t', '\r'];

/// Whether `unescape` would take a `'` off `cell`: a `'` before a trigger or before another `'`
/// (so that a cell that really starts with `'=` survives the round trip too).
fn escaped(cell: &str) -> bool {
    let mut chars = cell.chars();
    chars.next() == Some('\'')
        && chars
            .next()
            .is_some_and(|c| c == '\'' || TRIGGERS.contains(&c))
}

/// The cell as it is written to a CSV file.
pub fn escape(cell: &str) -> Cow<'_, str> {
    let runs = cell.chars().next().is_some_and(|c| TRIGGERS.contains(&c));
    if runs || escaped(cell) {
        Cow::Owned(format!("'{cell}"))
    } else {
        Cow::Borrowed(cell)
    }
}

/// The cell as it was before `escape`.
pub fn unescape(cell: String) -> String {
    if escaped(&cell) {
        cell[1..].to_owned()
    } else {
        cell
    }
}

#[cfg(test)]
mod tests {
    use super::{escape, unescape};

    #[test]
    fn formulas_are_quoted() {
        assert_eq!(escape("=cmd|' /C calc'!A0"), "'=cmd|' /C calc'!A0");
        for cell in ["+1 555", "-5", "@SUM(A1)", "\tx", "\rx"] {
            assert_eq!(escape(cell), format!("'{cell}"));
        }
        for cell in ["plain", "", "a=b", "'quoted", "1-2"] {
            assert_eq!(escape(cell), cell);
        }
    }

    #[test]
    fn round_trip_is_lossless() {
        for cell in [
            "=cmd|' /C calc'!A0",
            "'=already quoted",
            "''=twice",
            "''",
            "'",
            "'plain",
            "-",
            "Zoë ☃ \"quotes\"\nnewline",
            "",
        ] {
            assert_eq!(unescape(escape(cell).into_owned()), cell, "{cell:?}");
        }
    }

    #[test]
    fn only_the_export_quote_is_taken_off() {
        assert_eq!(unescape("'=1+1".to_owned()), "=1+1");
        assert_eq!(unescape("'plain".to_owned()), "'plain");
        assert_eq!(unescape("=raw".to_owned()), "=raw");
    }
}
