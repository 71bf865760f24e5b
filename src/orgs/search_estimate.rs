//! How many organizations hold a text, and where they lie in name order, estimated from a sample
//! of `organizations.search_text` kept in the process, so that a search asks nothing of the
//! database to decide between counting its matches and saying "more than".
//!
//! On PostgreSQL the sample is its own statistics (the histogram `ANALYZE` keeps: 1,001 evenly
//! spaced values, see migration 000260): the planner's own estimate (`EXPLAIN`) cost a statement
//! per search, planned against the same histogram. SQLite keeps no such statistics of a text
//! column: its sample is read here, up to 1,001 organizations picked by id across the table
//! (`SQLITE_SAMPLE`: 1,001 pages read at random, 9-14 ms at 100,000 from the OS cache, once
//! per `REFRESH`), however sparse deletions have left the ids. Without it, an FTS5 probe that counts a common term's first 1,001 matches
//! cost three times the list page.
//!
//! The estimate is the share of sampled values that contain the text, times the table's rows,
//! as the planner computes it for `LIKE '%text%'`. The values are read again after `REFRESH`
//! (an instance does not see another's `ANALYZE` sooner; a stale estimate only picks the slower
//! of two exact answers or says "more than" of a term whose count changed by half). Without
//! a sample (a new PostgreSQL database before its first `ANALYZE`, fewer than `MIN_VALUES`
//! organizations) there is no estimate and the matches are counted.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use diesel::pg::PgConnection;
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Double, Nullable, Text};

use crate::db::DbConn;

/// How long a read of the statistics is used.
const REFRESH: Duration = Duration::from_secs(300);

/// Fewer histogram values than this say too little to skip counting.
const MIN_VALUES: usize = 100;

/// Values of the histogram that must hold a text for its estimate to be used: with fewer, chance
/// decides it (at a million organizations each value stands for a thousand of them).
const MIN_HOLDING: usize = 8;

/// The statistics last read, shared by the requests of one instance (`AppState`).
#[derive(Default)]
pub struct SearchStats {
    read: Mutex<Option<Arc<Sample>>>,
}

struct Sample {
    at: Instant,
    /// The table's rows as PostgreSQL last counted them (SQLite: those not being deleted).
    rows: f64,
    /// The sampled values (lower-cased search texts) in name order; empty without statistics.
    values: Vec<String>,
    /// How many of the values hold each of their trigrams (three characters); SQLite only.
    trigrams: HashMap<String, usize>,
}

#[derive(QueryableByName)]
struct Read {
    #[diesel(sql_type = Double)]
    rows: f64,
    #[diesel(sql_type = Nullable<Text>)]
    values: Option<String>,
}

/// Where the organizations holding a text lie in name order, by the histogram.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Reach {
    /// How many hold it.
    pub holding: f64,
    /// How many come before the first of them, in name order.
    pub before: f64,
    /// How many come after the last of them.
    pub after: f64,
}

impl SearchStats {
    /// The organizations expected to hold `needle` (lower-cased), or None without statistics or
    /// when fewer than `MIN_HOLDING` of the histogram's values hold it (count them instead).
    pub fn estimate(&self, conn: &mut DbConn, needle: &str) -> QueryResult<Option<f64>> {
        let sample = self.sample(conn)?;
        Ok(share(&sample.values, needle, MIN_HOLDING).map(|share| share * sample.rows))
    }

    /// Where the organizations holding `needle` lie in name order, or None without statistics
    /// or when no value of the histogram holds it.
    pub fn reach(&self, conn: &mut DbConn, needle: &str) -> QueryResult<Option<Reach>> {
        let sample = self.sample(conn)?;
        Ok(
            reach(&sample.values, needle).map(|(holding, before, after)| Reach {
                holding: holding * sample.rows,
                before: before * sample.rows,
                after: after * sample.rows,
            }),
        )
    }

    /// Up to `n` of the trigrams of `needle` (lower-cased, three characters or more), those
    /// that the fewest sampled values hold first: ANDed, they find a superset of its matches
    /// that is cheaper to read than the whole phrase (SQLite's FTS5 reads every trigram's list
    /// with its positions: "ironwood law" at 100,000 organizations, ten trigrams, 1.5 ms; two
    /// of them, 0.36 ms). None without a sample.
    pub fn rarest(
        &self,
        conn: &mut DbConn,
        needle: &str,
        n: usize,
    ) -> QueryResult<Option<Vec<String>>> {
        let sample = self.sample(conn)?;
        if sample.values.len() < MIN_VALUES {
            return Ok(None);
        }
        let mut held: Vec<(usize, String)> = grams(needle)
            .into_iter()
            .map(|g| (sample.trigrams.get(&g).copied().unwrap_or(0), g))
            .collect();
        held.sort_unstable();
        Ok(Some(held.into_iter().take(n).map(|(_, g)| g).collect()))
    }

