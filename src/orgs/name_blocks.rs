//! Which stretches of the name order may hold a search's text, so that a search walking the
//! list in name order passes over only those. The organizations not being deleted are cut, in
//! name order, into blocks of `BLOCK_ROWS`; each block keeps a bit for every two- and
//! three-character piece of its names (hashed into `BITS` bits). A text can only lie in a
//! block that has the bits of all its pieces (a bit can be set by another piece: a block may be
//! walked for nothing, never skipped wrongly). At a million organizations of `seed-demo`, a
//! block of 1,000 names has about 2,500 pieces; "dental" had 80 candidate blocks for 78 that
//! hold it, and "northwind" none of the 500 before its first.
//!
//! The blocks are built from the names in a background task (`build`, started by the web layer
//! when `claim_build` says so, on a connection of its own: a million names in 0.7 s on SQLite,
//! 1.6 s on PostgreSQL), labelled with the version of migrations 000310 and 000320, which moves
//! with every change to an alive organization's name, and used only while that is the newest
//! version the process has seen (`MarksCache::newest`); until a build after a change ends,
//! searches walk as they did without them.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use diesel::prelude::*;
use diesel::sql_types::Bool;

use crate::db::schema::{organization_marks_version as version, organizations};
use crate::db::{DbConn, literal_limit, prepared};

/// Organizations of one block.
const BLOCK_ROWS: usize = 1_000;

/// Bits of a block's pieces: 4 KiB a block, 4 MiB at a million organizations; with 2,500
/// pieces a bit is wrongly set for about one piece in thirteen.
const BITS: usize = 32_768;
const WORDS: usize = BITS / 64;

/// Names read by one statement of a build.
const READ_ROWS: i64 = 10_000;

/// A name's key in the list's name order: its search text and id.
pub type Key = (String, i64);

/// A stretch of the name order: from `from` (included; the start when `None`) up to `to`
/// (excluded; the end when `None`).
#[derive(Debug, Clone, PartialEq)]
pub struct Stretch {
    pub from: Option<Key>,
    pub to: Option<Key>,
}

/// The blocks of one version of the names.
#[derive(Debug)]
pub struct Blocks {
    version: i64,
    /// The key of each block's first name, ascending.
    firsts: Vec<Key>,
    /// `WORDS` words of bits for each block, in the same order.
    bits: Vec<u64>,
}

impl Blocks {
    /// The stretches that may hold `needle` (lower-cased, as stored), ascending, adjacent
    /// candidate blocks joined; `None` for a text shorter than two characters, which any block
    /// may hold.
    pub fn stretches(&self, needle: &str) -> Option<Vec<Stretch>> {
        let wanted: Vec<usize> = if needle.chars().count() >= 3 {
            pieces(needle, 3).map(bit).collect()
        } else {
            pieces(needle, 2).map(bit).collect()
        };
        if wanted.is_empty() {
            return None;
        }
        let mut out: Vec<Stretch> = Vec::new();
        let mut open: Option<usize> = None;
        for block in 0..self.firsts.len() {
            let words = &self.bits[block * WORDS..(block + 1) * WORDS];
            let holds = wanted.iter().all(|&b| words[b / 64] & (1 << (b % 64)) != 0);
            match (holds, open) {
                (true, None) => open = Some(block),
                (false, Some(first)) => {
                    out.push(self.stretch(first, block));
                    open = None;
                }
                _ => {}
            }
        }
        if let Some(first) = open {
            out.push(self.stretch(first, self.firsts.len()));
        }
        Some(out)
    }

    /// Blocks `first..end` as a stretch: the first one open at the start of the order, the last
    /// one at its end (names added since the build lie in a block too).
    fn stretch(&self, first: usize, end: usize) -> Stretch {
        Stretch {
            from: (first > 0).then(|| self.firsts[first].clone()),
            to: self.firsts.get(end).cloned(),
        }
    }
}

/// The pieces of `n` characters of `text`.
fn pieces(text: &str, n: usize) -> impl Iterator<Item = &str> {
    let bounds: Vec<usize> = text
        .char_indices()
        .map(|(i, _)| i)
        .chain(std::iter::once(text.len()))
        .collect();
    (0..bounds.len().saturating_sub(n)).map(move |i| &text[bounds[i]..bounds[i + n]])
}

