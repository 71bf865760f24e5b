//! How text is compared: lower case with the accents of Latin letters taken off ("Müller" and
//! "muller" match), the same on the index's side and the query's, in Rust so both backends agree.
//! Phones are also compared by their digits, MAC addresses by their hex digits.

/// `c` lower-cased and without its accent (several letters for a ligature; none for a combining mark).
fn fold_char(c: char, out: &mut String) {
    for lower in c.to_lowercase() {
        let plain = match lower {
            'à' | 'á' | 'â' | 'ã' | 'ä' | 'å' | 'ā' | 'ă' | 'ą' => "a",
            'æ' => "ae",
            'ç' | 'ć' | 'ĉ' | 'ċ' | 'č' => "c",
            'ď' | 'đ' | 'ð' => "d",
            'è' | 'é' | 'ê' | 'ë' | 'ē' | 'ĕ' | 'ė' | 'ę' | 'ě' => "e",
            'ĝ' | 'ğ' | 'ġ' | 'ģ' => "g",
            'ĥ' | 'ħ' => "h",
            'ì' | 'í' | 'î' | 'ï' | 'ĩ' | 'ī' | 'ĭ' | 'į' | 'ı' => "i",
            'ĵ' => "j",
            'ķ' => "k",
            'ĺ' | 'ļ' | 'ľ' | 'ŀ' | 'ł' => "l",
            'ñ' | 'ń' | 'ņ' | 'ň' => "n",
            'ò' | 'ó' | 'ô' | 'õ' | 'ö' | 'ø' | 'ō' | 'ŏ' | 'ő' => "o",
            'œ' => "oe",
            'ŕ' | 'ŗ' | 'ř' => "r",
            'ś' | 'ŝ' | 'ş' | 'š' | 'ș' => "s",
            'ß' => "ss",
            'ţ' | 'ť' | 'ŧ' | 'ț' => "t",
            'þ' => "th",
            'ù' | 'ú' | 'û' | 'ü' | 'ũ' | 'ū' | 'ŭ' | 'ů' | 'ű' | 'ų' => "u",
            'ŵ' => "w",
            'ý' | 'ÿ' | 'ŷ' => "y",
            'ź' | 'ż' | 'ž' => "z",
            '\u{0300}'..='\u{036f}' => "",
            other => {
                out.push(other);
                continue;
            }
        };
        out.push_str(plain);
    }
}

/// `text` folded: lower case, no accents, runs of white space made one space, trimmed.
pub fn fold(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for word in text.split_whitespace() {
        if !out.is_empty() {
            out.push(' ');
        }
        for c in word.chars() {
            fold_char(c, &mut out);
        }
    }
    out
}

/// The digits of a phone number written with any separators ("+1 (555) 010-2030" ->
/// "15550102030"), when it looks like one: at least six digits, nothing but digits and separators.
pub fn phone_digits(text: &str) -> Option<String> {
    let digits: String = text.chars().filter(char::is_ascii_digit).collect();
    let only_phone_chars = text
        .chars()
        .all(|c| c.is_ascii_digit() || " +-()./".contains(c));
    (only_phone_chars && digits.len() >= 6).then_some(digits)
}

/// A MAC address (or its first three pairs or more) with any separators, as lower-case hex digits
/// ("AA-BB-CC-DD-EE-FF" -> "aabbccddeeff"). Digits-only groups need colons ("10.0.4.12" is an IP).
pub fn mac_digits(text: &str) -> Option<String> {
    let groups: Vec<&str> = text.split([':', '-', '.']).collect();
    let hex: String = groups.concat().to_ascii_lowercase();
    let well_formed = !hex.is_empty()
        && hex.len() <= 12
        && groups
            .iter()
            .all(|g| !g.is_empty() && g.len() % 2 == 0 && g.chars().all(|c| c.is_ascii_hexdigit()));
    let any_letter = hex.chars().any(|c| c.is_ascii_alphabetic());
    let separated = groups.len() >= 3 && (any_letter || text.contains(':'));
    let bare = groups.len() == 1 && hex.len() == 12 && any_letter;
    (well_formed && (separated || bare)).then_some(hex)
}

/// Where `needle` (already folded) occurs in `text` as written, by byte range of `text`; with
/// `digits_only` the comparison reads only the digits of `text` (a phone typed otherwise).
pub fn find(text: &str, needle: &str, digits_only: bool) -> Option<(usize, usize)> {
    if needle.is_empty() {
        return None;
    }
    let mut projected = String::with_capacity(text.len());
    // For each byte of `projected`: the byte range of the character of `text` it came from.
    let mut origin: Vec<(usize, usize)> = Vec::with_capacity(text.len());
    let mut last_space = true;
    for (at, c) in text.char_indices() {
        let before = projected.len();
        if digits_only {
            if c.is_ascii_digit() {
                projected.push(c);
            }
        } else if c.is_whitespace() {
            if !last_space {
                projected.push(' ');
            }
        } else {
            fold_char(c, &mut projected);
        }
        last_space = c.is_whitespace();
        origin.extend(std::iter::repeat_n(
            (at, at + c.len_utf8()),
            projected.len() - before,
        ));
    }
    let start = projected.find(needle)?;
    let end = start + needle.len() - 1;
    Some((origin.get(start)?.0, origin.get(end)?.1))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folding_takes_case_and_accents_off() {
        assert_eq!(
            fold("  Ärztehaus  MÜLLER\tØstby "),
            "arztehaus muller ostby"
        );
        assert_eq!(fold("Straße"), "strasse");
    }

    #[test]
    fn phones_and_macs_by_their_digits() {
        assert_eq!(
            phone_digits("+1 (555) 010-2030").as_deref(),
            Some("15550102030")
        );
        assert_eq!(phone_digits("555.010.2030").as_deref(), Some("5550102030"));
        assert_eq!(phone_digits("FW-01"), None);
        assert_eq!(
            mac_digits("AA-BB-CC-DD-EE-0F").as_deref(),
            Some("aabbccddee0f")
        );
        assert_eq!(
            mac_digits("aabb.ccdd.ee0f").as_deref(),
            Some("aabbccddee0f")
        );
        assert_eq!(mac_digits("10.0.4.12"), None);
    }

    #[test]
    fn found_by_the_range_written() {
        let text = "Dr. Jürgen Müller";
        let (a, b) = find(text, "muller", false).unwrap();
        assert_eq!(&text[a..b], "Müller");
        let phone = "+1 (555) 010-2030";
        let (a, b) = find(phone, "5550102030", true).unwrap();
        assert_eq!(&phone[a..b], "555) 010-2030");
    }
}
