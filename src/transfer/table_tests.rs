use super::*;

fn table(bytes: &'static [u8], required: &[&str]) -> Result<Table<'static>, Failure> {
    Table::open("test.csv", Box::new(bytes), required)
}

fn rows(bytes: &'static [u8]) -> Vec<Result<Vec<String>, String>> {
    let mut t = table(bytes, &[]).unwrap();
    let mut out = Vec::new();
    while let Some(row) = t.next_row() {
        out.push(
            row.map(|r| {
                vec![
                    r.line.to_string(),
                    r.get("id").to_owned(),
                    r.get("name").to_owned(),
                ]
            })
            .map_err(|f| f.to_string()),
        );
    }
    out
}

#[test]
fn columns_are_found_by_name_with_a_bom_and_crlf() {
    let got = rows(b"\xEF\xBB\xBFName,ID\r\n\"Acme, Inc.\",7\r\n\"two\r\nlines\",8\r\n");
    assert_eq!(
        got,
        vec![
            Ok(vec!["2".into(), "7".into(), "Acme, Inc.".into()]),
            Ok(vec!["3".into(), "8".into(), "two\r\nlines".into()]),
        ]
    );
}

#[test]
fn windows_1252_cells_are_decoded() {
    let mut t = table(b"id,name\n1,Caf\xE9 M\xFCller \x80\n", &[]).unwrap();
    let row = t.next_row().unwrap().unwrap();
    assert_eq!(row.get("name"), "Café Müller €");
    assert!(t.windows_1252);
}

#[test]
fn a_missing_column_fails_the_file() {
    let err = table(b"id,title\n1,A\n", &["id", "name"]).err().unwrap();
    assert_eq!(
        err.to_string(),
        "test.csv, line 1: the header lacks the column(s) name"
    );
}

#[test]
fn a_ragged_row_fails_alone() {
    let got = rows(b"id,name\n1,A\n2,B,extra\n3,C\n");
    assert_eq!(got.len(), 3);
    assert!(
        got[1]
            .as_ref()
            .unwrap_err()
            .contains("line 3: the row has 3 cells where the header has 2"),
        "{got:?}"
    );
    assert!(got[2].is_ok());
}

#[test]
fn an_unterminated_quote_fails_with_its_line() {
    let got = rows(b"id,name\n1,A\n2,\"B\n3,C\n4,D\n");
    let last = got.last().unwrap().as_ref().unwrap_err();
    assert!(
        last.contains("line 3: a quoted cell opened on this line is never closed"),
        "{got:?}"
    );
    assert!(got[0].is_ok());
}

#[test]
fn a_huge_cell_is_refused_and_memory_stays_bounded() {
    let mut text = b"id,name\n1,A\n2,".to_vec();
    text.extend(std::iter::repeat_n(b'x', 6 << 20));
    text.extend(b"\n3,C\n");
    let leaked: &'static [u8] = Box::leak(text.into_boxed_slice());
    let got = rows(leaked);
    assert!(got[0].is_ok());
    assert!(
        got[1]
            .as_ref()
            .unwrap_err()
            .contains("line 3: a cell is larger than 5 MB"),
        "{got:?}"
    );

    let mut endless = b"id,name\n1,\"".to_vec();
    endless.extend(std::iter::repeat_n(b'x', 40 << 20));
    let leaked: &'static [u8] = Box::leak(endless.into_boxed_slice());
    let got = rows(leaked);
    assert_eq!(got.len(), 1);
    assert!(
        got[0].as_ref().unwrap_err().contains("larger than 5 MB"),
        "{got:?}"
    );
}

#[test]
fn the_header_keeps_its_spelling_and_rows_are_read_by_lower_case() {
    let mut t = table(
        b"\xEF\xBB\xBFid, Issuer CA ,ID,expires_on\n1,DigiCert,2,2027-01-31\n",
        &[],
    )
    .unwrap();
    assert_eq!(t.columns(), ["id", "Issuer CA", "expires_on"]);
    let row = t.next_row().unwrap().unwrap();
    assert_eq!(row.get("issuer ca"), "DigiCert");
    assert_eq!(row.get("id"), "1");
}