/// A piece's bit: FNV-1a of its bytes, whose top bits are taken after a Fibonacci mix (its low
/// bits alone, for pieces of two or three letters, told few of them apart).
fn bit(piece: &str) -> usize {
    let hash = piece.bytes().fold(0xcbf2_9ce4_8422_2325_u64, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3)
    });
    let mixed = hash.wrapping_mul(0x9e37_79b9_7f4a_7c15) >> (64 - BITS.trailing_zeros());
    usize::try_from(mixed).unwrap_or(0)
}

/// Sets the bits of a name's pieces in a block's words.
fn mark(words: &mut [u64], name: &str) {
    for piece in pieces(name, 2).chain(pieces(name, 3)) {
        let b = bit(piece);
        words[b / 64] |= 1 << (b % 64);
    }
}

/// A build waits this many times the last one's length after it ended: under writes that keep the
/// blocks stale (each rename, each new organization), builds take at most a tenth of a core (at a
/// million on PostgreSQL, 1.6 s of building, then 16 s of searches walking without blocks).
const PAUSE_FACTOR: u32 = 10;

/// Whether a build may start at `now`, after the last one (when it ended, how long it took).
fn rested(last: Option<(Instant, Duration)>, now: Instant) -> bool {
    last.is_none_or(|(ended, took)| now.saturating_duration_since(ended) >= took * PAUSE_FACTOR)
}

/// The blocks kept by a process (`ListCaches`), whether a build is under way, and the last one.
#[derive(Debug, Default)]
pub struct NameBlocks {
    kept: Mutex<Option<Arc<Blocks>>>,
    building: AtomicBool,
    last_build: Mutex<Option<(Instant, Duration)>>,
}

impl NameBlocks {
    /// The blocks, when they were built at `newest` (the newest version the process has seen).
    pub fn current(&self, newest: i64) -> Option<Arc<Blocks>> {
        let kept = self.kept.lock().unwrap_or_else(PoisonError::into_inner);
        kept.as_ref()
            .filter(|b| b.version == newest && newest > 0)
            .cloned()
    }

    /// Whether a build should start now: the blocks are not of `newest`, none is under way, and
    /// the last one ended long enough ago (`PAUSE_FACTOR`). The caller that gets `true` builds
    /// (`build`) and then calls `release`, whatever happened (`web::state` drops a guard).
    pub fn claim_build(&self, newest: i64) -> bool {
        let last = *self
            .last_build
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        self.current(newest).is_none()
            && rested(last, Instant::now())
            && !self.building.swap(true, Ordering::AcqRel)
    }

    /// Ends a claim (`claim_build`).
    pub fn release(&self) {
        self.building.store(false, Ordering::Release);
    }

    /// Builds the blocks of the names as they are now and keeps them, labelled with the version
    /// read first (so they are at least as new as their label), unless newer ones are kept.
    pub fn build(&self, conn: &mut DbConn) -> QueryResult<()> {
        let started = Instant::now();
        let built = read_blocks(conn);
        let took = started.elapsed();
        *self
            .last_build
            .lock()
            .unwrap_or_else(PoisonError::into_inner) = Some((Instant::now(), took));
        let blocks = built?;
        tracing::debug!(
            blocks = blocks.firsts.len(),
            version = blocks.version,
            micros = took.as_micros(),
            "name blocks built"
        );
        let mut kept = self.kept.lock().unwrap_or_else(PoisonError::into_inner);
        if kept.as_ref().is_none_or(|k| k.version <= blocks.version) {
            *kept = Some(blocks);
        }
        Ok(())
    }
}