    fn sample(&self, conn: &mut DbConn) -> QueryResult<Arc<Sample>> {
        let mut read = self.read.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(sample) = read.as_ref().filter(|s| s.at.elapsed() < REFRESH) {
            return Ok(sample.clone());
        }
        // Only SQLite's search asks for the rarest trigrams (`rarest`).
        let (rows, values, trigrams) = match conn {
            DbConn::Pg(pg) => {
                let (rows, values) = histogram(pg)?;
                (rows, values, HashMap::new())
            }
            DbConn::Sqlite(c) => {
                let (rows, values) = sampled(c)?;
                let held = trigrams(&values);
                (rows, values, held)
            }
        };
        let sample = Arc::new(Sample {
            at: Instant::now(),
            rows,
            trigrams,
            values,
        });
        *read = Some(sample.clone());
        Ok(sample)
    }
}

/// PostgreSQL's rows and histogram of `search_text` (no values before the first `ANALYZE`).
fn histogram(pg: &mut PgConnection) -> QueryResult<(f64, Vec<String>)> {
    let found = diesel::sql_query(
        "SELECT GREATEST(c.reltuples, 0)::float8 AS rows, \
                (SELECT array_to_json(s.histogram_bounds::text::text[])::text \
                 FROM pg_stats s \
                 WHERE s.schemaname = n.nspname AND s.tablename = c.relname \
                   AND s.attname = 'search_text') AS values \
         FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace \
         WHERE c.oid = 'organizations'::regclass",
    )
    .get_result::<Read>(pg)?;
    let values = found
        .values
        .and_then(|json| serde_json::from_str::<Vec<String>>(&json).ok())
        .unwrap_or_default();
    Ok((found.rows, values))
}

/// SQLite's sample: for each of 1,001 points picked across the span of ids (`i * 2654435761 mod
/// span`: a prime step, so the points are distinct and fall on every residue of a name pattern
/// that repeats with the ids), the first organization not being deleted at or after it, read by
/// its key (however many ids deletions have left unused); with the organizations not being
/// deleted, from their maintained counts. The `+` keeps `deleted_at` off the indexes: with the
/// statistics `PRAGMA optimize` gathers (each `deleted_at` taken for 1,001 rows of 100,000) the
/// planner read every organization not being deleted through an index led by it and sorted them
/// by id, for each point (14 s at 100,000, on the search that found the sample expired).
const SQLITE_SAMPLE: &str = "WITH RECURSIVE \
    bounds(lo, span) AS (SELECT (SELECT min(id) FROM organizations), \
                                (SELECT max(id) FROM organizations) \
                                - (SELECT min(id) FROM organizations) + 1), \
    pick(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM pick WHERE i < 1000), \
    found(id) AS (SELECT DISTINCT (SELECT n.id FROM organizations n \
                                   WHERE n.id >= b.lo + (pick.i * 2654435761) % b.span \
                                     AND +n.deleted_at IS NULL ORDER BY n.id LIMIT 1) \
                  FROM bounds b, pick) \
    SELECT (SELECT CAST(COALESCE(SUM(total), 0) AS BIGINT) FROM organization_counts) AS alive, \
           o.search_text AS search_text \
    FROM found JOIN organizations o ON o.id = found.id";

#[derive(QueryableByName)]
struct Picked {
    #[diesel(sql_type = BigInt)]
    alive: i64,
    #[diesel(sql_type = Text)]
    search_text: String,
}

fn sampled(c: &mut diesel::SqliteConnection) -> QueryResult<(f64, Vec<String>)> {
    let picked: Vec<Picked> = diesel::sql_query(SQLITE_SAMPLE).load(c)?;
    let rows = picked.first().map_or(0, |p| p.alive) as f64;
    // SQLite orders text by its bytes, as `str` does.
    let mut values: Vec<String> = picked.into_iter().map(|p| p.search_text).collect();
    values.sort_unstable();
    Ok((rows, values))
}

