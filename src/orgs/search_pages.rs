//! Pages of a search in the Organizations list, one evaluation of the search per request. A term
//! with at most `COUNTED_PAGES` pages of matches is found through the trigram index: the database
//! puts every match in order, they are counted, and any page is a slice of them. A term with more
//! is shown as "more than N" (counting a common word at a million organizations reads tens of
//! thousands of rows): its pages are walked along the list's sort index, testing each row, which
//! fills a page after a few hundred rows; the pages up to the cap are reached by number, the
//! pages past it by the anchored links (Next, Previous) only.

use std::sync::Arc;

use diesel::prelude::*;
use diesel::sql_types::Bool;

use super::ListCaches;
use super::access::{OrgFilter, Scope, on_list};
use super::list_sql::multi::{Boxed, anchor_key, narrow, narrowed, read, read_by_ids, walk_query};
use super::list_sql::on_backend;
use super::model::ListItem;
use super::name_blocks::Stretch;
use super::paging::Anchor;
use super::paging::{MAX_SKIP, Start, Walk};
use super::search::{self, Probe};
use super::search_estimate::{Reach, SearchStats};
use super::search_matches::{KeptPage, PageKey};
use super::search_stretches::Stretched;
use super::store::{ListQuery, Page, Sort, filtered};
use crate::db::schema::organizations;
use crate::db::{Backend, DbConn, any_of, prepared};

/// How many pages of matches a search counts; past them it says "more than".
pub const COUNTED_PAGES: i64 = 20;

/// One page of a search (`query.text` set): as it was shown before when nothing changed the
/// names since (`search_matches`), else found anew.
pub(super) fn list(
    conn: &mut DbConn,
    caches: &ListCaches,
    scope: Scope,
    query: &ListQuery,
) -> QueryResult<Page<ListItem>> {
    // The version read with this request's session, or a newer one: before the page's reads.
    let newest = caches.marks.newest();
    let key = page_key(scope, query);
    if let Some(kept) = key.as_ref().and_then(|k| caches.matches.page(newest, k)) {
        return Ok(Page {
            items: on_backend!(conn, |sql, c| sql::rows_by_id(c, &kept.ids))?,
            total: kept.total,
            capped: kept.capped,
            page: query.page.max(1),
            per_page: query.per_page.max(1),
            next: kept.next,
        });
    }
    let page = found(conn, caches, scope, query)?;
    if let Some(key) = key {
        let shown = KeptPage {
            ids: page.items.iter().map(|item| item.id).collect(),
            total: page.total,
            capped: page.capped,
            next: page.next,
        };
        caches.matches.keep_page(newest, key, shown);
    }
    Ok(page)
}

/// What names a page of a plain search sorted by name (which nothing but the names decides), by
/// its text, order, number and anchor.
fn page_key(scope: Scope, query: &ListQuery) -> Option<PageKey> {
    let descending = match query.sort {
        Sort::Name => false,
        Sort::NameDesc => true,
        Sort::Updated | Sort::UpdatedDesc => return None,
    };
    let page = query.page.max(1);
    plain(scope, query).then(|| PageKey {
        needle: search::needle(query.text.as_deref().unwrap_or_default()),
        descending,
        page,
        per_page: query.per_page.max(1),
        anchor: query.anchor.filter(|_| page > 1).map(|a| match a {
            Anchor::After { id, skip } => (false, id, skip),
            Anchor::Before { id, skip } => (true, id, skip),
        }),
    })
}