/// Every alive name in name order, `READ_ROWS` at a time, cut into blocks.
fn read_blocks(conn: &mut DbConn) -> QueryResult<Arc<Blocks>> {
    let label: i64 = crate::native!(conn, |c| version::table.select(version::version).first(c))?;
    let mut firsts: Vec<Key> = Vec::new();
    let mut bits: Vec<u64> = Vec::new();
    let mut in_block = BLOCK_ROWS;
    let mut after: Option<Key> = None;
    loop {
        let mut q = organizations::table
            .into_boxed()
            .filter(organizations::deleted_at.is_null());
        if let Some((text, id)) = after.take() {
            q = q.filter(
                prepared::<Bool>("(organizations.search_text, organizations.id) > (")
                    .text(text)
                    .sql(", ")
                    .big_int(id)
                    .sql(")"),
            );
        }
        let rows: Vec<Key> = literal_limit(
            q.select((organizations::search_text, organizations::id))
                .order_by((organizations::search_text.asc(), organizations::id.asc())),
            READ_ROWS,
        )
        .load(conn)?;
        let done = i64::try_from(rows.len()).unwrap_or(0) < READ_ROWS;
        for (text, id) in rows {
            if in_block == BLOCK_ROWS {
                firsts.push((text.clone(), id));
                bits.resize(bits.len() + WORDS, 0);
                in_block = 0;
            }
            let start = bits.len() - WORDS;
            mark(&mut bits[start..], &text);
            in_block += 1;
            after = Some((text, id));
        }
        if done {
            break;
        }
    }
    Ok(Arc::new(Blocks {
        version: label,
        firsts,
        bits,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn blocks_of(names: &[&str], per_block: usize) -> Blocks {
        let mut firsts = Vec::new();
        let mut bits = Vec::new();
        for (i, name) in names.iter().enumerate() {
            if i % per_block == 0 {
                firsts.push(((*name).to_owned(), i64::try_from(i).unwrap()));
                bits.resize(bits.len() + WORDS, 0);
            }
            let start = bits.len() - WORDS;
            mark(&mut bits[start..], name);
        }
        Blocks {
            version: 1,
            firsts,
            bits,
        }
    }

    fn key(name: &str, id: i64) -> Option<Key> {
        Some((name.to_owned(), id))
    }

    #[test]
    fn only_blocks_holding_every_piece_are_walked() {
        let names = [
            "acme",
            "alpha",
            "beacon",
            "bravo",
            "dental one",
            "dental two",
            "echo",
            "fox",
        ];
        let blocks = blocks_of(&names, 2);
        assert_eq!(
            blocks.stretches("dental"),
            Some(vec![Stretch {
                from: key("dental one", 4),
                to: key("echo", 6),
            }])
        );
        // The first block is open at the start, the last at the end.
        assert_eq!(
            blocks.stretches("acm"),
            Some(vec![Stretch {
                from: None,
                to: key("beacon", 2),
            }])
        );
        assert_eq!(
            blocks.stretches("fo"),
            Some(vec![Stretch {
                from: key("echo", 6),
                to: None,
            }])
        );
        assert_eq!(blocks.stretches("zzz"), Some(vec![]));
        assert_eq!(
            blocks.stretches("z"),
            None,
            "one character: any block may hold it"
        );
    }

    #[test]
    fn adjacent_candidate_blocks_are_one_stretch() {
        let names = ["qq one", "qq two", "rest", "qq three"];
        let blocks = blocks_of(&names, 1);
        assert_eq!(
            blocks.stretches("qq"),
            Some(vec![
                Stretch {
                    from: None,
                    to: key("rest", 2),
                },
                Stretch {
                    from: key("qq three", 3),
                    to: None,
                },
            ])
        );
    }

    /// Every piece of two lower-case letters or digits has a bit of its own but for a few.
    #[test]
    fn pieces_spread_over_the_bits() {
        let alphabet: Vec<char> = ('a'..='z').chain('0'..='9').chain([' ']).collect();
        let mut seen = std::collections::HashSet::new();
        for a in &alphabet {
            for b in &alphabet {
                seen.insert(bit(&format!("{a}{b}")));
            }
        }
        let pairs = alphabet.len() * alphabet.len();
        assert!(
            seen.len() * 100 >= pairs * 97,
            "{} bits for {pairs} pairs",
            seen.len()
        );
    }

    #[test]
    fn a_build_waits_ten_times_the_last_ones_length() {
        let now = Instant::now();
        let ms = Duration::from_millis;
        assert!(rested(None, now));
        let ended = now.checked_sub(ms(600)).unwrap();
        assert!(rested(Some((ended, ms(50))), now));
        assert!(!rested(Some((ended, ms(70))), now));
        // A clock that went back does not make it wait for ever.
        assert!(rested(Some((now + ms(10), Duration::ZERO)), now));
    }

    #[test]
    fn pieces_are_characters_not_bytes() {
        assert_eq!(pieces("köln", 3).collect::<Vec<_>>(), ["köl", "öln"]);
        assert_eq!(pieces("ab", 3).count(), 0);
        assert_eq!(pieces("ab", 2).collect::<Vec<_>>(), ["ab"]);
    }
}