/// The distinct trigrams of `text`, by characters, as SQLite's FTS5 trigram tokenizer makes them.
fn grams(text: &str) -> Vec<String> {
    let chars: Vec<char> = text.chars().collect();
    let mut grams: Vec<String> = chars.windows(3).map(|w| w.iter().collect()).collect();
    grams.sort_unstable();
    grams.dedup();
    grams
}

/// How many of `values` hold each trigram.
fn trigrams(values: &[String]) -> HashMap<String, usize> {
    let mut held = HashMap::new();
    for value in values {
        for gram in grams(value) {
            *held.entry(gram).or_insert(0) += 1;
        }
    }
    held
}

/// The share of `values` that contain `needle`, or None when they are too few to tell or fewer
/// than `at_least` of them hold it.
fn share(values: &[String], needle: &str, at_least: usize) -> Option<f64> {
    if values.len() < MIN_VALUES {
        return None;
    }
    let holding = values.iter().filter(|v| v.contains(needle)).count();
    (holding >= at_least).then(|| holding as f64 / values.len() as f64)
}

/// The shares of `values` (in the column's order) that hold `needle`, come before the first
/// that does, and after the last; None when they are too few or none holds it.
fn reach(values: &[String], needle: &str) -> Option<(f64, f64, f64)> {
    let holding = share(values, needle, 1)?;
    let first = values.iter().position(|v| v.contains(needle))?;
    let last = values.iter().rposition(|v| v.contains(needle))?;
    let n = values.len() as f64;
    Some((
        holding,
        first as f64 / n,
        (values.len() - 1 - last) as f64 / n,
    ))
}

#[cfg(test)]
mod tests {
    use super::{reach, share};

    #[test]
    fn the_share_is_of_values_holding_the_text_anywhere() {
        let values: Vec<String> = (0..200)
            .map(|i| match i % 4 {
                0 => format!("alpha dental {i}"),
                1 => format!("dental{i} llc"),
                _ => format!("beta law {i}"),
            })
            .collect();
        assert_eq!(share(&values, "dental", 1), Some(0.5));
        assert_eq!(share(&values, "law", 1), Some(0.5));
        assert_eq!(share(&values, "zzz", 0), Some(0.0));
        assert_eq!(share(&values, "dental7", 1), Some(0.01));
        assert_eq!(share(&values, "dental7", super::MIN_HOLDING), None);
    }

    #[test]
    fn the_reach_is_where_the_holders_begin_and_end() {
        let values: Vec<String> = (0..200)
            .map(|i| {
                if (150..190).contains(&i) {
                    format!("northwind {i}")
                } else {
                    format!("other {i}")
                }
            })
            .collect();
        assert_eq!(reach(&values, "northwind"), Some((0.2, 0.75, 0.05)));
        assert_eq!(reach(&values, "zzz"), None);
    }

    #[test]
    fn trigrams_are_counted_once_per_value() {
        assert_eq!(super::grams("abcab"), ["abc", "bca", "cab"]);
        assert_eq!(super::grams("ab"), Vec::<String>::new());
        assert_eq!(super::grams("ñandú"), ["and", "ndú", "ñan"]);
        let held = super::trigrams(&["aaaa".to_owned(), "aaab".to_owned()]);
        assert_eq!(held.get("aaa"), Some(&2));
        assert_eq!(held.get("aab"), Some(&1));
    }

    /// Each point of SQLite's sample is one step along the table by id, with the statistics
    /// `PRAGMA optimize` left in a database of 100,000 organizations (`deleted_at` seemingly
    /// selective): not a read of every organization through an index, sorted by id.
    #[test]
    fn sqlite_samples_each_point_by_its_key() {
        let mut conn = crate::db::sqlite_plans::skewed();
        let plan = crate::db::sqlite_plans::plan(&mut conn, super::SQLITE_SAMPLE);
        assert!(
            plan.iter()
                .any(|s| s.contains("SEARCH n USING INTEGER PRIMARY KEY (rowid>?)")),
            "{plan:#?}"
        );
        assert!(
            !plan
                .iter()
                .any(|s| s.contains("SEARCH n USING COVERING INDEX")),
            "{plan:#?}"
        );
    }

    #[test]
    fn too_few_values_give_no_share() {
        let values = vec!["dental".to_owned(); 99];
        assert_eq!(share(&values, "dental", 1), None);
    }
}