/// One page of a search, found: with the name blocks when they are current.
fn found(
    conn: &mut DbConn,
    caches: &ListCaches,
    scope: Scope,
    query: &ListQuery,
) -> QueryResult<Page<ListItem>> {
    let stats = &caches.search;
    let blocks = caches.name_blocks();
    let text = query.text.as_deref().unwrap_or_default();
    let cap = COUNTED_PAGES * query.per_page.max(1);
    // The stretches of the name order that may hold the text; none without blocks, for a text
    // of one character, and for a restricted scope (its access list is small).
    let stretches = blocks
        .filter(|_| scope.all)
        .and_then(|b| b.stretches(&search::needle(text)));
    let stretches = stretches.as_deref();
    if stretches.is_some_and(<[Stretch]>::is_empty) {
        // No block holds the text: nothing matches.
        return Ok(Page {
            items: Vec::new(),
            total: 0,
            capped: false,
            page: query.page.max(1),
            per_page: query.per_page.max(1),
            next: false,
        });
    }
    if plain(scope, query) {
        match gathered(conn, caches, stretches.is_some(), query, text, cap)? {
            Gathered::Ordered(ordered) => return sliced(conn, query, &ordered, cap),
            Gathered::Common => return walked(conn, scope, query, text, stretches, cap),
            Gathered::Unknown => {}
        }
    }
    match few(conn, stats, stretches, scope, query, text, cap)? {
        Some(ids) => counted(conn, scope, query, text, ids),
        None => walked(conn, scope, query, text, stretches, cap),
    }
}

/// Organizations a walk from the start of the list may read before its first match; a term whose
/// matches begin deeper (or, sorted backwards, end earlier) is paged from its matches instead.
const DEEP_ROWS: f64 = 5_000.0;

/// Rows a walk passes over for the cost of one match read and sorted (`search::ordered_matches`:
/// a row looked up by id and a name each, on SQLite 2-3 us against 0.17-0.2 us a row passed
/// over): a term is paged from its matches when the walk would pass over this many times more
/// rows than there are matches. "northwind" at a million organizations (25,000 matches behind
/// 500,000 names) on SQLite: walked, 100-130 ms of CPU a page; read and sorted, 78-84 ms.
const WALKED_PER_GATHERED: f64 = 10.0;

/// Whether the list is searched with no other filter by a user who sees every organization.
fn plain(scope: Scope, query: &ListQuery) -> bool {
    scope.all
        && query.type_id.is_none()
        && query.status_id.is_none()
        && query.psa_linked.is_none()
        && query.parent.is_none()
}

/// What `gathered` found for a plain search.
enum Gathered {
    /// Every match, in the list's order.
    Ordered(Arc<[i64]>),
    /// The sample calls the term common, its matches spread: walk.
    Common,
    /// Sorted by update, shorter than a trigram, or more than `GATHERED` hits: count or walk
    /// as any search (`few`).
    Unknown,
}

/// Every match in the list's name order, read through the trigram index in one statement, when
/// the sample of names (`search_estimate`) does not call the term common (few matches: counted
/// and sliced; a probe for their ids and a second statement to order them cost twice as much),
/// or says that its matches lie so deep in the name order that a walk would read many more rows
/// to reach them than there are matches (`deep`; a name most matches start with: "northwind" at 100,000
/// organizations walked 60,000 rows for its first page, 48 ms on PostgreSQL; read and sorted,
/// 9 ms). A common term spread through the list is walked at once (its estimate is not made a
/// second time by `few`'s probe). The matches read are kept for the next pages of the search
/// (`search_matches`), and taken from there while nothing changed the names.
fn gathered(
    conn: &mut DbConn,
    caches: &ListCaches,
    stretched: bool,
    query: &ListQuery,
    text: &str,
    cap: i64,
) -> QueryResult<Gathered> {
    let descending = match query.sort {
        Sort::Name => false,
        Sort::NameDesc => true,
        Sort::Updated | Sort::UpdatedDesc => return Ok(Gathered::Unknown),
    };
    if !search::indexable(text) {
        return Ok(Gathered::Unknown);
    }
    let stats = &caches.search;
    // The version read with this request's session, or a newer one: before the matches.
    let newest = caches.marks.newest();
    let needle = search::needle(text);
    if let Some(kept) = caches.matches.get(newest, &needle, descending) {
        return Ok(Gathered::Ordered(kept));
    }
    // With the name blocks, a walk passes over none of the names in front of the matches.
    if search::common(conn, stats, text, cap + 1)?
        && (stretched || !deep(conn, stats, text, descending)?)
    {
        return Ok(Gathered::Common);
    }
    // More than `GATHERED` hits may be SQLite's superset of fewer matches: `few` counts them.
    let Some(ordered) = search::ordered_matches(conn, stats, text, descending)? else {
        return Ok(Gathered::Unknown);
    };
    let ordered: Arc<[i64]> = ordered.into();
    caches
        .matches
        .keep(newest, &needle, descending, Arc::clone(&ordered));
    Ok(Gathered::Ordered(ordered))
}

