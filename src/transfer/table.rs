//! One CSV file of an export, read row by row with its columns found by header name (never by
//! position). UTF-8 with or without a BOM, CRLF and quoted newlines are plain CSV; a cell that is
//! not UTF-8 is read as Windows-1252 (older exports). A ragged row, a quote left open or a cell
//! past `MAX_CELL` is a failure with its file and line, never a crash or an unbounded buffer.

use std::cell::Cell;
use std::collections::HashMap;
use std::io::{self, Read};
use std::rc::Rc;

use csv::{ByteRecord, ErrorKind, ReaderBuilder};

/// The largest cell accepted (a document body fits; a runaway quote does not).
pub const MAX_CELL: usize = 5 << 20;
/// The largest row: past this the file stops being read, so memory stays bounded.
const MAX_ROW: u64 = 2 * MAX_CELL as u64 + (1 << 20);

/// A row or a file that cannot be imported, and why, in words for the report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    pub file: String,
    pub line: u64,
    pub reason: String,
}

impl std::fmt::Display for Failure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}, line {}: {}", self.file, self.line, self.reason)
    }
}

/// A row's cells by column name.
#[derive(Debug, Clone)]
pub struct Row {
    pub line: u64,
    columns: Rc<HashMap<String, usize>>,
    cells: Vec<String>,
}

impl Row {
    /// The cell of `column`, trimmed; empty when the file has no such column.
    pub fn get(&self, column: &str) -> &str {
        self.columns
            .get(column)
            .and_then(|&i| self.cells.get(i))
            .map_or("", |s| s.trim())
    }

    /// The cells of the columns not in `known`, by name (kept for the report or as extra fields).
    pub fn others(&self, known: &[&str]) -> Vec<(String, String)> {
        let mut out: Vec<(String, String)> = self
            .columns
            .iter()
            .filter(|(name, _)| !known.contains(&name.as_str()))
            .map(|(name, &i)| (name.clone(), self.cells.get(i).cloned().unwrap_or_default()))
            .collect();
        out.sort();
        out
    }
}

/// Counts what the CSV reader has pulled, so a row that never ends is stopped, and the quotes,
/// so a quote left open at the end is found.
struct Watch {
    read: Cell<u64>,
    row_start: Cell<u64>,
    quotes: Cell<u64>,
}

struct Watched<R> {
    inner: R,
    watch: Rc<Watch>,
}

impl<R: Read> Read for Watched<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        let w = &self.watch;
        w.read.set(w.read.get() + n as u64);
        let quotes = buf[..n].iter().filter(|&&b| b == b'"').count();
        w.quotes.set(w.quotes.get() + quotes as u64);
        if w.read.get().saturating_sub(w.row_start.get()) > MAX_ROW {
            return Err(io::Error::other(TOO_BIG));
        }
        Ok(n)
    }
}

const TOO_BIG: &str = "a cell is larger than 5 MB (the largest accepted); the rest of the file \
                       was not read";

/// A CSV file being read.
pub struct Table<'a> {
    pub file: String,
    reader: csv::Reader<Watched<Box<dyn Read + 'a>>>,
    watch: Rc<Watch>,
    columns: Rc<HashMap<String, usize>>,
    /// The header's names as written, each once.
    header: Vec<String>,
    ahead: Option<Result<Row, Failure>>,
    stopped: bool,
    /// Some cell was not UTF-8 and was read as Windows-1252.
    pub windows_1252: bool,
}

