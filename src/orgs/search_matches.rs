//! What recent searches found, kept by a process:
//! - the ordered matches (`search::ordered_matches`), so that the pages of one search, and the
//!   same search made again, slice them instead of reading and sorting every match once more
//!   (q=dental at 10,000 organizations: 355 matches, the most costly statement of the page);
//! - the ids of the pages shown sorted by name (`search_pages::list`), so that a page shown again
//!   (a common term's first page, walked along the name order: q=dental at 100,000 organizations
//!   passes over about 900 names on PostgreSQL) reads its rows by id only.
//!
//! They are labelled like the name blocks (`name_blocks`): with the newest version of the
//! organizations' marks this process had seen before it read them, which every insert, rename,
//! deletion and restore moves (migrations 000310 and 000320), on any instance. A request uses
//! them only while that label is still the newest version seen, that is the one read with its
//! own session, so it never gets matches older than its session's read. Every search kept is
//! of a user who sees every organization with no filter but the text (`search_pages::plain`);
//! a page is kept only sorted by name, which no other change moves (an edit moves an
//! organization in the order by update without moving the version).

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

/// Ids kept in all, at most (8 bytes each: 1.6 MB). One search has at most `search::GATHERED`.
const KEPT_IDS: usize = 200_000;
/// Searches and pages kept, at most.
const KEPT_SEARCHES: usize = 256;

/// One search: its needle (`search::needle`) and whether its matches are sorted backwards.
type Key = (String, bool);

/// One page of a search sorted by name.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct PageKey {
    pub needle: String,
    pub descending: bool,
    pub page: i64,
    pub per_page: i64,
    /// The anchor of a page reached by Next or Previous: before it (or after), its id, the
    /// rows skipped.
    pub anchor: Option<(bool, i64, i64)>,
}

/// What a page of a search showed: its organizations' ids in order, and its count.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeptPage {
    pub ids: Vec<i64>,
    pub total: i64,
    pub capped: bool,
    pub next: bool,
}

#[derive(Default)]
struct Kept {
    version: i64,
    ids: usize,
    searches: HashMap<Key, Arc<[i64]>>,
    pages: HashMap<PageKey, Arc<KeptPage>>,
}

impl Kept {
    /// Makes room for `more` ids at `label` (not older than what is kept): what is kept is
    /// dropped when it is of an older version or when the bounds would be passed.
    fn room(&mut self, label: i64, more: usize) {
        if label > self.version
            || self.ids + more > KEPT_IDS
            || self.searches.len() + self.pages.len() >= KEPT_SEARCHES
        {
            *self = Kept {
                version: label,
                ..Kept::default()
            };
        }
        self.ids += more;
    }
}

/// What recent searches found, all of one version.
#[derive(Default)]
pub struct SearchMatches {
    kept: Mutex<Kept>,
}