/// Whether the sample says a walk would read more rows before the term's first match (its
/// last, `descending`) than `DEEP_ROWS` and than `WALKED_PER_GATHERED` times its matches, and
/// that they are at most `GATHERED`.
fn deep(conn: &mut DbConn, stats: &SearchStats, text: &str, descending: bool) -> QueryResult<bool> {
    Ok(search::reach(conn, stats, text)?.is_some_and(|reach| walk_is_longer(&reach, descending)))
}

/// `deep`'s rule for where the matches lie.
fn walk_is_longer(reach: &Reach, descending: bool) -> bool {
    let before = if descending {
        reach.after
    } else {
        reach.before
    };
    before >= DEEP_ROWS.max(reach.holding * WALKED_PER_GATHERED)
        && reach.holding <= search::GATHERED as f64
}

/// The page of `ordered` (every match, in the list's order) the query asks for: counted when
/// they are at most `cap`, else shown as "more than" with the pages past the cap reached by
/// their anchors only, as a walk shows them.
fn sliced(
    conn: &mut DbConn,
    query: &ListQuery,
    ordered: &[i64],
    cap: i64,
) -> QueryResult<Page<ListItem>> {
    let page = query.page.max(1);
    let per_page = query.per_page.max(1);
    let capped = len(ordered) > cap;
    let anchor = query.anchor.filter(|_| page > 1);
    let anchored = anchor.is_some_and(|a| {
        let (Anchor::After { id, .. } | Anchor::Before { id, .. }) = a;
        ordered.contains(&id)
    });
    let (start, end) = if capped && !anchored && (page - 1).saturating_mul(per_page) >= cap {
        (ordered.len(), ordered.len())
    } else {
        slice(ordered, anchor, page, per_page)
    };
    Ok(Page {
        items: on_backend!(conn, |sql, c| sql::rows_by_id(c, &ordered[start..end]))?,
        total: if capped { cap } else { len(ordered) },
        capped,
        page,
        per_page,
        next: end < ordered.len(),
    })
}

fn len(ids: &[i64]) -> i64 {
    i64::try_from(ids.len()).unwrap_or(i64::MAX)
}

/// Ids among which every match is, when there are at most `cap` matches; `None` when there are
/// more.
fn few(
    conn: &mut DbConn,
    stats: &SearchStats,
    stretches: Option<&[Stretch]>,
    scope: Scope,
    query: &ListQuery,
    text: &str,
    cap: i64,
) -> QueryResult<Option<Vec<i64>>> {
    if plain(scope, query) && search::indexable(text) {
        // The trigram index alone, stopped after `cap + 1` ids: cheap for any term on SQLite,
        // for rare ones on PostgreSQL (whose estimate answers for common ones).
        let ids = match search::indexed(conn, stats, text, cap + 1)? {
            Probe::Ids(ids) => ids,
            Probe::Many => return Ok(None),
        };
        if len(&ids) <= cap {
            return Ok(Some(ids));
        }
        if more_alive(conn, stats, text, &ids, cap)? {
            return Ok(None);
        }
    }
    // A term shorter than a trigram, sorted by name (each stretch is a range of the name index),
    // with the name blocks: the stretches that may hold it.
    let by_name = matches!(query.sort, Sort::Name | Sort::NameDesc);
    if let Some(stretches) = stretches.filter(|_| by_name && !search::indexable(text)) {
        let search = Stretched {
            scope,
            query,
            text,
            stretches,
        };
        let ids = search.ids(conn, cap + 1)?;
        return Ok((len(&ids) <= cap).then_some(ids));
    }
    // Other filters, a restricted user (whose access list bounds the rows read), a term shorter
    // than a trigram: the matches themselves, up to the cap.
    let rows = if scope.all {
        filtered(conn, scope, query)
    } else {
        among(conn, scope, query, None).filter(search::scanning(conn.backend(), text))
    };
    let ids: Vec<i64> = rows.select(organizations::id).limit(cap + 1).load(conn)?;
    Ok((len(&ids) <= cap).then_some(ids))
}