impl<'a> Table<'a> {
    /// Reads the header of `file`; every column of `required` must be there.
    pub fn open(
        file: &str,
        input: Box<dyn Read + 'a>,
        required: &[&str],
    ) -> Result<Table<'a>, Failure> {
        let watch = Rc::new(Watch {
            read: Cell::new(0),
            row_start: Cell::new(0),
            quotes: Cell::new(0),
        });
        // Lines end at `\n` (a `\r` before it is dropped from the last cell): with CRLF as one
        // terminator the reader counts a row's line before its `\n`, one line short.
        let mut reader = ReaderBuilder::new()
            .flexible(false)
            .terminator(csv::Terminator::Any(b'\n'))
            .from_reader(Watched {
                inner: input,
                watch: watch.clone(),
            });
        let fail = |line: u64, reason: String| Failure {
            file: file.to_owned(),
            line,
            reason,
        };
        let header = reader
            .byte_headers()
            .map_err(|e| fail(1, format!("the header cannot be read ({})", plain(&e))))?
            .clone();
        let mut windows_1252 = false;
        let mut columns = HashMap::new();
        let mut written = Vec::new();
        for (i, raw) in header.iter().enumerate() {
            let name = decode(raw, &mut windows_1252);
            let name = name.trim_start_matches('\u{feff}').trim();
            if let std::collections::hash_map::Entry::Vacant(e) = columns.entry(name.to_lowercase())
            {
                e.insert(i);
                written.push(name.to_owned());
            }
        }
        let missing: Vec<&str> = required
            .iter()
            .copied()
            .filter(|c| !columns.contains_key(*c))
            .collect();
        if !missing.is_empty() {
            return Err(fail(
                1,
                format!("the header lacks the column(s) {}", missing.join(", ")),
            ));
        }
        watch.row_start.set(reader.position().byte());
        let mut table = Table {
            file: file.to_owned(),
            reader,
            watch,
            columns: Rc::new(columns),
            header: written,
            ahead: None,
            stopped: false,
            windows_1252,
        };
        table.ahead = table.read_one();
        Ok(table)
    }

    /// The header's column names as written (a flexible asset type's labels keep their
    /// capitals), in their order; a repeated name once. Rows are read by the lower-case name.
    pub fn columns(&self) -> &[String] {
        &self.header
    }

    pub fn has_column(&self, name: &str) -> bool {
        self.columns.contains_key(name)
    }

    /// The next row, or why it cannot be read. A quote still open at the end of the file fails
    /// the row where it was opened (everything after it was swallowed into one cell).
    pub fn next_row(&mut self) -> Option<Result<Row, Failure>> {
        let current = self.ahead.take()?;
        self.ahead = self.read_one();
        if self.ahead.is_none() && !self.stopped && self.watch.quotes.get() % 2 == 1 {
            let line = match &current {
                Ok(row) => row.line,
                Err(f) => f.line,
            };
            return Some(Err(self.failure(
                line,
                "a quoted cell opened on this line is never closed (an unterminated quote); \
                 the rest of the file was read into it"
                    .to_owned(),
            )));
        }
        Some(current)
    }

    fn failure(&self, line: u64, reason: String) -> Failure {
        Failure {
            file: self.file.clone(),
            line,
            reason,
        }
    }

    fn read_one(&mut self) -> Option<Result<Row, Failure>> {
        if self.stopped {
            return None;
        }
        let mut record = ByteRecord::new();
        let outcome = self.reader.read_byte_record(&mut record);
        self.watch.row_start.set(self.reader.position().byte());
        match outcome {
            Ok(false) => None,
            Ok(true) => {
                let line = record.position().map_or(0, csv::Position::line);
                Some(self.row(line, &record))
            }
            Err(e) => {
                let line = e
                    .position()
                    .map_or_else(|| self.reader.position().line(), csv::Position::line);
                if !matches!(e.kind(), ErrorKind::UnequalLengths { .. }) {
                    self.stopped = true;
                }
                Some(Err(self.failure(line, plain(&e))))
            }
        }
    }

    fn row(&mut self, line: u64, record: &ByteRecord) -> Result<Row, Failure> {
        if record.iter().any(|cell| cell.len() > MAX_CELL) {
            return Err(self.failure(
                line,
                "a cell is larger than 5 MB (the largest accepted)".to_owned(),
            ));
        }
        let mut windows_1252 = self.windows_1252;
        let cells = record
            .iter()
            .map(|c| super::cells_escape::unescape(decode(c, &mut windows_1252)))
            .collect();
        self.windows_1252 = windows_1252;
        Ok(Row {
            line,
            columns: self.columns.clone(),
            cells,
        })
    }
}

/// UTF-8 when it is, else Windows-1252 (which decodes any byte).
fn decode(bytes: &[u8], windows_1252: &mut bool) -> String {
    match std::str::from_utf8(bytes) {
        Ok(text) => text.to_owned(),
        Err(_) => {
            *windows_1252 = true;
            encoding_rs::WINDOWS_1252
                .decode_without_bom_handling(bytes)
                .0
                .into_owned()
        }
    }
}

/// The CSV reader's error in words a person can act on.
fn plain(e: &csv::Error) -> String {
    match e.kind() {
        ErrorKind::UnequalLengths {
            expected_len, len, ..
        } => format!("the row has {len} cells where the header has {expected_len} (a ragged row)"),
        ErrorKind::Io(io) if io.to_string() == TOO_BIG => TOO_BIG.to_owned(),
        ErrorKind::Io(io) => format!("the file cannot be read further ({io})"),
        other => format!("the file is not valid CSV ({other:?})"),
    }
}

#[cfg(test)]
#[path = "table_tests.rs"]
mod tests;