impl SearchMatches {
    /// What is kept, when it is of `newest` (the newest version the process has seen).
    fn at(&self, newest: i64) -> Option<MutexGuard<'_, Kept>> {
        let kept = self.kept.lock().unwrap_or_else(PoisonError::into_inner);
        (kept.version == newest && newest > 0).then_some(kept)
    }

    /// What is kept, with room for `more` ids read after `label` was the newest version seen;
    /// None when `label` is older than what is kept (then nothing is kept).
    fn room(&self, label: i64, more: usize) -> Option<MutexGuard<'_, Kept>> {
        let mut kept = self.kept.lock().unwrap_or_else(PoisonError::into_inner);
        if label <= 0 || label < kept.version || more > KEPT_IDS {
            return None;
        }
        kept.room(label, more);
        Some(kept)
    }

    /// The matches of `needle` in name order (backwards when `descending`), when they were
    /// read at `newest`.
    pub fn get(&self, newest: i64, needle: &str, descending: bool) -> Option<Arc<[i64]>> {
        let kept = self.at(newest)?;
        kept.searches.get(&(needle.to_owned(), descending)).cloned()
    }

    /// Keeps the matches of `needle`, read after `label` was the newest version seen. Those of
    /// an older version are dropped; matches of a version older than those kept are not kept.
    /// When the bounds are reached, everything kept is dropped first.
    pub fn keep(&self, label: i64, needle: &str, descending: bool, ids: Arc<[i64]>) {
        let Some(mut kept) = self.room(label, ids.len()) else {
            return;
        };
        if let Some(old) = kept.searches.insert((needle.to_owned(), descending), ids) {
            kept.ids -= old.len();
        }
    }

    /// The page of `key`, when it was shown at `newest`.
    pub fn page(&self, newest: i64, key: &PageKey) -> Option<Arc<KeptPage>> {
        self.at(newest)?.pages.get(key).cloned()
    }

    /// Keeps a page shown after `label` was the newest version seen (as `keep`).
    pub fn keep_page(&self, label: i64, key: PageKey, page: KeptPage) {
        let Some(mut kept) = self.room(label, page.ids.len()) else {
            return;
        };
        if let Some(old) = kept.pages.insert(key, Arc::new(page)) {
            kept.ids -= old.ids.len();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ids(n: i64) -> Arc<[i64]> {
        (0..n).collect::<Vec<_>>().into()
    }

    #[test]
    fn matches_are_given_back_only_at_the_version_they_were_read() {
        let matches = SearchMatches::default();
        matches.keep(3, "dental", false, ids(5));
        assert_eq!(matches.get(3, "dental", false).as_deref(), Some(&*ids(5)));
        assert!(matches.get(3, "dental", true).is_none());
        assert!(matches.get(3, "clinic", false).is_none());
        assert!(matches.get(4, "dental", false).is_none());
        // An older read is not kept over newer ones; a newer one drops the older.
        matches.keep(2, "clinic", false, ids(2));
        assert!(matches.get(3, "clinic", false).is_none());
        matches.keep(4, "clinic", false, ids(2));
        assert!(matches.get(4, "dental", false).is_none());
        assert_eq!(matches.get(4, "clinic", false).as_deref(), Some(&*ids(2)));
        // Nothing is kept before a version was seen.
        let fresh = SearchMatches::default();
        fresh.keep(0, "dental", false, ids(1));
        assert!(fresh.get(0, "dental", false).is_none());
    }

    #[test]
    fn what_is_kept_stays_within_its_bounds() {
        let matches = SearchMatches::default();
        let big = i64::try_from(KEPT_IDS / 2).unwrap_or(i64::MAX);
        matches.keep(1, "a", false, ids(big));
        matches.keep(1, "b", false, ids(big));
        assert!(matches.get(1, "a", false).is_some());
        // A third half would pass the bound: the rest is dropped for it.
        matches.keep(1, "c", false, ids(big));
        assert!(matches.get(1, "a", false).is_none());
        assert!(matches.get(1, "c", false).is_some());
        // Replacing a search counts its ids once.
        matches.keep(1, "c", false, ids(big));
        matches.keep(1, "d", false, ids(big));
        assert!(matches.get(1, "c", false).is_some());
        for n in 0..KEPT_SEARCHES {
            matches.keep(1, &n.to_string(), false, ids(1));
        }
        let kept = matches.kept.lock().unwrap();
        assert!(kept.searches.len() <= KEPT_SEARCHES);
        assert!(kept.ids <= KEPT_IDS);
    }

    fn page_key(page: i64) -> PageKey {
        PageKey {
            needle: "dental".into(),
            descending: false,
            page,
            per_page: 25,
            anchor: None,
        }
    }

    #[test]
    fn pages_share_the_version_and_the_bounds_of_the_matches() {
        let matches = SearchMatches::default();
        let shown = KeptPage {
            ids: vec![4, 2],
            total: 500,
            capped: true,
            next: true,
        };
        matches.keep(5, "dental", false, ids(3));
        matches.keep_page(5, page_key(1), shown.clone());
        assert_eq!(matches.page(5, &page_key(1)).as_deref(), Some(&shown));
        assert!(matches.page(5, &page_key(2)).is_none());
        assert!(matches.get(5, "dental", false).is_some());
        let anchored = PageKey {
            anchor: Some((false, 4, 0)),
            ..page_key(1)
        };
        assert!(matches.page(5, &anchored).is_none());
        assert!(matches.page(6, &page_key(1)).is_none());
        // A newer version drops both kinds.
        matches.keep_page(6, page_key(2), shown.clone());
        assert!(matches.get(6, "dental", false).is_none());
        assert!(matches.page(6, &page_key(1)).is_none());
        for n in 0..=KEPT_SEARCHES {
            matches.keep_page(6, page_key(i64::try_from(n).unwrap()), shown.clone());
        }
        let kept = matches.kept.lock().unwrap();
        assert!(kept.searches.len() + kept.pages.len() <= KEPT_SEARCHES);
        assert_eq!(kept.ids, 2 * kept.pages.len());
    }
}