/// Whether more than `cap` organizations hold the text and are not being deleted, given `ids`,
/// more than `cap` of those that hold it.
fn more_alive(
    conn: &mut DbConn,
    stats: &SearchStats,
    text: &str,
    ids: &[i64],
    cap: i64,
) -> QueryResult<bool> {
    match conn.backend() {
        // An index leads with `deleted_at`: the deleted ones (usually none) are counted there,
        // and as many more ids asked for.
        Backend::Sqlite => {
            let deleted: Vec<i64> = organizations::table
                .filter(organizations::deleted_at.is_not_null())
                .select(organizations::id)
                .limit(cap + 1)
                .load(conn)?;
            let deleted = len(&deleted);
            Ok(deleted == 0
                || (deleted <= cap
                    && matches!(
                        search::indexed(conn, stats, text, cap + 1 + deleted)?,
                        Probe::Ids(more) if len(&more) > cap + deleted
                    )))
        }
        // PostgreSQL's probe returned only organizations not being deleted.
        Backend::Postgres => Ok(len(ids) > cap),
    }
}

/// A page of a search with few matches: all of them in order, counted, and the page sliced out.
fn counted(
    conn: &mut DbConn,
    scope: Scope,
    query: &ListQuery,
    text: &str,
    ids: Vec<i64>,
) -> QueryResult<Page<ListItem>> {
    let rows = among(conn, scope, query, Some(ids)).filter(search::scanning(conn.backend(), text));
    let all = Walk {
        from: None,
        reverse: false,
        skip: 0,
        limit: 0,
    };
    let ordered: Vec<i64> = walk_query(rows, query, &all)
        .select(organizations::id)
        .load(conn)?;
    let page = query.page.max(1);
    let per_page = query.per_page.max(1);
    let (start, end) = slice(&ordered, query.anchor.filter(|_| page > 1), page, per_page);
    let items = on_backend!(conn, |sql, c| sql::rows_by_id(c, &ordered[start..end]))?;
    Ok(Page {
        items,
        total: len(&ordered),
        capped: false,
        page,
        per_page,
        next: end < ordered.len(),
    })
}

/// The organizations that the scope may see (of `ids` when given), by every filter but the text,
/// read by id or from the access list. On SQLite `deleted_at` is kept from its index (the unary
/// `+`): without statistics the planner takes `deleted_at IS NULL` for a narrow range and would
/// walk every organization in name order, testing each id.
fn among(conn: &DbConn, scope: Scope, query: &ListQuery, ids: Option<Vec<i64>>) -> Boxed {
    let alive: OrgFilter = match conn.backend() {
        Backend::Sqlite => Box::new(prepared::<Bool>("+organizations.deleted_at IS NULL")),
        Backend::Postgres => Box::new(organizations::deleted_at.is_null()),
    };
    let mut q = organizations::table.into_boxed().filter(alive);
    if let Some(ids) = ids {
        q = q.filter(any_of(organizations::id, &ids));
    }
    if !scope.all {
        q = q.filter(organizations::id.eq_any(on_list(scope)));
    }
    narrow(q, query)
}

/// Where page `page` lies in the ordered matches: after or before its anchor when the anchor is
/// still among them, else by its number.
fn slice(ordered: &[i64], anchor: Option<Anchor>, page: i64, per_page: i64) -> (usize, usize) {
    let at = |id: i64| ordered.iter().position(|o| *o == id);
    let width = usize::try_from(per_page).unwrap_or(usize::MAX);
    let skip = |skip: i64| usize::try_from(skip.clamp(0, MAX_SKIP)).unwrap_or(0);
    let (start, end) = match anchor {
        Some(Anchor::After { id, skip: s }) if at(id).is_some() => {
            let start = at(id).unwrap_or(0) + 1 + skip(s);
            (start, start.saturating_add(width))
        }
        Some(Anchor::Before { id, skip: s }) if at(id).is_some() => {
            let end = at(id).unwrap_or(0).saturating_sub(skip(s));
            (end.saturating_sub(width), end)
        }
        _ => {
            let start = usize::try_from((page - 1).saturating_mul(per_page)).unwrap_or(usize::MAX);
            (start, start.saturating_add(width))
        }
    };
    let end = end.min(ordered.len());
    (start.min(end), end)
}

/// A page of a search with many matches, walked along the sort index from its anchor or, up to
/// the cap, from the start (sorted by name, through the stretches that may hold the text).
fn walked(
    conn: &mut DbConn,
    scope: Scope,
    query: &ListQuery,
    text: &str,
    stretches: Option<&[Stretch]>,
    cap: i64,
) -> QueryResult<Page<ListItem>> {
    let page = query.page.max(1);
    let per_page = query.per_page.max(1);
    let anchored = match query.anchor {
        Some(Anchor::After { id, skip } | Anchor::Before { id, skip }) if page > 1 => {
            anchor_key(conn, scope, id)?.map(|(name, updated, id)| Walk {
                from: Some(Start::Key(name, updated, id)),
                reverse: matches!(query.anchor, Some(Anchor::Before { .. })),
                skip: skip.clamp(0, MAX_SKIP),
                limit: per_page,
            })
        }
        _ => None,
    };
    let offset = (page - 1).saturating_mul(per_page);
    let walk = match anchored {
        Some(walk) => walk,
        None if offset < cap => Walk {
            from: None,
            reverse: false,
            skip: offset,
            limit: per_page,
        },
        // Past the counted pages only an anchor says where a page starts.
        None => {
            return Ok(Page {
                items: Vec::new(),
                total: cap,
                capped: true,
                page,
                per_page,
                next: false,
            });
        }
    };
    let by_name = matches!(query.sort, Sort::Name | Sort::NameDesc);
    if let Some(stretches) = stretches.filter(|_| walk.from.is_none() && by_name) {
        return stretched(conn, scope, query, text, stretches, &walk, cap);
    }
    // Forwards, one row more tells whether a page follows; backwards, the anchor follows.
    let forward = !walk.reverse;
    let walk = Walk {
        limit: walk.limit + i64::from(forward),
        ..walk
    };
    let rows = narrowed(scope, query).filter(search::scanning(conn.backend(), text));
    let mut items = match conn.backend() {
        // SQLite tests the term on the index entry before it reads the row; PostgreSQL does
        // only in an index-only scan, which a statement reading the rows is not: it fetched
        // every row it passed over from the table (q=dental at a million organizations: 6,700
        // for the first page, 44 ms).
        Backend::Sqlite => read(conn, rows, query, &walk)?,
        Backend::Postgres => read_by_ids(conn, rows, query, &walk)?,
    };
    let next = !forward || len_rows(&items) > per_page;
    items.truncate(usize::try_from(per_page).unwrap_or(usize::MAX));
    Ok(Page {
        items,
        total: cap,
        capped: true,
        page,
        per_page,
        next,
    })
}

/// Page `walk` (from the start of the list, up to the cap) of a search with many matches, read
/// through the stretches of the name order that may hold the text.
fn stretched(
    conn: &mut DbConn,
    scope: Scope,
    query: &ListQuery,
    text: &str,
    stretches: &[Stretch],
    walk: &Walk,
    cap: i64,
) -> QueryResult<Page<ListItem>> {
    let per_page = query.per_page.max(1);
    let width = usize::try_from(per_page).unwrap_or(usize::MAX);
    // One more tells whether a page follows.
    let wanted = walk.skip + per_page + 1;
    let search = Stretched {
        scope,
        query,
        text,
        stretches,
    };
    let (items, next) = if walk.skip == 0 && conn.backend() == Backend::Sqlite {
        let mut rows = search.rows(conn, wanted)?;
        let next = rows.len() > width;
        rows.truncate(width);
        (rows, next)
    } else {
        let ids = search.ids(conn, wanted)?;
        let start = usize::try_from(walk.skip)
            .unwrap_or(usize::MAX)
            .min(ids.len());
        let end = start.saturating_add(width).min(ids.len());
        let rows = on_backend!(conn, |sql, c| sql::rows_by_id(c, &ids[start..end]))?;
        (rows, ids.len() > end)
    };
    Ok(Page {
        items,
        total: cap,
        capped: true,
        page: query.page.max(1),
        per_page,
        next,
    })
}

fn len_rows(rows: &[ListItem]) -> i64 {
    i64::try_from(rows.len()).unwrap_or(i64::MAX)
}

#[cfg(test)]
mod tests {
    use super::{Anchor, Reach, slice, walk_is_longer};

    /// Paged from its matches when a walk would pass over ten times more rows than there are
    /// matches (and over 5,000), at most 50,000 of them; walked otherwise.
    #[test]
    fn a_term_is_gathered_when_its_walk_is_ten_times_longer() {
        let reach = |holding, before, after| Reach {
            holding,
            before,
            after,
        };
        // "northwind" at a million organizations.
        assert!(walk_is_longer(
            &reach(25_000.0, 500_000.0, 475_000.0),
            false
        ));
        assert!(walk_is_longer(&reach(25_000.0, 500_000.0, 475_000.0), true));
        // Sorted backwards, a walk starts from the matches' end.
        assert!(!walk_is_longer(&reach(25_000.0, 500_000.0, 3_000.0), true));
        // "dental" at a million: its first match lies 6,700 names in.
        assert!(!walk_is_longer(&reach(35_000.0, 6_700.0, 0.0), false));
        assert!(!walk_is_longer(&reach(1_000.0, 9_000.0, 0.0), false));
        assert!(walk_is_longer(&reach(1_000.0, 10_000.0, 0.0), false));
        assert!(!walk_is_longer(&reach(100.0, 4_000.0, 0.0), false));
        assert!(!walk_is_longer(&reach(60_000.0, 900_000.0, 0.0), false));
    }

    #[test]
    fn a_page_is_sliced_from_its_anchor_or_its_number() {
        let ordered: Vec<i64> = (100..110).collect();
        assert_eq!(slice(&ordered, None, 1, 4), (0, 4));
        assert_eq!(slice(&ordered, None, 3, 4), (8, 10));
        assert_eq!(slice(&ordered, None, 9, 4), (10, 10));
        let after = Anchor::After { id: 103, skip: 0 };
        assert_eq!(slice(&ordered, Some(after), 2, 4), (4, 8));
        let after = Anchor::After { id: 101, skip: 4 };
        assert_eq!(slice(&ordered, Some(after), 3, 2), (6, 8));
        let before = Anchor::Before { id: 106, skip: 0 };
        assert_eq!(slice(&ordered, Some(before), 2, 4), (2, 6));
        let before = Anchor::Before { id: 102, skip: 0 };
        assert_eq!(slice(&ordered, Some(before), 1, 4), (0, 2));
        // An anchor that is no longer a match: the page number decides.
        let gone = Anchor::After { id: 7, skip: 0 };
        assert_eq!(slice(&ordered, Some(gone), 2, 4), (4, 8));
    }
}
